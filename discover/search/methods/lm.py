"""``lm``: batched Levenberg–Marquardt with an annealed penalty toward the allowed values.

Minimises ½||T − Σ_k U_k⊗V_k⊗W_k||² + ½λ||φ(y)||² + ½α||y||² for many restarts at once
(Tichavský–Phan–Cichocki 2017 use LM with a bounded norm; φ vanishes on the allowed
coefficients, e.g. y³ − y for ternary). The tensor batch is a set of *slots*: every slot holds
one restart; when a restart becomes exact, or stalls, its slot is refilled with the next restart
of the task, so every tensor operation works on a full batch.

* Each member has its own clock: λ is 0 until its fit is reached, then grows geometrically,
  pushing every entry onto an allowed value.
* A restart stalls, and is replaced, when its fit is still above ``abandon`` when its fit phase
  ends (the cheap residual test: most such restarts never become exact), or ``patience`` steps
  after λ reached its cap.
* The Gauss–Newton matrix JᵀJ is assembled in closed form from the r×r Gram matrices of the
  factors (never forming J); one step is one batched Cholesky solve of size r·(a+b+c) (or of the
  symmetric parametrisation's size). The linear algebra runs in ``dtype`` (float32 by default:
  the step only has to be good enough, it is accepted only when the float64 objective drops);
  the parameters, the objective and the exact check stay in float64.
* Every ``check_every`` steps the whole batch is rounded and checked exactly (one vectorised
  reconstruction); hits become candidates.
* Over ``--ring Q`` small formats (2x2x2) replace the anneal by the rational pipeline of
  :mod:`~discover.search.methods._rational`: an exact real fit, the scaling gauge of every
  term, then snap-and-refit with backtracking onto the coefficient set ``values``; larger
  formats anneal with a penalty zero on every multiple of 1/2 (``q_rounding``). Either way
  only schemes that keep a fraction under every rescaling of their terms are proposed
  (``halves``).
* ``symmetric=S,T`` (square formats) optimises cyclic-symmetric schemes (S symmetric terms,
  T cyclic triples; see :mod:`discover.search.methods._params`).
* ``problem.start`` (``--start``) warm-starts every restart from the known scheme plus noise of
  size ``perturb`` (terms dropped or added at random to reach the rank).
"""
from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable, Optional

import torch

from ..contract import Problem, SearchError, SearchTask, TaskResult
from . import _numeric as nm
from . import _rational
from ._lmsolve import gauss_newton as _gauss_newton, gradient as _gradient, pcg as _pcg
from ._params import ParamMap, cyclic_map, free_map, parse_symmetric

DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class LMOptions:
    """Options of the ``lm`` method.

    Attributes
    ----------
    batch : int
        Restarts per task; 0 (the default) chooses: 128 (a longer task keeps its slots full
        longer; 3x3x3 r23 gets about twice the schemes per CPU second of 64 tasks of 32 slots),
        64 over ``--ring Q``.
    slots : int
        Restarts solved together in one tensor batch; 0 chooses from the problem size (about
        the same amount of work per step for every format), the solver and the device (and
        at most 4 with the dense solver when the driver wants one scheme only).
    iters : int
        LM steps per restart at most; 0 (the default) chooses 200 (no 3x3x3 r23 restart became
        exact after step 190), 250 over ``--ring Q`` (whose exact real fit takes up to twice this).
    fit_iters, fit_tol : int, float
        A member anneals once ||T − Σ U⊗V⊗W||² < ``fit_tol`` or after ``fit_iters`` steps.
    abandon, abandon_early : float
        The stall test: a member whose fit is above ``abandon`` when its fit phase ends, or
        above ``abandon_early`` after half of ``fit_iters``, is replaced by a new restart (on
        3x3x3 r23 such members almost never become exact); 0 disables a test.
    patience : int
        Steps a member may stay at ``penalty_max`` before it is replaced.
    penalty_start, penalty_growth, penalty_max : float
        λ after the fit phase, its factor per step, and its cap.
    alpha : float
        Tikhonov weight keeping the factors bounded (norm regularisation).
    init_scale : float
        Standard deviation of the random starting entries.
    check_every : int
        Round and check the batch exactly every this many steps.
    dtype : str
        ``float32`` or ``float64`` for the Gauss–Newton solve (the parameters stay float64).
    device : str
        ``auto`` (CUDA when available), ``cpu`` or ``cuda``.
    symmetric : str
        ``S,T``: search cyclic-symmetric schemes of square formats with S symmetric terms and T
        cyclic triples (S + 3T = rank); empty: no symmetry.
    perturb : float
        Standard deviation of the noise added to a ``--start`` scheme for each restart.
    q_rounding : str
        Ring Q: ``snap`` (exact real fit, gauge, snap-and-refit with backtracking; see
        :mod:`~discover.search.methods._rational`), ``anneal`` (the penalty ``q_penalty``) or
        ``auto``: ``snap`` for formats of naive rank at most 8 (2x2x2), ``anneal`` above (and
        with ``symmetric=``), as measured (2x3x3 r15: anneal 4 seeds of 5 within 120 s on
        one core, snap none from random starts).
    halves : bool
        Ring Q: propose only schemes with a coefficient that no rescaling of the terms
        (a·u, b·v, w/(a·b)) makes integral, i.e. what ``--ring Z``/``ZT`` cannot find; an exact
        scheme that rescales to integers is skipped (counted as ``integral_skipped``). False
        accepts every exact scheme over Q.
    values : str
        Ring Q, ``snap``: the positive coefficients allowed (0 and signs implied), e.g.
        ``1/2,2``, strictly; empty: the grid 1/2, 1, 2 and the integers up to ``--bound``, and a
        dead end of the snapping that is exact with denominators 4 is accepted too.
    snap_tries, snap_budget : int
        Snap-and-refit: units (factor vectors) refitted together per round (the one that
        leaves the rest nearest the grid is kept), and refit rounds per restart before it is
        given up (0: rank + 5; a restart that snaps at all usually does so without backtracking).
    exact_tol, refit_iters : float, int
        Snap-and-refit: the fit counted as an exact real solution, and LM steps per refit.
    q_penalty : str
        Ring Q, ``anneal``: ``halves`` (periodic sin(2πy), zero on every multiple of 1/2), ``levels`` (the
        polynomial y·Π(y² − v²) over the grid up to ``--bound``) or ``ternary`` (y³ − y: finds
        ternary schemes, which are in Q too; needs ``halves=false``).
    solver : str
        ``cholesky`` (assemble JᵀJ, one dense solve), ``cg`` (matrix-free conjugate gradients
        preconditioned by the per-factor ALS blocks: cheap for large formats) or ``auto``
        (``cg`` above 300 parameters per restart without symmetry).
    cg_iters, cg_tol : int, float
        Conjugate-gradient iterations per LM step at most, and the relative residual to stop at.
    precond : str
        The conjugate-gradient preconditioner: ``shared`` (one r×r ALS block per factor, its
        inverse applied as a product) or ``columns`` (one block per column of each factor: a
        little more accurate, about 1.5 times the cost of a step on 3x3x3 r23).
    """

    batch: int = 0
    slots: int = 0
    iters: int = 0
    fit_iters: int = 100
    fit_tol: float = 1e-3
    abandon: float = 5e-3
    abandon_early: float = 0.5
    patience: int = 40
    penalty_start: float = 1e-3
    penalty_growth: float = 1.05
    penalty_max: float = 30.0
    alpha: float = 1e-3
    init_scale: float = 0.5
    check_every: int = 5
    dtype: str = "float32"
    device: str = "auto"
    symmetric: str = ""
    perturb: float = 0.3
    q_rounding: str = "auto"
    halves: bool = True
    values: str = ""
    snap_tries: int = 8
    snap_budget: int = 0
    exact_tol: float = 1e-22
    refit_iters: int = 20
    q_penalty: str = "halves"
    solver: str = "auto"
    cg_iters: int = 10
    cg_tol: float = 1e-3
    precond: str = "shared"


def q_rounding(problem: Problem, options: LMOptions) -> str:
    """The rounding over ring Q: ``options.q_rounding``, with ``auto`` resolved (see LMOptions)."""
    if options.q_rounding != "auto":
        return options.q_rounding
    return "snap" if problem.format.naive_rank <= 8 and not options.symmetric else "anneal"


