"""Every known failure's reproduction, as a strict xfail: it fails today; when a fix makes it
pass, the test fails ("XPASS(strict)") and the entry must be deleted from known_failures.py,
which puts the fuzz tests back on guard for that cause.

A reproduction that fails in a way its own entry does not describe is a plain failure (the
entry or the repro is wrong).
"""

from __future__ import annotations

import pytest

from .harness import CaseFailure, check, torch
from .kernel_cases import KernelCase
from .kernel_runner import judge, run_cases
from .known_failures import KNOWN_FAILURES


@pytest.mark.parametrize("known", [
    pytest.param(known, id=known.id,
                 marks=pytest.mark.xfail(strict=True, raises=CaseFailure, reason=known.reason))
    for known in KNOWN_FAILURES])
def test_known_failure_still_fails(known, tmp_path):
    repro = known.repro()
    if isinstance(repro, KernelCase):
        outcomes, crashes = run_cases([repro], str(tmp_path))
        failures = judge(repro, outcomes.get(0, {}), crashes.get(0))
    else:
        failures = []
        try:
            check(repro, allow_known=False)
        except CaseFailure as failure:
            failures.append(failure)
    for failure in failures:
        # an AssertionError that is not a CaseFailure: a real failure, not the expected one
        assert known.matches(failure), f"the repro of {known.id!r} fails otherwise: {failure}"
    if failures:
        raise failures[0]
    if torch is None:
        pytest.skip("without PyTorch only the no-crash/clear-error part of the property runs, "
                    "and this repro passes it")
