"""Kernels that call the register tiles compile with LLVM's SLP vectorizer on, whoever calls
them first (kernels/_numba_cpu.py: ``compiled_with_slp``). Numba's disk cache does not record
the setting, so a build made outside the block would be reused by every later process."""

from __future__ import annotations

import numba
import numba.core.config
import pytest
from minigrad.kernels import conv2d_numba, gemm_packed_numba, lstm_cell_numba
from minigrad.kernels._numba_cpu import compiled_with_slp, parallel_njit
from numba import njit, types
from numba.extending import intrinsic

SEEN: list[int] = []


def _plus_one_recording_slp():
    """A new function each time (Numba types an intrinsic once per signature): x + 1, and
    its compilation records the SLP setting of that moment in SEEN."""
    @intrinsic
    def record_slp_setting(typingctx):
        SEEN.append(numba.core.config.SLP_VECTORIZE)

        def codegen(context, builder, signature, args):
            return context.get_dummy_value()
        return types.none(), codegen

    def plus_one(x):
        record_slp_setting()
        return x + 1
    return plus_one


@pytest.fixture(autouse=True)
def slp_off_outside():
    if numba.core.config.SLP_VECTORIZE:
        pytest.skip("this Numba compiles with SLP on everywhere")
    SEEN.clear()


def test_a_plain_kernel_compiles_with_the_setting_of_the_moment():
    kernel = njit(_plus_one_recording_slp())
    assert kernel(1) == 2
    assert SEEN == [0]


def test_compiled_with_slp_turns_it_on_for_the_compilation_only():
    kernel = compiled_with_slp(njit(_plus_one_recording_slp()))
    assert kernel(1) == 2
    assert SEEN == [1]
    assert numba.core.config.SLP_VECTORIZE == 0      # restored afterwards


@pytest.mark.parametrize("build", ["parallel", "serial"])
def test_both_builds_of_a_parallel_kernel(build):
    kernel = compiled_with_slp(parallel_njit()(_plus_one_recording_slp()))
    assert getattr(kernel, build)(1) == 2
    assert SEEN == [1]


@pytest.mark.parametrize("kernel", [gemm_packed_numba.gemm_packed_into,
                                    lstm_cell_numba.lstm_sequence_into,
                                    lstm_cell_numba.lstm_sequence_backward_into,
                                    conv2d_numba._correlate_tiles_into,
                                    conv2d_numba._weight_grad_tiles_into],
                         ids=lambda k: k.__name__)
def test_the_tile_kernels_compile_with_slp(kernel):
    for build in (kernel.parallel, kernel.serial):
        assert build.compile.__name__ == "compile_with_slp"
