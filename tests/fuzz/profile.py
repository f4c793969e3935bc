"""The hypothesis settings every fuzz test runs under: few examples, no deadline, and
derandomized (the examples are a function of the test alone), so CI never flakes.

``MINIGRAD_FUZZ_EXAMPLES=500`` runs more examples per test; ``MINIGRAD_FUZZ_RANDOM=1`` draws
new random examples on every run (both for hunting bugs locally, not for CI).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES = int(os.environ.get("MINIGRAD_FUZZ_EXAMPLES", "60"))

settings.register_profile(
    "minigrad-fuzz",
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("MINIGRAD_FUZZ_RANDOM"),
    database=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
)

FUZZ = settings.get_profile("minigrad-fuzz")
