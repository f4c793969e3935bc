"""``LBFGS``: limited-memory BFGS, a quasi-Newton method (PyTorch's algorithm exactly).

Newton's method steps by -H^-1 g, with H the Hessian: the right step size in every direction
at once. BFGS never forms H; it learns how the gradient changes between iterates,

    s_k = x_{k+1} - x_k          (the step taken)
    y_k = g_{k+1} - g_k          (the change of the gradient it caused; y_k ~ H s_k)

and builds an approximation of H^-1 from those pairs. The *limited-memory* version keeps only
the last ``history_size`` pairs and applies the approximation to g directly with the
"two-loop recursion" (``_direction``): O(history * n) time and memory, never an n x n matrix.
The starting approximation is H^-1 ~ (s.y / y.y) I, the scale of the latest pair.

One ``step(closure)`` runs up to ``max_iter`` iterations, each:

    d = -H^-1 g                   the quasi-Newton direction (-g at the very first iteration)
    t = lr                        (the first iteration: min(1, 1 / |g|_1) * lr, a cautious start)
    x <- x + t d                  fixed step, or the step a strong-Wolfe line search picks
    re-evaluate loss and gradient with ``closure`` (which must zero the gradients, compute
    the loss, call backward and return the loss)

and stops early when the gradient is small (``tolerance_grad``), when the step or the change in
loss is below ``tolerance_change``, or after ``max_eval`` evaluations of the closure. Because
the closure runs several times per step, LBFGS suits full-batch, deterministic problems.

All parameters are treated as one flat vector. The state (PyTorch's keys, kept on the first
parameter, as PyTorch does): ``func_evals``, ``n_iter`` (counts over all steps), ``d``, ``t``
(the last direction and step size), ``old_dirs`` (the y_k), ``old_stps`` (the s_k), ``ro``
(1 / y_k.s_k), ``H_diag``, ``prev_flat_grad``, ``prev_loss`` and the work list ``al``.
"""

from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..tensor import Tensor
from .optimizer import Optimizer

