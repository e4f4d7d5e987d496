"""Fails loudly when a trio release changes the private run-loop hooks we rely on.

Everything the controlled scheduler needs from trio's internals lives in
``fuzzer/_trio_internals.py``; these tests pin down each assumption it makes.
"""

from __future__ import annotations

import inspect

import trio
import trio._core._run as trio_run

from fuzzer import _trio_internals
from fuzzer.scheduler import VirtualClock


def test_self_check_passes_on_the_installed_trio() -> None:
    _trio_internals.self_check()


def test_the_batch_region_still_shuffles_through_the_module_random() -> None:
    source = inspect.getsource(trio_run.unrolled_run)
    for expected in (
        "batch = list(runner.runq)",
        "runner.runq.clear()",
        "if _ALLOW_DETERMINISTIC_SCHEDULING:",
        "_r.shuffle(batch)",
        "task = batch.pop()",
        "events = yield timeout",
    ):
        assert expected in source, (
            f"trio {trio.__version__} changed unrolled_run: {expected!r} is gone; "
            f"fuzzer/_trio_internals.py was checked against {_trio_internals.TRIO_VERSIONS_CHECKED}"
        )


def test_setup_runner_and_deadlines_keep_their_shape() -> None:
    parameters = inspect.signature(trio_run.setup_runner).parameters
    assert list(parameters) == [
        "clock",
        "instruments",
        "restrict_keyboard_interrupt_to_checkpoints",
        "strict_exception_groups",
    ]
    assert hasattr(trio_run.Deadlines, "next_deadline")
    assert "runq" in {a.name for a in trio_run.Runner.__attrs_attrs__}


def test_a_stepped_run_runs_only_the_chosen_task_and_keeps_the_others_runnable() -> None:
    order: list[str] = []

    async def main() -> None:
        async def worker(name: str) -> None:
            order.append(name)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(worker, "a", name="a")
            nursery.start_soon(worker, "b", name="b")

    run = _trio_internals.SteppedRun(main, VirtualClock())
    passes = 0
    while not run.done and passes < 100:
        runnable = run.runnable()
        named = {t.name.rpartition(".")[2]: t for t in runnable}
        if "b" in named and "a" in named:
            run.run_pass([named["b"]])  # choose b although a is runnable too
            assert order == ["b"]
            assert named["a"] in run.runnable(), "the unchosen task must stay runnable"
        else:
            run.run_pass(runnable)
        passes += 1
    assert run.done
    assert order == ["b", "a"]
    assert not _trio_internals.in_run_context()


def test_next_deadline_is_exact() -> None:
    seen: list[float] = []

    async def main() -> None:
        await trio.sleep_until(0.75)

    clock = VirtualClock()
    run = _trio_internals.SteppedRun(main, clock)
    for _ in range(100):
        if run.done:
            break
        runnable = run.runnable()
        if runnable:
            run.run_pass(runnable)
        else:
            deadline = run.next_deadline()
            if deadline < float("inf"):
                seen.append(deadline)
                clock.now = deadline
            run.run_pass([])
    assert run.done
    assert seen == [0.75]
