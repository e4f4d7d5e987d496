"""Test-suite settings: every Hypothesis test here is deterministic.

Randomness belongs to the fuzz job; the regular suite derandomizes Hypothesis
and keeps no example database, so CI never flakes.  ``--fuzz-profile`` (the
plugin's option) overrides this profile when given.
"""

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester"]

settings.register_profile(
    "suite",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
settings.load_profile("suite")