# ---------------------------------------------------------------------------------------------
# The strong-Wolfe line search (PyTorch's port of minFunc's, through torch/optim's Lua)
# ---------------------------------------------------------------------------------------------


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2,
    clamped to ``bounds`` (default: between x1 and x2); their midpoint if the cubic has none."""
    xmin_bound, xmax_bound = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """Find a step t along d satisfying the strong Wolfe conditions:

        f(x + t d) <= f + c1 t g.d          (sufficient decrease)
        |g(x + t d).d| <= c2 |g.d|          (the slope has flattened enough)

    First grow t until an interval is known to contain such a point (bracketing), then shrink
    that interval by cubic interpolation (zoom). ``obj_func(x, t, d)`` returns the loss and
    flat gradient at x + t d. Returns (loss, gradient, t, number of evaluations).
    """
    xp = backend.array_module(d)
    d_norm = xp.abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = xp.dot(g_new, d)

    # bracketing
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate: somewhere between 1.01 t and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = xp.dot(g_new, d)
        ls_iter += 1

    if ls_iter == max_ls:    # no bracket found within the budget
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies both conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too close to an end of the bracket makes little progress: after two such
        # trials in a row (or one on the end itself) move it 10% of the bracket inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = xp.dot(g_new, d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # no sufficient decrease, or not below the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True          # both Wolfe conditions hold
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the new low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            # t becomes the new low end
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


# ---------------------------------------------------------------------------------------------
# The optimizer
# ---------------------------------------------------------------------------------------------


class LBFGS(Optimizer):
    """Implements L-BFGS (after minFunc), with an optional strong-Wolfe line search.

    Only one parameter group (no per-parameter options). ``step`` needs a closure.

    Args:
        params: parameters to optimize.
        lr: learning rate, the step size along each direction (default 1).
        max_iter: maximal number of iterations per ``step`` (default 20).
        max_eval: maximal number of closure evaluations per ``step``
            (default max_iter * 5 // 4).
        tolerance_grad: stop when max |g| is at most this (default 1e-7).
        tolerance_change: stop when the step or the change in loss is below this (default 1e-9).
        history_size: how many (s, y) pairs to keep (default 100).
        line_search_fn: None (fixed steps of size lr) or 'strong_wolfe'.
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9,
                 history_size: int = 100, line_search_fn: str | None = None):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got "
                             f"{line_search_fn!r}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                        history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")

    @property
    def _params(self) -> list:
        return self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # -- the parameters as one flat vector -----------------------------------------------------
    # state arrays that are vectors over all parameters at once; the rest are scalars
    _FLAT_STATE = ("d", "prev_flat_grad", "old_dirs", "old_stps")

    def _state_shape(self, p, key):
        """LBFGS keeps its state on the first parameter, as vectors over every parameter
        (flattened and joined) and scalars: a loaded checkpoint is checked against that."""
        if key in self._FLAT_STATE:
            return (sum(q.numel() for q in self._params),)
        return None

    def _gather_flat_grad(self):
        xp = backend.array_module(self._params[0].array)
        return xp.concatenate([p.grad.array.ravel() if p.grad is not None
                               else xp.zeros(p.array.size, dtype=p.array.dtype)
                               for p in self._params])

    def _add_grad(self, step_size, update) -> None:
        """x <- x + step_size * update, ``update`` a flat vector."""
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += step_size * update[offset:offset + n].reshape(p.array.shape)
            p._mark_modified()
            offset += n

    def _clone_param(self) -> list:
        return [p.array.copy() for p in self._params]

    def _set_param(self, values) -> None:
        for p, value in zip(self._params, values):
            p.array[...] = value
            p._mark_modified()

    def _evaluate(self, closure) -> float:
        with enable_grad():
            loss = closure()
        return float(loss.item() if isinstance(loss, Tensor) else loss)

    def _directional_evaluate(self, closure, x, t, d):
        """Loss and flat gradient at x + t d; the parameters are put back to x after."""
        self._add_grad(t, d)
        loss = self._evaluate(closure)
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    # -- one iteration's direction -------------------------------------------------------------
    @staticmethod
    def _direction(state, flat_grad, history_size):
        """Update the (s, y) memory with the last step, then d = -H^-1 g (two-loop recursion).

        The pair is kept only if y.s > 1e-10 (the curvature along s is positive), which keeps
        the approximation positive definite, so d is a descent direction.
        """
        xp = backend.array_module(flat_grad)
        old_dirs, old_stps, ro = state["old_dirs"], state["old_stps"], state["ro"]
        y = flat_grad - state["prev_flat_grad"]
        s = state["d"] * state["t"]
        ys = xp.dot(y, s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:    # forget the oldest pair
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            state["H_diag"] = ys / xp.dot(y, y)  # the scale of the initial H^-1

        if "al" not in state:
            state["al"] = [None] * history_size
        al = state["al"]
        # first loop, newest pair to oldest: q = g minus its components along the y's
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = xp.dot(old_stps[i], q) * ro[i]
            q += -al[i] * old_dirs[i]
        # scale by the initial H^-1, then the second loop, oldest to newest
        r = q * state["H_diag"]
        for i in range(len(old_dirs)):
            be_i = xp.dot(old_dirs[i], r) * ro[i]
            r += (al[i] - be_i) * old_stps[i]
        return r

    # -- the step ------------------------------------------------------------------------------
    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations. ``closure`` re-evaluates the model: it
        zeroes the gradients, computes the loss, calls ``backward`` and returns the loss.
        Returns the loss of the closure's first evaluation."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that re-evaluates the model and "
                               "returns the loss (it runs several times per step)")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]
        self._step_count += 1

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss.item() if isinstance(orig_loss, Tensor) else orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        xp = backend.array_module(flat_grad)
        if xp.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss                     # already optimal

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            if state["n_iter"] == 1:             # no memory yet: steepest descent
                d = -flat_grad
                state.update(old_dirs=[], old_stps=[], ro=[], H_diag=1)
            else:
                d = self._direction(state, flat_grad, history_size)
            state["d"] = d

            if state.get("prev_flat_grad") is None:
                state["prev_flat_grad"] = flat_grad.copy()
            else:
                state["prev_flat_grad"][...] = flat_grad
            state["prev_loss"] = prev_loss = loss

            # step size: cautious on the very first iteration, lr afterwards
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            state["t"] = t

            gtd = xp.dot(flat_grad, d)           # the slope along d
            if gtd > -tolerance_change:          # not a descent direction any more
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = self._clone_param()

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
                state["t"] = t
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    # re-evaluate (not after the last iteration: in a stochastic setting the
                    # next step's first evaluation would repeat it)
                    loss = self._evaluate(closure)
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change:     # the step hardly moved x
                break
            if abs(loss - prev_loss) < tolerance_change:     # the loss hardly moved
                break
        return orig_loss
