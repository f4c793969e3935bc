"""The registry (kernels/registry.py): every family's table names, for each of its ops, the
function of that name in the family's file for the implementation, and nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from minigrad.kernels import dispatch, registry

from minigrad import kernels as K

FAMILY_IMPLS = [(family, impl) for family in registry.FAMILIES
                for impl in registry.IMPLEMENTATIONS]


@pytest.mark.parametrize("family, impl", FAMILY_IMPLS,
                         ids=[f"{f.name}-{impl}" for f, impl in FAMILY_IMPLS])
def test_each_table_names_the_family_files_functions(family, impl):
    if impl != "numpy" and not dispatch.numba_installed():
        pytest.skip("needs Numba")
    table = family.load(impl)
    assert tuple(table) == family.ops
    for op, function in table.items():
        assert function.__module__ == f"minigrad.kernels.{family.name}_{impl}", op
        assert function.__name__ == op
        assert registry.kernel(op, impl) is function


def test_every_op_has_one_family_and_the_package_lists_them_all():
    ops = [op for family in registry.FAMILIES for op in family.ops]
    assert len(ops) == len(set(ops))
    assert K.OPS == registry.OPS == tuple(ops)
    assert set(K.OPS) == {name for name in K.__all__ if name in ops}


def test_an_unknown_implementation_is_named():
    with pytest.raises(ValueError, match="the softmax family has no implementation 'blas'"):
        registry.kernel("log_softmax", "blas")


def test_the_numpy_table_imports_no_numba():
    """Looking up the NumPy functions imports no Numba or CUDA file (fresh process)."""
    script = (
        "import sys\n"
        "from minigrad.kernels import registry\n"
        "for op in registry.OPS:\n"
        "    registry.kernel(op, 'numpy')\n"
        "print('numba' in sys.modules, sorted(m for m in sys.modules\n"
        "      if m.startswith('minigrad.kernels.') and m.endswith(('_numba', '_cuda'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            cwd=Path(__file__).parent, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False []"
