"""Fewer additions at the same rank: search a scheme's symmetry orbit for a cheaper form.

Every scheme has many equivalent forms: the sandwich A → X A Y⁻¹, B → Y B Z⁻¹, C → X C Z⁻¹
(:func:`discover.symmetry.sandwich`) maps a scheme for ⟨n,m,p⟩ to another one of the same rank,
and for square formats the cyclic and transposed orientations do too. Their additions after
common-subexpression elimination (:func:`discover.catalog.eliminated_additions`) differ: Strassen's
scheme needs 18 written and 16 after greedy elimination, its sandwiched form Winograd's variant 15.

:func:`optimize_additions` walks that orbit by elementary moves (X, Y or Z = I ± e_ij, each
an integer matrix of determinant 1, so an integer scheme stays integral), keeping the
coefficient bound of the start (a ternary scheme stays ternary; ``slack`` lets the walk step
above it on the way, which cost time without gain on 2x2x4 and 2x3x3), with a Metropolis rule on
the eliminated additions and a return to the best form after a stretch without progress. The
walk scores each move with one greedy elimination per phase and orientation (the compiler's
first tries, 8x faster than the count the catalog shows); every form that ties or beats the walk's
best so far is then counted in full (:data:`discover.slp.CSE_TRIES` tries per phase and
orientation), and the form with the fewest of those
is the result. The moves are exact integer row and column operations; the caller certifies the
result (the command proves it with sympy and checks its straight-line program exactly).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from .scheme import Scheme


@dataclass(frozen=True)
class Move:
    """One elementary sandwich: ``side`` X, Y or Z becomes I + sign·e_ij."""

    side: str
    i: int
    j: int
    sign: int

    def to_json(self) -> list[Any]:
        return [self.side, self.i, self.j, self.sign]


@dataclass
class AdditionsResult:
    """The cheapest form found (not yet certified) and how the search went."""

    scheme: Scheme
    start_additions: int
    additions: int
    iterations: int
    evaluations: int
    orientation: str
    moves: list[Move] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def improved(self) -> bool:
        return self.additions < self.start_additions


def additions_after_elimination(scheme: Scheme) -> int:
    """The eliminated additions of a scheme's straight-line program (the quantity minimised)."""
    from .catalog import eliminated_additions

    return eliminated_additions(scheme)


def _walk_additions(scheme: Scheme, tries: Optional[int] = None) -> int:
    """:func:`additions_after_elimination` without the disk cache (the walk's forms are
    throwaway); ``tries=1`` is the walk's fast score, one greedy elimination per phase and orientation."""
    from .slp import CSE_TRIES, compile_scheme

    return compile_scheme(scheme, eliminate=True, check=False, tries=CSE_TRIES if tries is None else tries).additions


def apply_move(U: np.ndarray, V: np.ndarray, W: np.ndarray, move: Move) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The factors after one elementary sandwich (new arrays; see module docstring).

    With X = I + s·e_ij: U_k → X⁻ᵀ U_k (row j −= s·row i), W_k → X W_k (row i += s·row j).
    With Y = I + s·e_ij: U_k → U_k Yᵀ (column i += s·column j), V_k → Y⁻ᵀ V_k (row j −= s·row i).
    With Z = I + s·e_ij: V_k → V_k Zᵀ (column i += s·column j), W_k → W_k Z⁻¹ (column j −= s·column i).
    """
    U, V, W = U.copy(), V.copy(), W.copy()
    i, j, s = move.i, move.j, move.sign
    if move.side == "X":
        U[:, j, :] -= s * U[:, i, :]
        W[:, i, :] += s * W[:, j, :]
    elif move.side == "Y":
        U[:, :, i] += s * U[:, :, j]
        V[:, j, :] -= s * V[:, i, :]
    else:
        V[:, :, i] += s * V[:, :, j]
        W[:, :, j] -= s * W[:, :, i]
    return U, V, W


def _orientations(scheme: Scheme) -> list[tuple[str, Scheme]]:
    """The scheme's orientations that keep its format (cyclic shifts and transposes; square formats)."""
    from .symmetry import cyclic, transpose

    forms = [("as given", scheme)]
    rotated = scheme
    for k in (1, 2):
        rotated = cyclic(rotated)
        forms.append((f"cyclic^{k}", rotated))
    forms += [(f"transpose∘{name}" if name != "as given" else "transpose", transpose(s)) for name, s in list(forms)]
    return [(name, s) for name, s in forms if s.format == scheme.format]


