"""Rational schemes (ring Q): exact real fit, gauge normalisation, snap-and-refit with backtracking.

The ``lm`` method over ``--ring Q`` runs this pipeline for every restart:

1. **Exact fit.** Batched Levenberg–Marquardt in float64 on ||T − Σ U⊗V⊗W||² with a Tikhonov
   weight α·min(1, fit) that vanishes as the fit does, until the fit is below ``exact_tol``
   (a real solution to rounding error). Restarts that stall are replaced (the cheap residual test).
2. **Gauge.** Each rank-one term can be rescaled (a·u, b·v, w/(a·b)) without changing the
   scheme; (a, b) is chosen per term, among the scales that put one entry of u and one of v on a
   grid value, to bring all three factors nearest the grid. This is where ±1/2 arise naturally
   (u with a largest entry 2 gives w a factor 1/2).
3. **Snap and refit.** Each round snaps one whole factor vector (u_k, v_k or w_k) onto the grid
   and refits the remaining free entries (LM, no regulariser) back to an exact real solution;
   the ``tries`` vectors nearest the grid on average are refitted together as one batch, and of
   those that refit, the one leaving the other free entries nearest the grid wins. Entries
   that land on the grid by themselves are fixed for free. When nothing refits, the point is
   tried as a rational with denominator 4, then the search backtracks: the previous choice is
   undone and banned. A member gives up after ``budget`` refit rounds.
4. A member with every entry fixed is checked exactly (float64 is exact on dyadic values) and
   proposed to the driver, whose collector proves it with sympy and labels its ring.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterable, Optional

import numpy as np
import torch

from ._lmsolve import gauss_newton, gradient


@dataclass(frozen=True)
class Grid:
    """A finite coefficient set {0, ±v...} with nearest-value snapping."""

    values: torch.Tensor  # sorted, float64, symmetric about 0, contains 0

    @classmethod
    def of(cls, positive: tuple[float, ...], device: torch.device) -> "Grid":
        pos = sorted(set(float(v) for v in positive if v > 0))
        vals = [-v for v in reversed(pos)] + [0.0] + pos
        return cls(torch.tensor(vals, dtype=torch.float64, device=device))

    @property
    def largest(self) -> float:
        return float(self.values[-1])

    def snap(self, x: torch.Tensor) -> torch.Tensor:
        """Nearest grid value of every entry."""
        v = self.values
        mids = (v[1:] + v[:-1]) / 2
        return v[torch.bucketize(x.contiguous(), mids)]

    def dist(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.snap(x)).abs()


def parse_values(spec: str) -> tuple[float, ...]:
    """``"1/2,1,2"`` → (0.5, 1.0, 2.0): the positive coefficients allowed (0 and signs implied)."""
    out = []
    for part in spec.split(","):
        v = Fraction(part.strip())
        if v <= 0:
            raise ValueError(f"{part.strip()!r} is not positive")
        out.append(float(v))
    return tuple(sorted(set(out)))


def integral_up_to_scaling(U: Iterable, V: Iterable, W: Iterable) -> bool:
    """True when rescaling the terms (a·u, b·v, w/(a·b)) can make every coefficient an integer.

    ``U``, ``V``, ``W`` hold one exact factor (ints or Fractions, any shape) per term. Writing
    u = s_u·ũ and v = s_v·ṽ with ũ, ṽ primitive integer vectors, any scaling that keeps u and v
    integral multiplies them by integers, which only shrinks w; so a term rescales to integers
    exactly when s_u·s_v·w is integral. A scheme for which this is False keeps a fraction (a
    1/2, say) in every equivalent form obtained by rescaling its terms.
    """
    for u, v, w in zip(U, V, W):
        scale = Fraction(1)
        for x in (u, v):
            vals = [Fraction(e) for e in np.asarray(x, dtype=object).ravel() if e != 0]
            if not vals:
                break  # a zero factor: the term vanishes
            den = math.lcm(*(f.denominator for f in vals))
            scale *= Fraction(math.gcd(*(int(f * den) for f in vals)), den)
        else:
            if any((Fraction(e) * scale).denominator != 1 for e in np.asarray(w, dtype=object).ravel()):
                return False
    return True


def _unpack(y: torch.Tensor, r: int, sizes: tuple[int, int, int]) -> list[torch.Tensor]:
    return [p.reshape(y.shape[0], r, -1) for p in torch.split(y, tuple(r * s for s in sizes), dim=1)]


def fit_of(y: torch.Tensor, T: torch.Tensor, r: int) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
    """||T − Σ U⊗V⊗W||² per member, the residual and the factors."""
    F = _unpack(y, r, tuple(T.shape))
    U, V, W = F
    B = y.shape[0]
    kr = (U[:, :, :, None] * V[:, :, None, :]).reshape(B, r, -1)
    R = (kr.transpose(1, 2) @ W).reshape(B, *T.shape) - T
    return R.pow(2).flatten(1).sum(1), R, F


def refine(y: torch.Tensor, fixed: Optional[torch.Tensor], T: torch.Tensor, r: int, steps: int, tol: float,
           alpha: float = 0.0, until_any: bool = False, mu: Optional[torch.Tensor] = None,
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """LM steps (float64, dense Cholesky) on every member, entries in ``fixed`` held.

    The regulariser is α·min(1, fit)·||y||²/2 (it vanishes at an exact fit). Stops after
    ``steps`` steps, when every member is below ``tol``, or (``until_any``) when one is.
    Returns (y, fit, mu).
    """
    B = y.shape[0]
    mu = torch.full((B,), 1e-3, dtype=y.dtype, device=y.device) if mu is None else mu
    fit, R, (U, V, W) = fit_of(y, T, r)
    for _ in range(steps):
        done = fit < tol
        if bool(done.all()) or (until_any and bool(done.any())):
            break
        a = alpha * fit.clamp(max=1.0)
        H = gauss_newton(U, V, W)
        g = gradient(R, U, V, W) + a[:, None] * y
        diag = (mu + a)[:, None].expand_as(y)
        if fixed is not None:  # held entries: unit rows and columns, zero gradient → no move
            keep = (~fixed).to(y.dtype)
            H = H * keep[:, :, None] * keep[:, None, :]
            diag = torch.where(fixed, 1.0, diag)
            g = torch.where(fixed, 0.0, g)
        H.diagonal(dim1=1, dim2=2).add_(diag)
        L, info = torch.linalg.cholesky_ex(H)
        delta = -torch.cholesky_solve(g.unsqueeze(-1), L).squeeze(-1)
        ok = (info == 0) & torch.isfinite(delta).all(1) & ~done
        y_new = torch.where(ok[:, None], y + delta, y)
        fit1, R1, F1 = fit_of(y_new, T, r)
        f0 = fit + a * y.pow(2).sum(1)
        f1 = fit1 + a * y_new.pow(2).sum(1)
        acc = ok & (f1 < f0)
        y = torch.where(acc[:, None], y_new, y)
        fit = torch.where(acc, fit1, fit)
        R = torch.where(acc[:, None, None, None], R1, R)
        U, V, W = (torch.where(acc[:, None, None], n, o) for n, o in zip(F1, (U, V, W)))
        mu = torch.where(acc, mu / 3.0, torch.where(ok | ~done, mu * 4.0, mu)).clamp(1e-12, 1e12)
    return y, fit, mu


def gauge(y: torch.Tensor, grid: Grid, r: int, sizes: tuple[int, int, int]) -> torch.Tensor:
    """Rescale every term (a·u, b·v, w/(a·b)) of one member to bring it nearest the grid.

    Candidates for a put one sizeable entry of u on a positive grid value (likewise b for v);
    the pair with the smallest total distance to the grid of u, v and w (entries beyond the
    grid's largest value count double) wins.
    """
    U, V, W = (X[0] for X in _unpack(y, r, sizes))
    pos = grid.values[grid.values > 0]
    outs = [[], [], []]
    for k in range(r):
        u, v, w = U[k], V[k], W[k]

        def scales(x: torch.Tensor) -> torch.Tensor:
            big = x.abs() >= 0.2 * x.abs().max()
            if not bool(big.any()):
                return torch.ones(1, dtype=x.dtype, device=x.device)
            return (pos[:, None] / x[big].abs()[None, :]).flatten()

        A, Bs = scales(u), scales(v)

        def cost(x: torch.Tensor) -> torch.Tensor:  # x (..., d)
            over = (x.abs() - grid.largest).clamp(min=0)
            return (grid.dist(x) + 2 * over).sum(-1)

        cu = cost(A[:, None] * u[None, :])  # (na,)
        cv = cost(Bs[:, None] * v[None, :])  # (nb,)
        cw = cost(w[None, None, :] / (A[:, None, None] * Bs[None, :, None]))  # (na, nb)
        total = cu[:, None] + cv[None, :] + cw
        i = int(torch.argmin(total))
        a, b = A[i // len(Bs)], Bs[i % len(Bs)]
        outs[0].append(u * a)
        outs[1].append(v * b)
        outs[2].append(w / (a * b))
    return torch.cat([torch.stack(o).flatten() for o in outs])[None]


@dataclass
class SnapStats:
    rounds: int = 0
    backtracks: int = 0
    best_free: int = -1  # fewest free entries reached
    best_residual: float = math.inf  # smallest ||T − Σ U⊗V⊗W||² of a state rounded onto the grid


def snap_member(y: torch.Tensor, grid: Grid, T: torch.Tensor, r: int, *, tries: int, budget: int,
                refit_iters: int, tol: float, stop: Callable[[], bool],
                stats: SnapStats, free_eps: float = 1e-7, by_factor: bool = True,
                quarters: bool = True) -> Optional[torch.Tensor]:
    """Fix every entry of one exact member (1, P) at a grid value; the exact point or None.

    Each round snaps one *unit* (a whole factor vector u_k, v_k or w_k, or with ``by_factor``
    False also single entries): the ``tries`` units whose free entries are nearest the grid on
    average are snapped in turn and refitted together as one batch, and among those that refit
    exactly the one leaving the other free entries nearest the grid in total is kept (a one-step
    lookahead). Entries within ``free_eps`` of the grid are fixed for free. When no unit refits,
    the point is tried (``quarters``) as a rational with denominator 4 (it may be exact off the
    grid), then the last choice is undone and banned (backtracking).
    """
    sizes = tuple(T.shape)
    y = gauge(y, grid, r, sizes)
    y, fit, _ = refine(y, None, T, r, refit_iters, tol)
    if float(fit[0]) >= tol:
        return None
    fixed = torch.zeros_like(y, dtype=torch.bool)
    stack: list[tuple[torch.Tensor, torch.Tensor, set[int], int]] = []
    banned: set[int] = set()
    chosen = -1

    def free_snap(y: torch.Tensor, fixed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        on = (grid.dist(y) < free_eps) & ~fixed
        return torch.where(on, grid.snap(y), y), fixed | on

    y, fixed = free_snap(y, fixed)
    P = y.shape[1]
    # units to snap: every whole factor vector u_k, v_k, w_k and every single entry (padded
    # with a repeated index to one width); a unit's score is the mean grid distance of its free entries
    units_l = [[i] for i in range(P)] if not by_factor else []
    off = 0
    for d_ in sizes:
        units_l += [list(range(off + k_ * d_, off + (k_ + 1) * d_)) for k_ in range(r)]
        off += r * d_
    width = max(len(u) for u in units_l)
    units = torch.tensor([u + [u[-1]] * (width - len(u)) for u in units_l], device=y.device)
    while stats.rounds < budget and not stop():
        free = ~fixed[0]
        n_free = int(free.sum())
        stats.best_residual = min(stats.best_residual, float(fit_of(grid.snap(y), T, r)[0][0]))
        stats.best_free = n_free if stats.best_free < 0 else min(stats.best_free, n_free)
        if n_free == 0:
            fit, _, _ = fit_of(y, T, r)
            if float(fit[0]) == 0.0:
                return y
            banned_ok = False
        else:
            d = torch.where(free, grid.dist(y[0]), 0.0)
            ud = (d[units] * free[units]).sum(1) / free[units].sum(1).clamp(min=1)
            ud = torch.where(free[units].any(1), ud, math.inf)
            if banned:
                ud[list(banned)] = math.inf
            order = torch.argsort(ud)[:tries]
            order = order[torch.isfinite(ud[order])]
            banned_ok = len(order) > 0 and len(banned) < 3 * tries
        if not banned_ok:
            q = torch.round(y * 4) / 4  # a dead end may still be rational: quarters are exact in float64
            if quarters and float(fit_of(q, T, r)[0][0]) == 0.0:
                return q
            if not stack:
                return None
            y, fixed, banned, chosen = stack.pop()  # undo the last choice and ban it
            banned.add(chosen)
            stats.backtracks += 1
            continue
        k = len(order)
        rows = torch.arange(k, device=y.device)
        ty = y.repeat(k, 1)
        tf = fixed.repeat(k, 1)
        sel = torch.zeros(k, y.shape[1], dtype=torch.bool, device=y.device)
        sel[rows[:, None], units[order]] = True
        sel &= ~tf
        ty = torch.where(sel, grid.snap(ty), ty)
        tf = tf | sel
        ty, fit, _ = refine(ty, tf, T, r, refit_iters, tol)
        stats.rounds += 1
        good = torch.nonzero(fit < tol).flatten()
        if len(good) == 0:
            banned.update(order.tolist())
            continue
        j = int(good[0])
        if len(good) > 1:
            # the refit that leaves the free entries nearest the grid in total wins
            score = torch.where(tf[good], 0.0, grid.dist(ty[good]).clamp(max=0.25)).sum(1)
            j = int(good[int(torch.argmin(score))])
        stack.append((y, fixed, banned, int(order[j])))
        y, fixed = free_snap(ty[j:j + 1], tf[j:j + 1])
        banned = set()
    return None


def exact_factors(y: torch.Tensor, r: int, sizes: tuple[int, int, int]) -> list[torch.Tensor]:
    """The factors (1, r, d) of a fully snapped member."""
    return _unpack(y, r, sizes)


def fit_exact(y: torch.Tensor, T: torch.Tensor, r: int, *, alpha: float, steps: int, tol: float,
              abandon_early: float, abandon: float, fit_iters: int, stop: Callable[[], bool],
              chunk: int = 5) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Run a batch to exact real solutions; returns (y, exact mask, steps). Stalled members are dropped early."""
    B = y.shape[0]
    alive = torch.ones(B, dtype=torch.bool, device=y.device)
    fit = torch.full((B,), math.inf, dtype=y.dtype, device=y.device)
    mu = None
    done_steps = 0
    while done_steps < steps and not stop():
        idx = torch.nonzero(alive & ~(fit < tol)).flatten()
        if len(idx) == 0:
            break
        sub_mu = None if mu is None else mu[idx]
        ys, fs, ms = refine(y[idx], None, T, r, chunk, tol, alpha=alpha, mu=sub_mu)
        y[idx], fit[idx] = ys, fs
        mu = torch.full((B,), 1e-3, dtype=y.dtype, device=y.device) if mu is None else mu
        mu[idx] = ms
        done_steps += chunk
        if done_steps >= fit_iters // 2 and abandon_early > 0:
            alive &= ~((fit > abandon_early) & (fit >= tol))
        if done_steps >= fit_iters and abandon > 0:
            alive &= ~((fit > abandon) & (fit >= tol))
    return y, alive & (fit < tol), done_steps
