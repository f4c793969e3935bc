"""The work list: ops (OpInfo) and layers (ModuleInfo) whose PyTorch inputs minigrad fails.

``test_opinfo_conformance.py`` marks each (op, dtype) listed here as a strict xfail: once
minigrad passes every sample of that op, its xfail fails and the entry must be deleted, so the
table only shrinks (``test_moduleinfo_conformance.py`` does the same for layers). Keys are
``opinfo_harness.op_key`` names (``"max.reduction_with_dim"``) or layer names (``"nn.LSTM"``);
a key ending in ``/float32`` or ``/float64`` applies to that dtype only, a plain key to both.
Each reason names the cause and a failing sample, so the fix can start from it;
``make conformance`` (``benchmarks/results/conformance.md``) lists every failing sample.

``DELIBERATE`` is the other table: differences minigrad keeps on purpose, each with the reason.
Its entries are strict xfails too (a difference that disappears must be taken off the list).
"""

from __future__ import annotations

_MEMORY_FORMAT = ("missing keyword: memory_format= (torch.contiguous_format, "
                  "torch.channels_last) is not accepted")
_NO_GRAD_OUTPUT = ("piecewise-constant op returns a tensor that does not require grad; PyTorch's "
                   "output requires grad and its gradient is zeros, so backward() through it "
                   "works")
_STABLE = ("missing keyword: stable= is not accepted; also 0-d input raises inside gather")
_PAD_MODE = "pad mode other than 'constant' raises NotImplementedError"

KNOWN_FAILURES: dict[str, str] = {
    # -- 0-d tensors ------------------------------------------------------------------------
    "sort": _STABLE,
    "argsort": _STABLE,
    "gather": ("0-d input or 0-d index raises (IndexError / 'must have as many dimensions'); "
               "also an empty index of another rank (input (5,), index (2, 0)) is refused, "
               "PyTorch accepts it"),
    "nonzero": "0-d input: NumPy's nonzero refuses 0-d arrays (ValueError)",
    # -- missing keywords and overloads -----------------------------------------------------
    "to": _MEMORY_FORMAT + ("; positional non_blocking / copy flags (to(dtype, True, False)) "
                            "are read as a dtype ('Cannot interpret True as a data type')"),
    "bool": _MEMORY_FORMAT,
    "double": _MEMORY_FORMAT,
    "float": _MEMORY_FORMAT,
    "half": _MEMORY_FORMAT,
    "int": _MEMORY_FORMAT,
    "long": _MEMORY_FORMAT,
    "clamp": ("tensor min/max (clamp(x, lo_tensor, hi_tensor)) raises ValueError from item(); "
              "only Python numbers are accepted"),
    "div.trunc_rounding": "rounding_mode='trunc' is refused (only None and 'floor')",
    "norm.nuc": "p='nuc' (nuclear norm) is not supported (TypeError from pow)",
    "nn.functional.normalize": "p=0 raises ZeroDivisionError; 0-d input with dim=0 raises",
    "nn.functional.avg_pool2d": "padding given as a 1-tuple ((1,)) is refused",
    "normal": ("the normal(mean_tensor, std_tensor) overload (no size) is missing; "
               "randomness itself is not compared"),
    "normal.number_mean": ("normal(mean, std_tensor) without size and the layout= keyword are "
                           "missing"),
    "zero_": "torch.zero_(x) as a function is missing (the Tensor method exists)",
    "nn.functional.pad.constant": ("negative padding (cropping) raises NotImplementedError"),
    "nn.functional.pad.reflect": _PAD_MODE,
    "nn.functional.pad.replicate": _PAD_MODE,
    "nn.functional.pad.replicate_negative": _PAD_MODE,
    "nn.functional.pad.circular": _PAD_MODE,
    # -- empty tensors ----------------------------------------------------------------------
    "nn.functional.group_norm": "batch of size 0 (input (0, 2)) raises from a reshape",
    "nn.functional.batch_norm": "input of shape (0,) (no batch, no channel) is refused",
    # -- zero-gradient ops ------------------------------------------------------------------
    "ceil": _NO_GRAD_OUTPUT,
    "floor": _NO_GRAD_OUTPUT,
    "round": _NO_GRAD_OUTPUT,
    "round.decimals_0": _NO_GRAD_OUTPUT,
    "round.decimals_3": _NO_GRAD_OUTPUT,
    "round.decimals_neg_3": _NO_GRAD_OUTPUT,
    "sign": _NO_GRAD_OUTPUT,
    "trunc": _NO_GRAD_OUTPUT,
    "div.floor_rounding": _NO_GRAD_OUTPUT,
    # -- ops added with the op set: what their PyTorch samples still show --------------------
    "linalg.matrix_norm": "ord='nuc', 2 and -2 need singular values (an SVD): NotImplementedError",
    "linalg.norm": "ord='nuc' (and 2/-2 on matrices) need an SVD: NotImplementedError",
    "linalg.norm.subgradients_at_zero": "ord='nuc' needs an SVD: NotImplementedError",
    # -- layers (ModuleInfo) -----------------------------------------------------------------
    "nn.BatchNorm1d": ("a batch of 0 in train mode raises 'Expected more than 1 value per "
                       "channel'; PyTorch returns the empty output"),
    "nn.BatchNorm2d": ("a batch of 0 in train mode raises 'Expected more than 1 value per "
                       "channel'; PyTorch returns the empty output"),
    "nn.MultiheadAttention": "add_bias_kv=True / add_zero_attn=True raise NotImplementedError",
    "nn.LSTM": "proj_size > 0 (projected LSTM) raises NotImplementedError",
    # -- float32 / float64 accuracy ---------------------------------------------------------
    "pow/float32": ("float32 gradient of the exponent, summed over a broadcast dim, is ~6e-6 "
                    "relative off the float64 reference (PyTorch: ~5e-7)"),
    "linspace.tensor_overload/float64": ("a float32 0-d start with dtype=float64 is computed "
                                         "in float32 (errors of 1e-7)"),
}

DELIBERATE: dict[str, str] = {}


def expected_failure(key: str, dtype: str) -> tuple[str, str] | None:
    """("known" or "deliberate", reason) if (op, dtype) is listed, else None."""
    for table_name, table in (("known", KNOWN_FAILURES), ("deliberate", DELIBERATE)):
        for name in (f"{key}/{dtype}", key):
            if name in table:
                return table_name, table[name]
    return None