def optimize_additions(scheme: Scheme, *, iterations: int = 2000, seed: int = 0, bound: Optional[int] = None,
                       slack: int = 0, temperature: float = 1.0, patience: int = 300,
                       time_limit: Optional[float] = None,
                       should_stop: Optional[Callable[[], bool]] = None,
                       on_progress: Optional[Callable[[int, int, int], None]] = None) -> AdditionsResult:
    """Search the orbit of ``scheme`` for the form with the fewest additions after elimination.

    Parameters
    ----------
    scheme
        An integer scheme (ZT or Z; mod-2 and rational schemes are refused).
    iterations
        Elementary moves tried (each costs one compilation); with a seed, the result is reproducible.
    seed
        Seed of the move choices.
    bound
        Largest coefficient of the result (default: the start's, so a ternary scheme stays ternary).
    slack
        How far above ``bound`` the walk may go on its way (only forms within ``bound`` are kept).
    temperature
        Start temperature of the Metropolis rule, lowered linearly to a tenth of it.
    patience
        Moves without a new best before the walk returns to the best form.
    time_limit, should_stop
        Optional earlier stops (then the result depends on the machine's speed).
    on_progress
        Called as ``on_progress(iteration, current, best)`` every 100 moves.

    Returns
    -------
    AdditionsResult
        The best form (the start itself when nothing cheaper was found).

    Raises
    ------
    SchemeError
        For a mod-2 or non-integer scheme.
    """
    from .errors import SchemeError

    if scheme.mod2:
        raise SchemeError("a mod-2 scheme has no additions over the integers to optimise")
    if any(not float(x).is_integer() for f in scheme.factors for x in np.asarray(f, dtype=object).ravel()):
        raise SchemeError("optimize-additions takes integer schemes (Z or ZT); this one has fractions")
    if iterations < 0:
        raise SchemeError(f"iterations must be at least 0, got {iterations}")
    t0 = time.perf_counter()
    fmt = scheme.format
    limit = int(scheme.max_abs_coefficient) if bound is None else int(bound)
    rng = np.random.default_rng(seed)
    start_additions = additions_after_elimination(scheme)
    evaluations = 1

    # The cheapest orientation is where the walk starts.
    best_name, best_scheme, best_adds = "as given", scheme, start_additions
    for name, form in _orientations(scheme)[1:]:
        adds = additions_after_elimination(form)
        evaluations += 1
        if adds < best_adds:
            best_name, best_scheme, best_adds = name, form, adds
    orientation = best_name
    base = [np.asarray(f, dtype=np.int64) for f in best_scheme.factors]
    cur = [a.copy() for a in base]
    # The walk runs on the greedy score (walk_best / cur_adds); `best` is the form with the
    # fewest additions counted in full among those the walk tied or beat its best with.
    cur_adds, cur_peak = _walk_additions(best_scheme, tries=1), limit
    evaluations += 1
    walk_best, walk_best_forms, walk_best_moves = cur_adds, [a.copy() for a in base], []
    best = [a.copy() for a in base]
    best_moves: list[Move] = []
    cur_moves: list[Move] = []
    counted: dict[bytes, int] = {}
    sides = [(name, size) for name, size in zip("XYZ", fmt.dims) if size > 1]
    since_best = 0
    done = 0
    interrupted = False
    try:
        for it in range(iterations):
            if (should_stop is not None and should_stop()) or \
                    (time_limit is not None and time.perf_counter() - t0 > time_limit):
                break
            done = it + 1
            side, size = sides[int(rng.integers(len(sides)))]
            i, j = (int(v) for v in rng.choice(size, 2, replace=False))
            move = Move(side, i, j, 1 if rng.random() < 0.5 else -1)
            U, V, W = apply_move(*cur, move)
            peak = max(int(np.abs(U).max(initial=0)), int(np.abs(V).max(initial=0)), int(np.abs(W).max(initial=0)))
            if peak > limit + slack:
                continue
            adds = _walk_additions(Scheme.from_arrays(U, V, W, fmt), tries=1)
            evaluations += 1
            t = temperature * (1 - 0.9 * it / max(iterations, 1))
            accepted = adds <= cur_adds or (t > 0 and rng.random() < math.exp(-(adds - cur_adds) / t))
            if accepted:
                cur, cur_adds, cur_peak = [U, V, W], adds, peak
                cur_moves.append(move)
            if accepted and cur_peak <= limit and cur_adds <= walk_best:
                key = b"".join(a.tobytes() for a in cur)
                if key not in counted:  # a walk on a plateau comes back to the same forms
                    counted[key] = _walk_additions(Scheme.from_arrays(*cur, fmt))
                full = counted[key]
                if full < best_adds:
                    # one assignment: Ctrl-C between statements must not pair arrays with another count
                    best, best_adds, best_moves = [a.copy() for a in cur], full, list(cur_moves)
            if cur_peak <= limit and cur_adds < walk_best:
                walk_best, walk_best_forms, walk_best_moves = cur_adds, [a.copy() for a in cur], list(cur_moves)
                since_best = 0
            else:
                since_best += 1
                if since_best >= patience:  # back to the best form: the walk wandered off
                    cur, cur_adds, cur_moves = [a.copy() for a in walk_best_forms], walk_best, list(walk_best_moves)
                    cur_peak, since_best = limit, 0
            if on_progress is not None and done % 100 == 0:
                on_progress(done, cur_adds, best_adds)
    except KeyboardInterrupt:  # Ctrl-C: stop and hand back the best form so far (the caller decides)
        interrupted = True
    changed = bool(best_moves) or orientation != "as given"
    result_scheme = Scheme.from_arrays(*best, fmt) if changed else scheme
    return AdditionsResult(result_scheme, start_additions, best_adds, done, evaluations, orientation, best_moves,
                           round(time.perf_counter() - t0, 3), interrupted)


