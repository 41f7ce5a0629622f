"""``adam``: batched Adam on the tensor loss with an annealed penalty toward the ring.

All restarts of a task are one (B, P) parameter tensor; the loss of each member is
||T − Σ U⊗V⊗W||² + λ||φ(x)||² + α||x||² (φ vanishes on the allowed values). Adam is
element-wise, so the members stay independent. λ is 0 during the fit and then grows
geometrically; every ``check_every`` steps the whole batch is rounded and checked exactly.
Cheaper per step than ``lm`` (no linear solves), weaker per restart.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from ..contract import Problem, SearchTask, TaskResult
from . import _numeric as nm


@dataclass(frozen=True)
class AdamOptions:
    """Options of the ``adam`` method (see :class:`discover.search.methods.lm.LMOptions`; ``device``
    is ``auto``, ``cpu`` or ``cuda``; ``perturb`` is the noise added to a ``--start`` scheme)."""

    batch: int = 64
    steps: int = 2000
    fit_steps: int = 400
    lr: float = 0.02
    penalty_start: float = 1e-3
    penalty_growth: float = 1.006
    penalty_max: float = 10.0
    alpha: float = 1e-4
    init_scale: float = 0.5
    check_every: int = 20
    device: str = "auto"
    perturb: float = 0.3


class AdamMethod:
    """Batched Adam with annealed rounding (see module docstring)."""

    name = "adam"
    options_type = AdamOptions
    description = "batched Adam on the tensor loss, annealed penalty toward the ring"

    def check(self, problem: Problem, options: AdamOptions) -> None:
        nm.check_numeric_options(self.name, options)
        nm.resolve_device(options.device, self.name)

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        with nm.single_thread():
            return self._run(task, nm.stopper(task, should_stop))

    def _run(self, task: SearchTask, stop: Callable[[], bool]) -> TaskResult:
        opt: AdamOptions = task.options
        device = nm.resolve_device(opt.device, self.name)
        target = nm.Target.from_problem(task.problem, device)
        start = time.monotonic()
        gen = nm.torch_generator(task.seed)
        if task.problem.start is not None:  # warm start: the known scheme plus noise, per restart
            x = nm.warm_factors(task.problem, target, opt.batch, gen, opt.perturb, opt.init_scale)
            r = target.rank
            starts = [p.reshape(opt.batch, r, -1).contiguous() for p in torch.split(x, [r * d for d in target.sizes], dim=1)]
        else:
            starts = nm.random_factors(target, opt.batch, gen, opt.init_scale)
        factors = [f.requires_grad_() for f in starts]
        adam = torch.optim.Adam(factors, lr=opt.lr)
        active = torch.ones(opt.batch, dtype=torch.bool, device=device)
        candidates = []
        best = float("inf")
        steps = 0
        for it in range(opt.steps):
            if not active.any() or stop() or (task.first_hit and candidates):
                break
            steps = it + 1
            lam = 0.0 if it < opt.fit_steps else min(opt.penalty_max, opt.penalty_start * opt.penalty_growth ** (it - opt.fit_steps))
            U, V, W = factors
            loss = (nm.reconstruct(U, V, W) - target.T).pow(2).flatten(1).sum(1)
            for f in factors:
                loss = loss + opt.alpha * f.pow(2).flatten(1).sum(1)
                if lam:
                    loss = loss + lam * target.penalty(f)[0].pow(2).flatten(1).sum(1)
            adam.zero_grad(set_to_none=True)
            (loss * active).sum().backward()
            adam.step()
            if it >= opt.fit_steps and ((it - opt.fit_steps) % opt.check_every == 0 or it == opt.steps - 1):
                best = min(best, self._check(target, factors, active, candidates, steps))
        if active.any() and not (task.first_hit and candidates):
            best = min(best, self._check(target, factors, active, candidates, steps))
        candidates.sort(key=lambda cand: cand.sub_index)
        return TaskResult(task.task_index, restarts=opt.batch, candidates=candidates, best_residual=best,
                          seconds=time.monotonic() - start, stats={"steps": steps, "device": device.type})

    @staticmethod
    def _check(target, factors, active, candidates, steps) -> float:
        with torch.no_grad():
            S = [target.snap(f) for f in factors]
            hit = nm.exact_mask(target, *S) & active
            if hit.any():
                candidates.extend(nm.make_candidates(target, *S, torch.nonzero(hit).flatten().tolist(), info={"steps": steps}))
                active &= ~hit
            res = nm.residual_norms(target, *S)
            return float(res.min())


METHOD = AdamMethod()
