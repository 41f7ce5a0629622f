"""``sgd``: the StrassenNets way: train sum-product networks on random (A, B) pairs with Adam.

``batch`` networks (:class:`discover.spn.SumProductMatmul`) are trained at once in one torch
tensor (CUDA when available and ``device=auto``). Two quantisers:

* ``ste``: the paper's straight-through ternary estimator after a full-precision warm-up
  (the faithful baseline: it rarely lands on an exact scheme);
* ``penalty`` (default): full precision plus an annealed Σ(w³ − w)² penalty, which is what
  makes it work.

Every ``check_every`` steps the ternary weights of every network are checked exactly.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch

from ...spn import SumProductMatmul, random_matmul_batch
from ..contract import Problem, SearchError, SearchTask, TaskResult
from . import _numeric as nm


@dataclass(frozen=True)
class SGDOptions:
    """Options of the ``sgd`` method.

    Attributes
    ----------
    batch : int
        Networks (restarts) trained together.
    quantizer : str
        ``penalty`` (annealed penalty toward {-1,0,1}) or ``ste`` (straight-through ternary).
    steps : int
        Adam steps at most.
    warmup : int
        Full-precision steps before the penalty or the STE starts.
    samples : int
        Random (A, B) pairs per step.
    lr : float
        Adam learning rate.
    penalty_start, penalty_growth, penalty_max : float
        Annealed penalty weight (``penalty`` quantiser).
    check_every : int
        Steps between exact checks of the ternary weights.
    device : str
        ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    """

    batch: int = 64
    quantizer: str = "penalty"
    steps: int = 4000
    warmup: int = 1500
    samples: int = 64
    lr: float = 0.01
    penalty_start: float = 1e-3
    penalty_growth: float = 1.005
    penalty_max: float = 1.0
    check_every: int = 25
    device: str = "auto"


class SGDMethod:
    """StrassenNets-style training of batched sum-product networks (see module docstring)."""

    name = "sgd"
    options_type = SGDOptions
    description = "StrassenNets sum-product network trained with Adam (penalty or STE quantiser)"

    def check(self, problem: Problem, options: SGDOptions) -> None:
        if problem.ring not in ("ZT", "Z2"):
            raise SearchError("sgd searches ternary coefficients only (--ring ZT or Z2)")
        if options.quantizer not in ("penalty", "ste"):
            raise SearchError(f"sgd: quantizer={options.quantizer!r}: choose penalty or ste")
        nm.check_numeric_options(self.name, options)
        if options.device not in ("auto", "cpu", "cuda"):
            raise SearchError(f"sgd: device={options.device!r}: choose auto, cpu or cuda")
        if options.device == "cuda" and not torch.cuda.is_available():
            raise SearchError("sgd: device=cuda but no CUDA device is available (use device=auto or cpu)")

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        with nm.single_thread():
            return self._run(task, nm.stopper(task, should_stop))

    def _run(self, task: SearchTask, stop: Callable[[], bool]) -> TaskResult:
        opt: SGDOptions = task.options
        problem = task.problem
        target = nm.Target.from_problem(problem)
        start = time.monotonic()
        gen = nm.torch_generator(task.seed)
        device = "cuda" if opt.device == "cuda" or (opt.device == "auto" and torch.cuda.is_available()) else "cpu"
        net = SumProductMatmul(problem.format, problem.rank, opt.batch, quantizer="none", generator=gen).to(device)
        adam = torch.optim.Adam(net.parameters(), lr=opt.lr)
        active = torch.ones(opt.batch, dtype=torch.bool)
        candidates: list = []
        best = float("inf")
        steps = 0
        for it in range(opt.steps):
            if not active.any() or stop() or (task.first_hit and candidates):
                break
            steps = it + 1
            if it == opt.warmup and opt.quantizer == "ste":
                net.quantizer = "ste"
            a, b, c = random_matmul_batch(problem.format, opt.samples, generator=gen, device=device)
            loss = (net(a, b) - c).pow(2).mean(dim=(1, 2))
            if opt.quantizer == "penalty" and it >= opt.warmup:
                lam = min(opt.penalty_max, opt.penalty_start * opt.penalty_growth ** (it - opt.warmup))
                loss = loss + lam * net.penalty()
            adam.zero_grad(set_to_none=True)
            (loss * active.to(device)).sum().backward()
            adam.step()
            if it >= opt.warmup and (it % opt.check_every == 0 or it == opt.steps - 1):
                best = min(best, self._check(target, net, active, candidates, steps))
        if active.any() and steps > opt.warmup and not (task.first_hit and candidates):
            best = min(best, self._check(target, net, active, candidates, steps))
        candidates.sort(key=lambda cand: cand.sub_index)
        return TaskResult(task.task_index, restarts=opt.batch, candidates=candidates, best_residual=best,
                          seconds=time.monotonic() - start, stats={"steps": steps, "device": device})

    @staticmethod
    def _check(target: nm.Target, net: SumProductMatmul, active: torch.Tensor, candidates: list, steps: int) -> float:
        B, r = net.batch, net.rank
        if net.quantizer == "ste":
            U, V, W = (torch.as_tensor(x, dtype=torch.float64).reshape(B, r, -1) for x in net.to_arrays())
            hit = nm.exact_mask(target, U, V, W)
        else:  # round the raw weights, as they are and balanced
            raw = (torch.as_tensor(x, dtype=torch.float64).reshape(B, r, -1) for x in net.to_arrays(quantized=False))
            (U, V, W), hit = nm.snapped_hits(target, *raw)
        hit = hit & active
        if hit.any():
            candidates.extend(nm.make_candidates(target, U, V, W, torch.nonzero(hit).flatten().tolist(), info={"steps": steps}))
            active &= ~hit
        return float(nm.residual_norms(target, U, V, W).min())


METHOD = SGDMethod()
