"""Hypothesis strategies for the limiter's client operations.

One set of strategies for every bug: nothing here is tuned to a particular one.
Times are integers or dyadic fractions so that "the same instant" is exact in
floating point (a timeout can end exactly on a refill tick).
"""

from __future__ import annotations

from hypothesis import strategies as st

# Valid costs dominate; the rest are the bad inputs the contract must reject.
INVALID_COSTS: tuple[object, ...] = (0, -1, 1.5, "1", True, None)

costs = st.integers(1, 5)
"""Costs of well-typed calls; those above the bucket's capacity must be rejected."""

bad_costs = st.sampled_from(INVALID_COSTS)

timeouts = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 3.0]))
"""None (wait as long as needed), or a dyadic number of seconds."""

bad_timeouts = st.sampled_from([-1.0, float("nan")])

BEHAVIOURS = ("none", "acquire_on_grant", "try_on_grant", "acquire_on_end", "stop_on_settle")
behaviours = st.sampled_from(BEHAVIOURS)
"""What ``on_settle`` does: nothing; acquire (submit) or try_acquire again on a
grant; acquire again on stop or timeout; stop the limiter."""

time_steps = st.sampled_from([0.25, 0.5, 1.0, 2.0])
"""How far one ``advance`` rule moves virtual time."""

capacities = st.integers(1, 4)
refill_amounts = st.integers(1, 3)
intervals = st.sampled_from([1.0, 0.5])
