"""Batched continuous machinery shared by the numerical methods (torch; CPU or CUDA).

Every restart of a batch is one slice of the leading dimension: factors have shapes
``U (B, r, a)``, ``V (B, r, b)``, ``W (B, r, c)`` with a = n·m, b = m·p, c = n·p, laid out
like :func:`discover.tensor.matmul_tensor`. The helpers here turn the problem's ring into a
rounding rule and a penalty that vanishes on the allowed values, check a whole batch of
rounded candidates exactly (small integers are exact in float64), and hand the hits to the
driver as :class:`~discover.search.base.Candidate` objects.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Iterator, Optional

import numpy as np
import torch

from ...tensor import matmul_tensor
from ..contract import Candidate, Problem, SearchError, SearchTask


@dataclass(frozen=True)
class Target:
    """The tensor to decompose and the coefficient set, in torch form."""

    T: torch.Tensor  # (a, b, c) float64
    rank: int
    ring: str
    bound: int
    shapes: tuple[tuple[int, int], tuple[int, int], tuple[int, int]]

    @classmethod
    def from_problem(cls, problem: Problem, device: "torch.device | str" = "cpu") -> "Target":
        T = torch.from_numpy(matmul_tensor(problem.format).astype(np.float64)).to(device)
        return cls(T, problem.rank, problem.ring, max(1, int(problem.coefficient_bound)), problem.format.shapes)

    @property
    def device(self) -> torch.device:
        return self.T.device

    @property
    def sizes(self) -> tuple[int, int, int]:
        return tuple(self.T.shape)  # type: ignore[return-value]

    @property
    def step(self) -> float:
        """Spacing of the allowed values: 1/2 for Q (halves), else 1."""
        return 0.5 if self.ring == "Q" else 1.0

    @property
    def levels(self) -> tuple[float, ...]:
        """The allowed positive values: {1} ternary, {1..bound} integers, the halves up to bound for Q."""
        if self.ring in ("ZT", "Z2"):
            return (1.0,)
        if self.ring == "Q":
            return tuple(v / 2 for v in range(1, 2 * self.bound + 1))
        return tuple(float(v) for v in range(1, self.bound + 1))

    def snap(self, x: torch.Tensor, levels: "tuple[float, ...] | None" = None) -> torch.Tensor:
        """Nearest allowed value of every entry (among ``levels`` when given).

        Every level set here is a grid (multiples of ``step`` up to the largest level), so
        rounding is one ``round`` and one ``clamp``.
        """
        levels = levels or self.levels
        step = levels[0]
        return (torch.round(x / step) * step).clamp(-levels[-1], levels[-1])

    def penalty(self, x: torch.Tensor, ternary: bool = False, periodic: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """Residual φ(x) that is zero exactly on the allowed values, and φ'(x).

        φ(x) = x·Π_v (x² − v²) / Π_v v² over the allowed positive values v: for ternary
        coefficients this is x³ − x (the x(x²−1) penalty of the reference prototype). For Q
        (halves) it is the periodic sin(2πx)/2π, zero on every multiple of 1/2: the degree-7
        polynomial of {1/2, 1, 2} is too steep outside [−2, 2] and too flat inside (the norm
        penalty keeps the entries small, and the rounding clamps them to ±bound).
        """
        if self.ring == "Q" and periodic and not ternary:
            t = 2.0 * math.pi * x
            return torch.sin(t) / (2.0 * math.pi), torch.cos(t)
        levels = (1.0,) if ternary else self.levels
        if levels == (1.0,):  # x³ − x, the common case, in three operations
            x2 = x * x
            return x * (x2 - 1.0), 3.0 * x2 - 1.0
        scale = math.prod(v * v for v in levels)
        factors = [x * x - v * v for v in levels]
        prod = torch.ones_like(x)
        for g in factors:
            prod = prod * g
        deriv = prod.clone()
        for i in range(len(factors)):
            others = torch.ones_like(x)
            for j, g in enumerate(factors):
                if j != i:
                    others = others * g
            deriv = deriv + 2.0 * x * x * others
        return x * prod / scale, deriv / scale


def reconstruct(U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Σ_k U_k ⊗ V_k ⊗ W_k for every batch member: shape (B, a, b, c)."""
    B, r, a = U.shape
    b, c = V.shape[2], W.shape[2]
    kr = (U[:, :, :, None] * V[:, :, None, :]).reshape(B, r, a * b)  # Khatri–Rao rows, one bmm below
    return (kr.transpose(1, 2) @ W).reshape(B, a, b, c)