@dataclass
class PlateauStart:
    """Where an orbit walk starts after a plateau walk (:func:`plateau_start`)."""

    scheme: Scheme
    sample: Optional[int]  # 1-based index of the chosen sample; None: the source itself
    additions: list[int]  # after elimination: the source's, then each sample's
    written: list[int]  # written additions: the source's, then each sample's


def plateau_start(scheme: Scheme, flips: int, seed: int, samples: int = 16, temperature: float = 1.0) -> PlateauStart:
    """The cheapest of ``scheme`` and the sparsest schemes of a plateau walk from it.

    The walk (:func:`discover.flip.plateau.plateau_samples`) takes ``flips`` flip attempts at the
    scheme's rank over the ternary flip graph, with a Metropolis rule on the written additions,
    and keeps the sparsest scheme of each of ``samples`` stretches. Flips leave the symmetry
    orbit, so the samples can need far fewer additions than any form of the source (4x5x5 r76:
    295 → 281 after ten million attempts, 4.5 s). Each is counted in full; the source wins ties.

    Raises
    ------
    SchemeError
        For a scheme that is not ternary, or whose factors have more than 64 entries.
    """
    from .errors import SchemeError
    from .flip.plateau import plateau_samples

    if scheme.mod2 or scheme.ring != "ZT":
        raise SchemeError("the plateau walk (--flips) takes ternary schemes (ring ZT); this one is "
                          f"{'mod 2' if scheme.mod2 else scheme.ring}")
    try:
        found = plateau_samples(scheme, flips, seed, samples, temperature)
    except ValueError as exc:
        raise SchemeError(f"the plateau walk cannot take this scheme: {exc}") from None
    candidates = [scheme, *found]
    additions = [additions_after_elimination(s) if k == 0 else _walk_additions(s) for k, s in enumerate(candidates)]
    chosen = min(range(len(candidates)), key=lambda k: additions[k])
    return PlateauStart(candidates[chosen], chosen or None, additions, [s.additions for s in candidates])


def sandwich_matrices(fmt_dims: tuple[int, int, int], moves: list[Move]) -> tuple[list[list[int]], ...]:
    """The X, Y, Z of the moves taken together: the result is ``sandwich(oriented start, X, Y, Z)``."""
    mats = {side: np.eye(size, dtype=np.int64) for side, size in zip("XYZ", fmt_dims)}
    for move in moves:
        step = np.eye(mats[move.side].shape[0], dtype=np.int64)
        step[move.i, move.j] += move.sign
        mats[move.side] = step @ mats[move.side]  # a later sandwich acts after the earlier ones
    return tuple(mats[s].tolist() for s in "XYZ")
