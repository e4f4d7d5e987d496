"""Every seeded bug reproduced by its directed scenario, with exact numbers.

For each bug: (a) its trigger scenario on ``SeededTokenBucket(bugs={id})`` breaks
exactly the invariants the catalogue lists, by the exact amounts; (b) the same
scenario on the correct `TokenBucket` holds, with the exact numbers that show it;
(c) for the bugs that need one interleaving (B02, B05, B07, B10) the other
interleaving stays clean even with the bug on. Each test fails if its bug's
deviation is removed from `targets.seeded_limiter`.
"""

from __future__ import annotations

from collections import Counter

import pytest

from targets.bugs import ALL_BUGS, BUGS, INVARIANTS
from targets.directed import (
    SCENARIOS,
    Observation,
    correct,
    main,
    run_scenario,
    scenarios_for,
    seeded,
)
from targets.seeded_limiter import SeededTokenBucket


def on_seeded(key: str) -> Observation:
    """Run scenario `key` with only its own bug switched on."""
    return run_scenario(key, seeded(SCENARIOS[key].bug))


def on_correct(key: str) -> Observation:
    return run_scenario(key, correct)


def test_B01_ghost_waiter() -> None:
    bad = on_seeded("B01")
    assert bad.broken == ("I1", "I3")
    assert bad.facts == {
        "A.returned": "timeout",
        "A.settles": ("timeout", "granted"),
        "tokens": 0,
        "tokens_expected": 1,
    }
    good = on_correct("B01")
    assert good.broken == ()
    assert good.facts == {
        "A.returned": "timeout",
        "A.settles": ("timeout",),
        "tokens": 1,
        "tokens_expected": 1,
    }


def test_B02_double_resolution() -> None:
    bad = on_seeded("B02")
    assert bad.broken == ("I3", "I1")
    assert bad.facts == {
        "A.returned": "timeout",
        "A.settles": ("granted", "timeout"),
        "tokens": 0,
        "tokens_expected": 1,
        "granted": 1,
        "timed_out": 1,
    }
    good = on_correct("B02")
    assert good.broken == ()
    assert good.facts == {
        "A.returned": "granted",
        "A.settles": ("granted",),
        "tokens": 0,
        "tokens_expected": 0,
        "granted": 1,
        "timed_out": 0,
    }


def test_B02_timer_first_does_not_trigger() -> None:
    timer_first = {
        "A.returned": "timeout",
        "A.settles": ("timeout",),
        "tokens": 1,
        "tokens_expected": 1,
        "granted": 0,
        "timed_out": 1,
    }
    for observation in (on_seeded("B02/timer-first"), on_correct("B02/timer-first")):
        assert observation.broken == ()
        assert observation.facts == timer_first


def test_B03_never_settles() -> None:
    bad = on_seeded("B03")
    assert bad.broken == ("I4",)
    assert bad.facts == {"A.error": None, "A.pending": True, "waiting": 1, "tokens": 2}
    good = on_correct("B03")
    assert good.broken == ()
    assert good.facts == {"A.error": "ValueError", "A.pending": False, "waiting": 0, "tokens": 2}


def test_B04_reentrant_drain() -> None:
    bad = on_seeded("B04")
    assert bad.broken == ("I2", "I1")
    assert bad.facts == {
        "A.returned": "granted",
        "callback_try_acquire": (True,),
        "tokens": -1,
        "received": 2,
        "supplied": 1,
    }
    good = on_correct("B04")
    assert good.broken == ()
    assert good.facts == {
        "A.returned": "granted",
        "callback_try_acquire": (False,),
        "tokens": 0,
        "received": 1,
        "supplied": 1,
    }


def test_B05_double_refill_loop() -> None:
    bad = on_seeded("B05")
    assert bad.broken == ("I1",)
    assert bad.facts == {"ticks": 2, "refilled": 2, "tokens": 2}
    good = on_correct("B05")
    assert good.broken == ()
    assert good.facts == {"ticks": 1, "refilled": 1, "tokens": 1}


def test_B05_sequential_starts_do_not_trigger() -> None:
    for observation in (on_seeded("B05/sequential"), on_correct("B05/sequential")):
        assert observation.broken == ()
        assert observation.facts == {"ticks": 1, "refilled": 1, "tokens": 1}


def test_B06_refill_after_stop() -> None:
    bad = on_seeded("B06")
    assert bad.broken == ("I1", "I4")
    assert bad.facts == {
        "ticks_after_stop": 1,
        "tokens": 1,
        "alive_after_stop": ("TokenBucket.refill_loop",),
    }
    good = on_correct("B06")
    assert good.broken == ()
    assert good.facts == {"ticks_after_stop": 0, "tokens": 0, "alive_after_stop": ()}


def test_B07_barging() -> None:
    bad = on_seeded("B07")
    assert bad.broken == ("I5",)
    assert bad.facts == {
        "newcomer_granted": True,
        "tokens_before_newcomer": 1,
        "W.granted_at": (2.0,),
    }
    good = on_correct("B07")
    assert good.broken == ()
    assert good.facts == {
        "newcomer_granted": False,
        "tokens_before_newcomer": 0,
        "W.granted_at": (1.0,),
    }


def test_B07_newcomer_after_drain_does_not_trigger() -> None:
    for observation in (on_seeded("B07/after-drain"), on_correct("B07/after-drain")):
        assert observation.broken == ()
        assert observation.facts == {
            "newcomer_granted": False,
            "tokens_before_newcomer": 0,
            "W.granted_at": (1.0,),
        }