def auto_slots(params: int, device: torch.device, solver: str = "cholesky") -> int:
    """Slots so that one step is about the same work for every format (≈ 3·10⁷ flops on CPU).

    A Cholesky solve of size P costs P³/3, so a 2x2x2 r7 step (P = 84) batches many restarts
    and a 3x3x3 r23 step (P = 621) a few. A conjugate-gradient step costs a few r×r products per
    iteration, so its batch is set by the Python overhead per operation (64 restarts). A GPU
    takes 16 times more per step.
    """
    scale = 16 if device.type == "cuda" else 1
    if solver == "cg":
        return 64 * scale
    return int(min(256 * scale, max(2, round(3e7 * scale / (params ** 3 / 3)))))


class LMMethod:
    """Batched Levenberg–Marquardt with annealed rounding (see module docstring)."""

    name = "lm"
    options_type = LMOptions
    description = "batched Levenberg-Marquardt, annealed penalty toward the ring, exact rounding checks"

    def fill_defaults(self, problem: Problem, options: LMOptions) -> LMOptions:
        """``options`` with the problem-dependent defaults (``batch``, ``iters`` = 0) chosen.

        The driver calls this before it numbers restarts (restart = task·batch + member).
        """
        rational = problem.ring == "Q"
        changes = {}
        if options.batch == 0:
            changes["batch"] = 64 if rational else 128
        if options.iters == 0:
            changes["iters"] = 250 if rational else 200
        return dataclasses.replace(options, **changes) if changes else options

    def check(self, problem: Problem, options: LMOptions) -> None:
        options = self.fill_defaults(problem, options)
        nm.check_numeric_options(self.name, options)
        if options.q_penalty not in ("halves", "levels", "ternary"):
            raise SearchError(f"lm: q_penalty={options.q_penalty!r}: choose halves, levels or ternary")
        if options.solver not in ("auto", "cg", "cholesky"):
            raise SearchError(f"lm: solver={options.solver!r}: choose auto, cg or cholesky")
        if options.q_rounding not in ("auto", "snap", "anneal"):
            raise SearchError(f"lm: q_rounding={options.q_rounding!r}: choose auto, snap or anneal")
        if problem.ring == "Q" and options.halves and options.q_penalty == "ternary" \
                and q_rounding(problem, options) == "anneal":
            raise SearchError("lm: q_penalty=ternary finds schemes that rescale to integers only; "
                              "add -O halves=false to accept them over ring Q")
        if options.values:
            try:
                _rational.parse_values(options.values)
            except (ValueError, ZeroDivisionError) as e:
                raise SearchError(f"lm: values={options.values!r}: expected positive numbers like 1/2,1,2 ({e})") from None
        if problem.ring == "Q" and options.q_rounding == "snap" and options.symmetric:
            raise SearchError("lm: symmetric= over ring Q needs q_rounding=anneal")
        if options.precond not in ("shared", "columns"):
            raise SearchError(f"lm: precond={options.precond!r}: choose shared or columns")
        if options.solver == "cg" and options.symmetric:
            raise SearchError("lm: solver=cg does not support symmetric= (use solver=cholesky)")
        if options.dtype not in DTYPES:
            raise SearchError(f"lm: dtype={options.dtype!r}: choose float32 or float64")
        nm.resolve_device(options.device, self.name)
        if options.symmetric:
            n, m, p = problem.format.dims
            if not n == m == p:
                raise SearchError(f"lm: symmetric= needs a square format (n=m=p), not {problem.format}")
            parse_symmetric(options.symmetric, n, problem.rank)
            if problem.start is not None:
                raise SearchError("lm: --start and symmetric= cannot be combined")

    def run_task(self, task: SearchTask, should_stop: Callable[[], bool]) -> TaskResult:
        with nm.single_thread():
            return _Run(task, nm.stopper(task, should_stop)).run()


