"""Runs kernel fuzz cases in a child process, so that a crash (segfault) of a compiled kernel
kills this process and not the test run.

    python kernel_child.py CASES RESULTS PROGRESS START

CASES: a pickled list of KernelCase; from index START on, each case runs under every CPU
implementation (``impl=``). Before each call the case index and implementation are written to
PROGRESS (so the parent knows which call crashed or hung); after it, one pickled record
(index, impl, outcome) is appended to RESULTS, where outcome is ("ok", [(array, is it
C-contiguous)]), ("error", ErrorInfo) or ("warning", message).
"""

from __future__ import annotations

import os
import pickle
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from fuzz.errors import describe_error  # noqa: E402
from minigrad import kernels as K  # noqa: E402


def call(case, impl):
    args, kwargs = case.build()
    if case.function == "matmul_by":
        a, b = args
        return K.matmul_by(b, impl=impl)(a)
    return getattr(K, case.function)(*args, impl=impl, **kwargs)


def outcome_of(case, impl):
    with warnings.catch_warnings(), np.errstate(divide="warn", over="warn", invalid="warn",
                                                under="ignore"):
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", RuntimeWarning)
        try:
            out = call(case, impl)
        except RuntimeWarning as w:
            return ("warning", str(w))
        except Exception as exc:  # noqa: BLE001 - the parent judges it
            return ("error", describe_error(exc))
    outputs = list(out) if isinstance(out, tuple) else [out]
    return ("ok", [(o, o.flags.c_contiguous) if isinstance(o, np.ndarray) else (o, None)
                   for o in outputs])


def main(cases_path, results_path, progress_path, start):
    with open(cases_path, "rb") as f:
        cases = pickle.load(f)
    with open(results_path, "ab") as results:
        for index in range(start, len(cases)):
            for impl in ("numpy", "numba"):
                with open(progress_path, "w") as progress:
                    progress.write(f"{index} {impl}\n")
                pickle.dump((index, impl, outcome_of(cases[index], impl)), results)
                results.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
