"""Every op of the table (op_table.py) on random arguments: match PyTorch or raise a clear
error (the property is in harness.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .harness import Case, check
from .op_table import OPS
from .profile import FUZZ


def cases(op):
    return st.composite(lambda draw: Case(op, *op.cases(draw)))()


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
@FUZZ
@given(data=st.data())
def test_op(op, data):
    check(data.draw(cases(op), label="case"))
