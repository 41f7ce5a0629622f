"""``lm``: batched Levenberg–Marquardt with an annealed penalty toward the allowed values.

Minimises ½||T − Σ_k U_k⊗V_k⊗W_k||² + ½λ||φ(x)||² + ½α||x||² for a whole batch of random
starts at once (Tichavský–Phan–Cichocki 2017 use LM with a bounded norm; φ vanishes on the
allowed coefficients, e.g. x³ − x for ternary). Each member has its own clock: λ is 0 until
its fit is reached, then grows geometrically, pushing every entry onto an allowed value; a
member still inexact ``patience`` steps after λ hit its cap is given up. The Gauss–Newton matrix JᵀJ
is assembled in closed form from the r×r Gram matrices of the factors (never forming J), so
one step costs one batched Cholesky solve of size r·(a+b+c). Every few steps the whole batch
is rounded and checked exactly; hits leave the batch.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from ..contract import Problem, SearchTask, TaskResult
from . import _numeric as nm


@dataclass(frozen=True)
class LMOptions:
    """Options of the ``lm`` method.

    Attributes
    ----------
    batch : int
        Restarts solved together in one task.
    iters : int
        LM steps per task at most.
    fit_iters, fit_tol : int, float
        A member anneals once ||T − Σ U⊗V⊗W||² < ``fit_tol`` or after ``fit_iters`` steps
        (each member has its own clock: small formats fit in a few steps, 3x3x3 needs more).
    patience : int
        Steps a member may stay at ``penalty_max`` before it is given up.
    penalty_start, penalty_growth, penalty_max : float
        λ after the fit phase, its factor per step, and its cap.
    alpha : float
        Tikhonov weight keeping the factors bounded (norm regularisation).
    init_scale : float
        Standard deviation of the random starting entries.
    check_every : int
        Round and check the batch exactly every this many steps.
    """

    batch: int = 8
    iters: int = 800
    fit_iters: int = 100
    fit_tol: float = 1e-3
    patience: int = 40
    penalty_start: float = 1e-3
    penalty_growth: float = 1.02
    penalty_max: float = 30.0
    alpha: float = 1e-3
    init_scale: float = 0.5
    check_every: int = 5


def _gauss_newton(U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """JᵀJ of the reconstruction (B, P, P) with P = r(a+b+c), from Gram matrices."""
    B, r, a = U.shape
    b, c = V.shape[2], W.shape[2]
    Gu, Gv, Gw = (X @ X.transpose(1, 2) for X in (U, V, W))

    def diag_block(G: torch.Tensor, d: int) -> torch.Tensor:
        eye = torch.eye(d, dtype=G.dtype)
        return (G[:, :, None, :, None] * eye[None, None, :, None, :]).reshape(B, r * d, r * d)

    uv = torch.einsum("bkl,blx,bky->bkxly", Gw, U, V).reshape(B, r * a, r * b)
    uw = torch.einsum("bkl,blx,bkz->bkxlz", Gv, U, W).reshape(B, r * a, r * c)
    vw = torch.einsum("bkl,bly,bkz->bkylz", Gu, V, W).reshape(B, r * b, r * c)
    top = torch.cat([diag_block(Gv * Gw, a), uv, uw], dim=2)
    mid = torch.cat([uv.transpose(1, 2), diag_block(Gu * Gw, b), vw], dim=2)
    bot = torch.cat([uw.transpose(1, 2), vw.transpose(1, 2), diag_block(Gu * Gv, c)], dim=2)
    return torch.cat([top, mid, bot], dim=1)


def _gradient(R: torch.Tensor, U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """JᵀR flattened like the parameters (U, V, W)."""
    gu = torch.einsum("bxjl,bkj,bkl->bkx", R, V, W)
    gv = torch.einsum("biyl,bki,bkl->bky", R, U, W)
    gw = torch.einsum("bijz,bki,bkj->bkz", R, U, V)
    return torch.cat([g.flatten(1) for g in (gu, gv, gw)], dim=1)


class LMMethod:
    """Batched Levenberg–Marquardt with annealed rounding (see module docstring)."""

    name = "lm"
    options_type = LMOptions
    description = "batched Levenberg-Marquardt, annealed penalty toward the ring, exact rounding checks"

    def check(self, problem: Problem, options: LMOptions) -> None:
        nm.check_numeric_options(self.name, options)

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        with nm.single_thread():
            return self._run(task, nm.stopper(task, should_stop))

    def _run(self, task: SearchTask, stop: Callable[[], bool]) -> TaskResult:
        opt: LMOptions = task.options
        target = nm.Target.from_problem(task.problem)
        start = time.monotonic()
        gen = nm.torch_generator(task.seed)
        a, b, c = target.sizes
        r = target.rank
        splits = (r * a, r * b, r * c)
        x = torch.cat([f.flatten(1) for f in nm.random_factors(target, opt.batch, gen, opt.init_scale)], dim=1)
        ids = torch.arange(opt.batch)  # batch members still running
        mu = torch.full((opt.batch,), 1e-2, dtype=torch.float64)
        candidates = []
        best = float("inf")
        steps = 0

        def unpack(z: torch.Tensor) -> list[torch.Tensor]:
            return [p.reshape(z.shape[0], r, -1) for p in torch.split(z, splits, dim=1)]

        def cost(z: torch.Tensor, lam: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            U, V, W = unpack(z)
            R = nm.reconstruct(U, V, W) - target.T
            phi, _ = target.penalty(z)
            fit = R.pow(2).flatten(1).sum(1)
            return 0.5 * (fit + lam * phi.pow(2).sum(1) + opt.alpha * z.pow(2).sum(1)), R, fit

        clock = torch.full((opt.batch,), -1.0, dtype=torch.float64)  # < 0: still fitting
        anneal_len = math.log(opt.penalty_max / opt.penalty_start) / math.log(opt.penalty_growth) + opt.patience

        for it in range(opt.iters):
            if len(ids) == 0 or stop() or (task.first_hit and candidates):
                break
            steps = it + 1
            lam = torch.where(clock >= 0, (opt.penalty_start * opt.penalty_growth ** clock).clamp(max=opt.penalty_max), 0.0)
            U, V, W = unpack(x)
            f0, R, fit = cost(x, lam)
            clock = torch.where((clock < 0) & ((fit < opt.fit_tol) | (it >= opt.fit_iters)), 0.0, clock)
            phi, dphi = target.penalty(x)
            lam_ = lam[:, None]
            H = _gauss_newton(U, V, W) + torch.diag_embed(lam_ * dphi * dphi + opt.alpha + mu[:, None])
            g = _gradient(R, U, V, W) + lam_ * phi * dphi + opt.alpha * x
            L, info = torch.linalg.cholesky_ex(H)
            ok = info == 0
            delta = torch.zeros_like(x)
            if ok.any():
                delta[ok] = -torch.cholesky_solve(g[ok].unsqueeze(-1), L[ok]).squeeze(-1)
            x_new = x + delta
            f1, _, _ = cost(x_new, lam)
            accept = ok & (f1 < f0)
            x = torch.where(accept[:, None], x_new, x)
            mu = torch.where(accept, mu / 3.0, mu * 4.0).clamp(1e-9, 1e9)
            clock = torch.where(clock >= 0, clock + 1, clock)
            if it % opt.check_every == 0 or it == opt.iters - 1:
                hit, bres = self._check(target, x, unpack, ids, candidates, steps)
                best = min(best, bres)
                keep = ~hit & (clock <= anneal_len)  # hits leave; so do members past the anneal
                x, ids, mu, clock = x[keep], ids[keep], mu[keep], clock[keep]
        if len(ids) and not (task.first_hit and candidates):
            _, bres = self._check(target, x, unpack, ids, candidates, steps)
            best = min(best, bres)
        candidates.sort(key=lambda cand: cand.sub_index)
        return TaskResult(task.task_index, restarts=opt.batch, candidates=candidates, best_residual=best,
                          seconds=time.monotonic() - start, stats={"steps": steps})

    @staticmethod
    def _check(target, x, unpack, ids, candidates, steps) -> tuple[torch.Tensor, float]:
        """Round the batch, collect exact hits; return the hit mask and the best rounded residual."""
        S = unpack(target.snap(x))
        hit = nm.exact_mask(target, *S)
        if target.levels != (1.0,):
            # Richer rings also accept the ternary rounding (often the nearer exact point).
            S3 = unpack(target.snap(x, (1.0,)))
            hit3 = nm.exact_mask(target, *S3) & ~hit
            S = [torch.where(hit3[:, None, None], b, a) for a, b in zip(S, S3)]
            hit = hit | hit3
        if hit.any():
            local = torch.nonzero(hit).flatten().tolist()
            found = nm.make_candidates(target, *S, local, info={"steps": steps})
            for cand, i in zip(found, local):
                cand.sub_index = int(ids[i])
            candidates.extend(found)
        res = nm.residual_norms(target, *S)
        return hit, float(res.min()) if len(res) else float("inf")


METHOD = LMMethod()