def test_B08_wrong_waiter_removed() -> None:
    bad = on_seeded("B08")
    assert bad.broken == ("I3", "I1")
    assert bad.facts == {
        "A": ("granted",),
        "B": ("timeout", "granted"),
        "C": (),
        "waiting": 0,
        "tokens": 0,
        "tokens_expected": 1,
    }
    good = on_correct("B08")
    assert good.broken == ()
    assert good.facts == {
        "A": ("granted",),
        "B": ("timeout",),
        "C": ("granted",),
        "waiting": 0,
        "tokens": 0,
        "tokens_expected": 0,
    }


def test_B09_head_of_line_blocking() -> None:
    bad = on_seeded("B09")
    assert bad.broken == ("I5",)
    assert bad.facts == {"tokens": 2, "A": (), "B": (), "fitting_waiters": ("B",)}
    good = on_correct("B09")
    assert good.broken == ()
    assert good.facts == {"tokens": 1, "A": (), "B": ("granted",), "fitting_waiters": ()}


def test_B10_fast_path_without_checkpoint() -> None:
    bad = on_seeded("B10")
    assert bad.broken == ("I6",)
    assert bad.facts == {"raised_cancelled": False, "tokens": 1}
    good = on_correct("B10")
    assert good.broken == ()
    assert good.facts == {"raised_cancelled": True, "tokens": 2}


def test_B10_stale_remaining() -> None:
    bad = on_seeded("B10/stale")
    assert bad.broken == ("I6",)
    assert bad.facts == {"W.remaining": 1, "W.tokens_after": 0, "other_acquire": (True,)}
    good = on_correct("B10/stale")
    assert good.broken == ()
    assert good.facts == {"W.remaining": 0, "W.tokens_after": 0, "other_acquire": (True,)}


def test_B10_caller_resuming_first_does_not_trigger() -> None:
    for observation in (on_seeded("B10/fresh"), on_correct("B10/fresh")):
        assert observation.broken == ()
        assert observation.facts == {
            "W.remaining": 1,
            "W.tokens_after": 1,
            "other_acquire": (True,),
        }


def test_B11_stop_drops_reentrant_waiters() -> None:
    bad = on_seeded("B11")
    assert bad.broken == ("I3", "I4")
    assert bad.facts == {"W": ("stopped",), "R": (), "waiting": 0}
    good = on_correct("B11")
    assert good.broken == ()
    assert good.facts == {"W": ("stopped",), "R": ("stopped",), "waiting": 0}


def test_B11_reacquire_in_a_new_task_is_stopped_either_way() -> None:
    for observation in (on_seeded("B11/spawned"), on_correct("B11/spawned")):
        assert observation.broken == ()
        assert observation.facts == {"W": ("stopped",), "R": ("stopped",), "waiting": 0}


# ----------------------------------------------------------------- cross-checks


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_no_bugs_behaves_exactly_like_the_correct_limiter(key: str) -> None:
    assert run_scenario(key, seeded()) == run_scenario(key, correct)


@pytest.mark.parametrize("bug", sorted(ALL_BUGS))
def test_observed_invariants_are_the_catalogued_ones(bug: str) -> None:
    broken: list[str] = []
    for scenario in scenarios_for(bug):
        if scenario.triggers:
            broken += [i for i in on_seeded(scenario.key).broken if i not in broken]
    assert tuple(broken) == BUGS[bug].invariants


def test_every_trigger_still_fires_with_all_eleven_bugs_on() -> None:
    article = seeded(*sorted(ALL_BUGS))
    for scenario in SCENARIOS.values():
        if scenario.triggers:
            assert run_scenario(scenario.key, article).violated, scenario.key


def test_interleaving_bugs_have_a_clean_other_interleaving() -> None:
    for bug in sorted(ALL_BUGS):
        kinds = {scenario.triggers for scenario in scenarios_for(bug)}
        assert True in kinds, bug
        if bug in {"B02", "B05", "B07", "B10"}:
            assert False in kinds, bug


def test_catalogue_matches_the_spec_shape() -> None:
    assert sorted(BUGS) == [f"B{n:02d}" for n in range(1, 12)]
    assert frozenset(BUGS) == ALL_BUGS
    assert INVARIANTS == {
        "I1": "conservation",
        "I2": "bounds",
        "I3": "single resolution",
        "I4": "liveness",
        "I5": "fairness",
        "I6": "timing contract",
    }
    for bug_id, info in BUGS.items():
        assert info.id == bug_id
        assert info.invariants and set(info.invariants) <= set(INVARIANTS)
    categories = Counter(info.category for info in BUGS.values())
    assert categories == {"promises": 3, "timing": 3, "ordering": 3, "sync/async": 2}


def test_seeded_limiter_rejects_unknown_bug_ids() -> None:
    with pytest.raises(ValueError, match=r"unknown bug ids \['B12'\].*B01, B02"):
        SeededTokenBucket(1, 1, 1, nursery=None, bugs={"B01", "B12"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not the string"):
        SeededTokenBucket(1, 1, 1, nursery=None, bugs="B01")  # type: ignore[arg-type]


def test_main_prints_the_table_and_succeeds(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "11/11 bugs reproduced" in out
    for bug_id, info in BUGS.items():
        assert any(line.startswith(bug_id) and info.name in line for line in out.splitlines())