def exact_mask(target: Target, U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Which batch members' (already snapped) factors reproduce T exactly (mod 2 for Z2).

    Values are multiples of 1/2 at most 2 in size, so every product and sum is exact in float64.
    """
    diff = reconstruct(U, V, W) - target.T.to(U.dtype)
    if target.ring == "Z2":
        diff = torch.remainder(diff, 2.0)
    return (diff == 0).flatten(1).all(dim=1)


def residual_norms(target: Target, U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """||T − Σ U⊗V⊗W||² per batch member."""
    return (reconstruct(U, V, W) - target.T).pow(2).flatten(1).sum(dim=1)


def _exact_values(arr: np.ndarray, step: float) -> np.ndarray:
    if step == 1.0:
        return np.vectorize(int, otypes=[object])(np.rint(arr))
    # the snap grids hold small rationals (halves by default): recover them from their floats
    return np.vectorize(lambda v: Fraction(float(v)).limit_denominator(1024), otypes=[object])(arr)


def _lead_sign(x: np.ndarray) -> np.ndarray:
    """Sign of the first nonzero entry of each row (1 for an all-zero row)."""
    nz = x != 0
    first = np.where(nz.any(axis=1), nz.argmax(axis=1), 0)
    sign = np.sign(x[np.arange(len(x)), first])
    return np.where(sign == 0, 1.0, sign)


def _positive_leads(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flip term signs so the first nonzero of U_k and V_k is positive (W_k absorbs them).

    The terms are unchanged; the formulas just read better (``(a11 + a22)`` not ``(-a11 - a22)``).
    """
    su, sv = _lead_sign(u), _lead_sign(v)
    return u * su[:, None], v * sv[:, None], w * (su * sv)[:, None]


def make_candidates(
    target: Target,
    U: torch.Tensor,
    V: torch.Tensor,
    W: torch.Tensor,
    indices: list[int],
    info: Optional[dict] = None,
) -> list[Candidate]:
    """Candidates (exact object arrays in the scheme's layout) for the given batch members."""
    (n, m), (_, p), _ = target.shapes
    r = target.rank
    out = []
    for i in indices:
        uf, vf, wf = _positive_leads(*(X[i].detach().double().cpu().numpy() for X in (U, V, W)))
        u = _exact_values(uf, target.step).reshape(r, n, m)
        v = _exact_values(vf, target.step).reshape(r, m, p)
        w = _exact_values(wf, target.step).reshape(r, n, p)
        mod2 = False
        if target.ring == "Z2":
            # Label mod 2 only when the same coefficients fail over the integers.
            mod2 = not bool(exact_mask(target_over_z(target), U[i : i + 1], V[i : i + 1], W[i : i + 1])[0])
        out.append(Candidate(u, v, w, mod2=mod2, sub_index=int(i), info=dict(info or {})))
    return out


def target_over_z(target: Target) -> Target:
    """The same target checked over the integers (for labelling Z2 hits)."""
    return Target(target.T, target.rank, "ZT", target.bound, target.shapes)


def random_factors(target: Target, batch: int, gen: torch.Generator, scale: float) -> list[torch.Tensor]:
    """Gaussian starting points U, V, W with entries of standard deviation ``scale``.

    Drawn on the CPU generator (the same starts on every device), then moved to the target's device.
    """
    a, b, c = target.sizes
    r = target.rank
    return [(torch.randn(batch, r, d, generator=gen, dtype=torch.float64) * scale).to(target.device) for d in (a, b, c)]


def warm_factors(problem: Problem, target: Target, batch: int, gen: torch.Generator, scale: float,
                 init_scale: float) -> torch.Tensor:
    """``batch`` starts (B, full) near ``problem.start``: its terms (a random subset of ``rank``
    when it has more, random small terms added when fewer) plus Gaussian noise of size ``scale``."""
    r = target.rank
    U0, V0, W0 = (torch.as_tensor(np.array(X.astype(float), dtype=np.float64).reshape(X.shape[0], -1)) for X in problem.start.factors)
    rs = U0.shape[0]
    out = []
    for _ in range(batch):
        if rs >= r:
            keep = torch.randperm(rs, generator=gen)[:r].sort().values
            parts = [X[keep] for X in (U0, V0, W0)]
        else:
            parts = [torch.cat([X, torch.randn(r - rs, X.shape[1], generator=gen, dtype=torch.float64) * init_scale])
                     for X in (U0, V0, W0)]
        x = torch.cat([p.flatten() for p in parts])
        out.append(x + torch.randn(x.shape, generator=gen, dtype=torch.float64) * scale)
    return torch.stack(out).to(target.device)


DEVICES = ("auto", "cpu", "cuda")


def resolve_device(name: str, method: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; ``cuda`` without a GPU is a usage error."""
    if name not in DEVICES:
        raise SearchError(f"{method}: device={name!r}: choose auto, cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise SearchError(f"{method}: device=cuda but no CUDA device is available (use device=auto or cpu)")
    return torch.device("cuda" if name == "cuda" or (name == "auto" and torch.cuda.is_available()) else "cpu")


def torch_generator(seed: np.random.SeedSequence) -> torch.Generator:
    """A torch generator seeded from the task's SeedSequence (deterministic per task)."""
    gen = torch.Generator()
    gen.manual_seed(int(seed.generate_state(1, dtype=np.uint64)[0] % (2**63)))
    return gen


@contextlib.contextmanager
def single_thread() -> Iterator[None]:
    """Run torch on one thread: results must not depend on the machine's thread count."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)


def stopper(task: SearchTask, should_stop: Callable[[], bool]) -> Callable[[], bool]:
    """``should_stop`` extended with the task's own time limit."""
    start = time.monotonic()
    limit = task.time_limit

    def stop() -> bool:
        if limit is not None and time.monotonic() - start > limit:
            return True
        return should_stop()

    return stop


#: Integer options where 0 means "chosen from the problem size".
ZERO_MEANS_AUTO = frozenset({"slots", "snap_budget"})


def check_numeric_options(name: str, options: object) -> None:
    """Counts at least 1 (``batch``, step counts, ``check_every``), other numbers finite and ≥ 0."""
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        low = 1 if isinstance(value, int) and f.name not in ZERO_MEANS_AUTO else 0
        if not math.isfinite(value) or value < low:
            what = "an integer ≥ 1" if low else "an integer ≥ 0" if isinstance(value, int) else "a finite number ≥ 0"
            raise SearchError(f"{name}: {f.name} must be {what}, got {value!r}")


def balanced(U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rescale every term so that max|U_k| = max|V_k| = 1, moving the scales into W_k.

    The terms are unchanged, but a near-solution like (2u, v/2, w) rounds correctly after this.
    """
    su = U.abs().amax(dim=2, keepdim=True).clamp(min=1e-6)
    sv = V.abs().amax(dim=2, keepdim=True).clamp(min=1e-6)
    return U / su, V / sv, W * su * sv


def snapped_hits(target: Target, U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Round the batch two ways (as is, and balanced first); return the rounded factors and the exact mask."""
    S = [target.snap(f) for f in (U, V, W)]
    hit = exact_mask(target, *S)
    B = [target.snap(f) for f in balanced(U, V, W)]
    hit_b = exact_mask(target, *B) & ~hit
    S = [torch.where(hit_b[:, None, None], b, a) for a, b in zip(S, B)]
    return S, hit | hit_b