class _Run:
    """One task: ``batch`` restarts through ``slots`` tensor slots."""

    def __init__(self, task: SearchTask, stop: Callable[[], bool]) -> None:
        self.task, self.stop = task, stop
        self.opt: LMOptions = METHOD.fill_defaults(task.problem, task.options)
        opt = self.opt
        self.device = nm.resolve_device(opt.device, "lm")
        self.target = nm.Target.from_problem(task.problem, self.device)
        self.work = DTYPES[opt.dtype]
        self.gen = nm.torch_generator(task.seed)
        a, b, c = self.target.sizes
        r = self.target.rank
        self.splits = (r * a, r * b, r * c)
        if opt.symmetric:
            n = task.problem.format.dims[0]
            self.pmap: ParamMap = cyclic_map(n, *parse_symmetric(opt.symmetric, n, r)).to(self.device)
        else:
            self.pmap = free_map(r, (a, b, c))
        if opt.solver == "auto":
            self.solver = "cg" if self.pmap.index is None and self.pmap.size > 300 else "cholesky"
        else:
            self.solver = opt.solver
        slots = opt.slots or auto_slots(self.pmap.size, self.device, self.solver)
        if task.first_hit and not opt.slots and self.solver == "cholesky":
            # one scheme wanted: small steps reach the first exact member sooner (2x2x2: ~25 steps)
            slots = min(slots, 4)
        self.slots = min(opt.batch, slots)
        self.anneal_len = math.log(opt.penalty_max / opt.penalty_start) / math.log(opt.penalty_growth) + opt.patience
        self.mu_min = 1e-6 if self.work == torch.float32 else 1e-9
        self.candidates: list = []
        self.best = float("inf")
        self.steps = 0
        self.started = 0
        self.abandoned = 0
        self.trace: Optional[list] = None
        self.ternary_penalty = opt.q_penalty == "ternary"
        self.periodic = opt.q_penalty == "halves"
        self.refitting = self.target.ring == "Q" and q_rounding(task.problem, opt) == "snap"
        self.need_halves = self.target.ring == "Q" and opt.halves
        self.integral_skipped = 0

    # -- members ---------------------------------------------------------------------------
    def _new(self, k: int) -> dict[str, torch.Tensor]:
        """State of k fresh restarts (the next k member indices)."""
        opt, dev = self.opt, self.device
        if self.task.problem.start is not None:
            y = nm.warm_factors(self.task.problem, self.target, k, self.gen, opt.perturb, opt.init_scale)
        else:
            y = (torch.randn(k, self.pmap.size, generator=self.gen, dtype=torch.float64) * opt.init_scale).to(dev)
        ids = torch.arange(self.started, self.started + k, device=dev)
        self.started += k
        f64 = dict(dtype=torch.float64, device=dev)
        return {"y": y, "ids": ids, "mu": torch.full((k,), 1e-2, **f64), "clock": torch.full((k,), -1.0, **f64),
                "age": torch.zeros(k, dtype=torch.long, device=dev)}

    def unpack(self, y: torch.Tensor) -> list[torch.Tensor]:
        x = self.pmap.expand(y)
        r = self.target.rank
        return [p.reshape(x.shape[0], r, -1) for p in torch.split(x, self.splits, dim=1)]

    def fit_of(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, list[torch.Tensor]]:
        F = self.unpack(y)
        R = nm.reconstruct(*F) - self.target.T
        return R.pow(2).flatten(1).sum(1), R, F

    # -- one LM step for every slot ---------------------------------------------------------
    def step(self, s: dict[str, torch.Tensor]) -> torch.Tensor:
        opt, tg = self.opt, self.target
        y, mu, clock = s["y"], s["mu"], s["clock"]
        alpha = torch.full_like(mu, opt.alpha)
        lam = torch.where(clock >= 0, (opt.penalty_start * opt.penalty_growth ** clock).clamp(max=opt.penalty_max), 0.0)
        fit, R, (U, V, W) = self.fit_of(y)
        phi, dphi = tg.penalty(y, self.ternary_penalty, self.periodic)
        alpha_ = alpha[:, None]
        f0 = 0.5 * (fit + lam * phi.pow(2).sum(1) + alpha * y.pow(2).sum(1))
        lam_ = lam[:, None]
        diag = lam_ * dphi * dphi + alpha_ + mu[:, None]
        if self.solver == "cg":
            g = _gradient(R, U, V, W) + lam_ * phi * dphi + alpha_ * y
            w = self.work
            delta, ok = _pcg(U.to(w), V.to(w), W.to(w), diag.to(w), g.to(w), None, opt.cg_iters, opt.cg_tol,
                             shared=opt.precond == "shared")
            delta = delta.double()
        else:
            w = self.work
            Uw, Vw, Ww = U.to(w), V.to(w), W.to(w)
            H = self.pmap.reduce_matrix(_gauss_newton(Uw, Vw, Ww))
            g = self.pmap.reduce_vector(_gradient(R.to(w), Uw, Vw, Ww).double())
            g = g + lam_ * phi * dphi + alpha_ * y
            H.diagonal(dim1=1, dim2=2).add_(diag.to(w))
            L, info = torch.linalg.cholesky_ex(H)
            ok = info == 0
            delta = -torch.cholesky_solve(g.to(w).unsqueeze(-1), L).squeeze(-1).double()
        delta = torch.where(ok[:, None] & torch.isfinite(delta), delta, 0.0)
        y_new = y + delta
        fit1, _, _ = self.fit_of(y_new)
        phi1, _ = tg.penalty(y_new, self.ternary_penalty, self.periodic)
        f1 = 0.5 * (fit1 + lam * phi1.pow(2).sum(1) + alpha * y_new.pow(2).sum(1))
        accept = ok & (f1 < f0)
        s["y"] = torch.where(accept[:, None], y_new, y)
        s["mu"] = torch.where(accept, mu / 3.0, mu * 4.0).clamp(self.mu_min, 1e9)
        # the fit phase ends at fit_tol or after fit_iters steps
        s["clock"] = torch.where((clock < 0) & ((fit < opt.fit_tol) | (s["age"] >= opt.fit_iters)), 0.0,
                                 torch.where(clock >= 0, clock + 1, clock))
        s["age"] = s["age"] + 1
        return torch.where(accept, fit1, fit)

    # -- rounding and the exact check -------------------------------------------------------
    def check(self, s: dict[str, torch.Tensor]) -> torch.Tensor:
        """Round the batch, collect exact hits; return the hit mask."""
        tg = self.target
        y = s["y"]
        S = self.unpack(tg.snap(y))
        hit = nm.exact_mask(tg, *S)
        if tg.levels != (1.0,):
            # Richer rings also accept the ternary rounding (often the nearer exact point).
            S3 = self.unpack(tg.snap(y, (1.0,)))
            hit3 = nm.exact_mask(tg, *S3) & ~hit
            S = [torch.where(hit3[:, None, None], b, a) for a, b in zip(S, S3)]
            hit = hit | hit3
        res = nm.residual_norms(tg, *S)
        if len(res):
            self.best = min(self.best, float(res.min()))
        if bool(hit.any()):
            local = torch.nonzero(hit).flatten().tolist()
            found = nm.make_candidates(tg, *S, local, info={"steps": self.steps})
            for cand, i in zip(found, local):
                cand.sub_index = int(s["ids"][i])
                cand.info["age"] = int(s["age"][i])
            self.candidates.extend(self.with_halves(found))
        return hit

    def with_halves(self, found: list) -> list:
        """``found`` without the schemes that rescale to integers, when ring Q asks for halves."""
        if not self.need_halves:
            return found
        keep = [c for c in found if not _rational.integral_up_to_scaling(c.U, c.V, c.W)]
        self.integral_skipped += len(found) - len(keep)
        return keep

    # -- ring Q: exact fit, gauge, snap-and-refit ------------------------------------------
    def q_values(self) -> tuple[float, ...]:
        """The positive coefficients of the snap grid: ``values``, or 1/2, 1, 2 and the integers to ``--bound``."""
        if self.opt.values:
            return _rational.parse_values(self.opt.values)
        return tuple(sorted({0.5, 1.0, 2.0} | {float(v) for v in range(1, self.target.bound + 1)}))

    def run_rational(self, start: float) -> TaskResult:
        """Ring Q: batches of restarts fitted to exact real solutions, then each one snapped."""
        opt, task, tg = self.opt, self.task, self.target
        r, sizes = tg.rank, tg.sizes
        grid = _rational.Grid.of(self.q_values(), self.device)
        rounds = backtracks = 0
        while self.started < opt.batch and not self.stop() and not (task.first_hit and self.candidates):
            s = self._new(min(opt.slots or 8, opt.batch - self.started))
            y, exact, steps = _rational.fit_exact(  # an exact real fit takes longer than a fit to fit_tol
                s["y"], tg.T, r, alpha=opt.alpha, steps=2 * opt.iters, tol=opt.exact_tol, abandon_early=opt.abandon_early,
                abandon=opt.abandon, fit_iters=opt.fit_iters, stop=self.stop, chunk=opt.check_every)
            self.steps += steps
            self.abandoned += int((~exact).sum())
            self.best = min(self.best, float(_rational.fit_of(grid.snap(y), tg.T, r)[0].min()))
            for i in torch.nonzero(exact).flatten().tolist():
                if self.stop() or (task.first_hit and self.candidates):
                    break
                stats = _rational.SnapStats()
                out = _rational.snap_member(y[i:i + 1], grid, tg.T, r, tries=opt.snap_tries,
                                            budget=opt.snap_budget or r + 5,
                                            refit_iters=opt.refit_iters, tol=opt.exact_tol, stop=self.stop, stats=stats,
                                            quarters=not opt.values)
                rounds += stats.rounds
                backtracks += stats.backtracks
                self.best = min(self.best, stats.best_residual)
                if out is None:
                    continue
                F = _rational.exact_factors(out, r, sizes)
                found = nm.make_candidates(tg, *F, [0], info={"snap_rounds": stats.rounds, "backtracks": stats.backtracks})
                found[0].sub_index = int(s["ids"][i])
                self.candidates.extend(self.with_halves(found))
        self.candidates.sort(key=lambda cand: cand.sub_index)
        return TaskResult(task.task_index, restarts=self.started, candidates=self.candidates, best_residual=self.best,
                          seconds=time.monotonic() - start,
                          stats={"steps": self.steps, "slots": self.slots, "abandoned": self.abandoned,
                                 "snap_rounds": rounds, "backtracks": backtracks, "device": self.device.type,
                                 "integral_skipped": self.integral_skipped,
                                 "dtype": "float64"})

    # -- the task loop ----------------------------------------------------------------------
    def run(self) -> TaskResult:
        opt, task = self.opt, self.task
        start = time.monotonic()
        if self.refitting:
            return self.run_rational(start)
        s = self._new(self.slots)
        while len(s["y"]):
            if self.stop() or (task.first_hit and self.candidates):
                break
            fit = self.step(s)
            self.steps += 1
            if self.steps % opt.check_every:
                continue
            hit = self.check(s)
            if self.trace is not None:  # (member, age, fit, hit) for tuning the stall test
                self.trace.extend(zip(s["ids"].tolist(), s["age"].tolist(), fit.tolist(), hit.tolist()))
            # the cheap residual test: at mid-fit and when the fit phase ends
            age, clock = s["age"], s["clock"]
            half = opt.fit_iters // 2
            stalled = ((clock >= 0) & (clock < opt.check_every) & (fit > opt.abandon) & (opt.abandon > 0)) \
                | ((age >= half) & (age < half + opt.check_every) & (fit > opt.abandon_early) & (opt.abandon_early > 0))
            done = (s["clock"] > self.anneal_len) | (s["age"] >= opt.iters)
            self.abandoned += int((stalled & ~hit).sum())
            keep = ~(hit | stalled | done)
            if bool(keep.all()):
                continue
            s = {k: v[keep] for k, v in s.items()}
            room = min(self.slots - len(s["y"]), opt.batch - self.started)
            if room > 0 and not (task.first_hit and self.candidates):
                fresh = self._new(room)
                s = {k: torch.cat([s[k], fresh[k]]) for k in s}
        if len(s["y"]) and not (task.first_hit and self.candidates):
            self.check(s)
        self.candidates.sort(key=lambda cand: cand.sub_index)
        return TaskResult(task.task_index, restarts=self.started, candidates=self.candidates, best_residual=self.best,
                          seconds=time.monotonic() - start,
                          stats={"steps": self.steps, "slots": self.slots, "abandoned": self.abandoned,
                                 "device": self.device.type, "dtype": opt.dtype,
                                 **({"integral_skipped": self.integral_skipped} if self.need_halves else {})})


METHOD = LMMethod()
