"""minigrad.kernels' public functions on valid and hostile arrays (kernel_cases.py), all run in
one child process (kernel_runner.py): a crash or a hang is a test failure, not a dead test run.

Each call must return what the other implementations return (and, for the forward kernels
and the convolution's gradients, what PyTorch returns), as new C-contiguous arrays of the
inputs' dtype, or raise a clear error (errors.py); never warn, crash or hang.
"""

from __future__ import annotations

from .kernel_cases import generate
from .kernel_runner import judge, run_cases
from .known_failures import explaining
from .profile import EXAMPLES

CASES_PER_FUNCTION = max(EXAMPLES // 2, 8)


def test_kernels_on_hostile_inputs(tmp_path):
    cases = generate(seed=2024, per_function=CASES_PER_FUNCTION)
    outcomes, crashes = run_cases(cases, str(tmp_path))
    unexplained = []
    for index, case in enumerate(cases):
        if index not in outcomes and index not in crashes:
            unexplained.append(f"case {index} never ran: {case!r}")
            continue
        for failure in judge(case, outcomes.get(index, {}), crashes.get(index)):
            if explaining(failure) is None:
                unexplained.append(str(failure))
    assert not unexplained, f"{len(unexplained)} kernel failures:\n" + "\n".join(unexplained)
