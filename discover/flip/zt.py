"""The ternary flip graph over Z: signed bit-packed terms and a compiled random walk.

A rank-r scheme with coefficients in {-1, 0, 1} is a ``(6, capacity)`` ``uint64`` array ``F``:
rows ``2s`` and ``2s+1`` hold the positive and negative bits of slot ``s`` (0: a, of A; 1: b,
of B; 2: c, of C, not transposed), so a factor is ``x = pos − neg`` with bit ``i*cols + j``
for entry ``[i, j]``. Columns past ``r`` are scratch space for plus transitions. The walk
stays ternary: a move whose result would leave {-1, 0, 1} is not taken.

Moves (all keep Σ a_k⊗b_k⊗c_k unchanged over Z):

* **flip**: terms i, j share slot s up to a sign (``x_s[i] = σ x_s[j]``); with the other slots
  t, u and λ = ±1, ``x_t[i] += λ x_t[j]`` and ``x_u[j] −= λσ x_u[i]``.
* **reduction**: a term with a zero factor is dropped; two terms equal up to sign in two slots
  merge (third factors combined with the product of the two signs) when the result is ternary.
* **plus**: ``a⊗b⊗c + a'⊗b'⊗c' = (a − εa')⊗b⊗c + εa'⊗b⊗c + a'⊗b'⊗c'`` (ε = ±1) raises the
  rank by one so that a walk can leave a dead end.

Random numbers come from the xorshift64* generator of :mod:`discover.flip.rng`, so a seed and a
flip budget reproduce a walk exactly.
"""
from __future__ import annotations

import numpy as np
from .jit import njit

from ..formats import Format
from .rng import below, next_u64

#: The ``mod3`` argument of the kernels below. OVER_Z: the factors are ternary over Z and a sum
#: whose entry would leave {-1, 0, 1} is refused. MOD3: the factors are residues mod 3 (−1 ≡ 2) and
#: every sum is taken mod 3. MOD3_TERNARY_MOVES: residues mod 3, the merges of a reduction taken
#: mod 3, but a flip or a plus transition only where its sums stay in {-1, 0, 1} over Z. Taken mod 3,
#: 1 + 1 ≡ −1 fills a factor where over Z the move is refused, so a walk mod 3 grows dense factors
#: (from the naive 2x4x4 it stays at 32 mod 3); with ternary moves it walks like the ternary walk
#: and still merges what only agrees mod 3.
OVER_Z, MOD3, MOD3_TERNARY_MOVES = 0, 1, 2
#: ``gf3_moves`` setting → the kernels' ``mod3`` argument.
GF3_MOVES = {"mod3": MOD3, "ternary": MOD3_TERNARY_MOVES}


# ---------------------------------------------------------------------------- packing
def is_ternary(*arrays: np.ndarray) -> bool:
    """Whether every entry of the given integer arrays is in {-1, 0, 1}."""
    return all(bool(np.isin(np.asarray(X, dtype=object), (-1, 0, 1)).all()) for X in arrays)


def pack(U: np.ndarray, V: np.ndarray, W: np.ndarray, capacity: int | None = None) -> np.ndarray:
    """Pack ternary factor arrays into a ``(6, capacity)`` uint64 array (pos, neg per slot).

    Parameters
    ----------
    U, V, W : numpy.ndarray
        Shapes (r, n, m), (r, m, p), (r, n, p) with entries in {-1, 0, 1}.
    capacity : int, optional
        Number of columns (≥ r); defaults to r.

    Raises
    ------
    ValueError
        If a coefficient is not ternary or a factor has more than 64 entries.
    """
    if not is_ternary(U, V, W):
        raise ValueError("the scheme has coefficients outside {-1, 0, 1}")
    r = U.shape[0]
    capacity = r if capacity is None else max(capacity, r)
    F = np.zeros((6, capacity), dtype=np.uint64)
    for s, X in enumerate((U, V, W)):
        x = np.asarray(X, dtype=np.int64).reshape(r, -1)
        if x.shape[1] > 64:
            raise ValueError(f"a factor with {x.shape[1]} entries does not fit in 64 bits")
        weights = np.uint64(1) << np.arange(x.shape[1], dtype=np.uint64)
        if r:
            F[2 * s, :r] = ((x == 1).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
            F[2 * s + 1, :r] = ((x == -1).astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)
    return F


def unpack(F: np.ndarray, r: int, fmt: Format) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The int64 arrays U (r,n,m), V (r,m,p), W (r,n,p) of the first r packed terms."""
    out = []
    for s, shape in enumerate(fmt.shapes):
        shifts = np.arange(shape[0] * shape[1], dtype=np.uint64)
        pos = (F[2 * s, :r, None] >> shifts) & np.uint64(1)
        neg = (F[2 * s + 1, :r, None] >> shifts) & np.uint64(1)
        out.append((pos.astype(np.int64) - neg.astype(np.int64)).reshape((r,) + shape))
    return out[0], out[1], out[2]


# ---------------------------------------------------------------------------- kernels
@njit(cache=True, inline="always")
def factor_sign(pa, na, pb, nb):
    """+1/−1 if the packed factor (pa, na) is ± the factor (pb, nb), else 0."""
    if pa == pb and na == nb:
        return 1
    if pa == nb and na == pb:
        return -1
    return 0


@njit(cache=True)
def _sign(F, s, i, j):
    """+1 if x_s[i] == x_s[j], −1 if x_s[i] == −x_s[j], 0 otherwise."""
    return factor_sign(F[2 * s, i], F[2 * s + 1, i], F[2 * s, j], F[2 * s + 1, j])


@njit(cache=True)
def _sum(xp, xn, yp, yn, sign, mod3, mod2=False):
    """x + sign·y as (pos, neg, ok); ok is False when an entry would leave {-1, 0, 1}.

    With ``mod3`` true (MOD3 or MOD3_TERNARY_MOVES) the entries are residues mod 3 (−1 ≡ 2): the
    sum is always taken. Moves pass ``mod3 == MOD3`` (:func:`_moves_mod3`). With ``mod2``
    (the cyclic walk mod 2) the factors live in the positive bits and the sum is their XOR.
    """
    if mod2:
        return xp ^ yp, xn, True
    if sign < 0:
        yp, yn = yn, yp
    if mod3:
        # 1+1 ≡ −1, (−1)+(−1) ≡ 1, 1+(−1) ≡ 0; a zero entry leaves the other one as it is.
        xz = ~(xp | xn)
        yz = ~(yp | yn)
        return (xp & yz) | (xz & yp) | (xn & yn), (xn & yz) | (xz & yn) | (xp & yp), True
    if (xp & yp) | (xn & yn):
        return xp, xn, False
    # With no (1,1) or (-1,-1) pair, x=1 & y≠-1 means y=0, and a 1/-1 pair cancels.
    return (xp & ~yn) | (yp & ~xn), (xn & ~yp) | (yn & ~xp), True


@njit(cache=True, inline="always")
def _moves_mod3(mod3):
    """Whether a flip or a plus transition takes its sums mod 3 (only MOD3; see OVER_Z)."""
    return mod3 == MOD3


@njit(cache=True)
def _remove(F, r, k, stack, nstack):
    """Drop term k (the last term moves into its place); keep the pending stack consistent."""
    last = r - 1
    for s in range(6):
        F[s, k] = F[s, last]
    for q in range(nstack):
        if stack[q] == k:
            stack[q] = -1
        elif stack[q] == last:
            stack[q] = k
    return last


@njit(cache=True, inline="always")
def merge_slot(e0, e1, e2):
    """Two terms that agree (up to the signs e) in two slots: the slot w where they differ, and
    the sign sg that folds one into the other there (x_w[k] += sg·x_w[i])."""
    if e0 == 0:
        return 0, e1 * e2
    if e1 == 0:
        return 1, e0 * e2
    return 2, e0 * e1


@njit(cache=True)
def settle(F, r, stack, nstack, mod3, mod2=False):
    """Apply every reduction that the pending (changed) terms allow. Returns (r, removed).

    With ``mod3`` the coefficients are residues mod 3, so every merge is taken; with ``mod2``
    the factors are bit sets in the positive rows (see :func:`_sum`): every merge is taken and
    two equal terms cancel.
    """
    removed = 0
    while nstack > 0:
        nstack -= 1
        i = stack[nstack]
        if i < 0:
            continue
        if (F[0, i] | F[1, i]) == 0 or (F[2, i] | F[3, i]) == 0 or (F[4, i] | F[5, i]) == 0:
            r = _remove(F, r, i, stack, nstack)
            removed += 1
            continue
        for k in range(r):
            if k == i:
                continue
            e0 = _sign(F, 0, k, i)
            e1 = _sign(F, 1, k, i)
            if e0 == 0 and e1 == 0:
                continue  # at most one shared slot: no reduction (the common case, checked cheaply)
            e2 = _sign(F, 2, k, i)
            n = (e0 != 0) + (e1 != 0) + (e2 != 0)
            if n < 2:
                continue
            if n == 3 and (e0 * e1 * e2 < 0 or mod2):
                # term i = −term k (mod 2: term i = term k): both vanish
                last = r - 1
                r = _remove(F, r, i, stack, nstack)
                if k == last:
                    k = i
                r = _remove(F, r, k, stack, nstack)
                removed += 2
                break
            if n == 3 and not mod3:
                continue  # term k equals term i: their sum 2·term is not ternary
            # (mod 3 with n == 3 the fold below gives 2·term ≡ −term in slot 2)
            w, sg = merge_slot(e0, e1, e2)
            # term i = sg · (x_k in the two shared slots) ⊗ x_w[i]: fold it into term k.
            p, q, ok = _sum(F[2 * w, k], F[2 * w + 1, k], F[2 * w, i], F[2 * w + 1, i], sg, mod3, mod2)
            if not ok:
                continue
            F[2 * w, k] = p
            F[2 * w + 1, k] = q
            last = r - 1
            r = _remove(F, r, i, stack, nstack)
            removed += 1
            if k == last:
                k = i
            if nstack < stack.shape[0]:
                stack[nstack] = k
                nstack += 1
            break
    return r, removed


@njit(cache=True)
def pick_partner(F, r, i, state):
    """A term that shares a factor with term i up to sign, drawn uniformly among all such
    (term, slot) matches by reservoir sampling: (j, slot, sign), or (−1, −1, 0) when none."""
    j = -1
    s = -1
    sigma = 0
    seen = 0
    for q in range(r):
        if q == i:
            continue
        for slot in range(3):
            e = _sign(F, slot, i, q)
            if e != 0:
                seen += 1
                if seen == 1 or below(state, seen) == 0:
                    j = q
                    s = slot
                    sigma = e
    return j, s, sigma


@njit(cache=True)
def flip_move(F, r, state, stack, reduce=True):
    """One random flip followed by its reductions. Returns (r, ok, removed).

    A random term i is compared with every other term; the partner (j, shared slot, sign) is
    drawn uniformly among all matches by reservoir sampling. Of the four flips (which slot
    gets +λ, λ = ±1) a random one is tried first, then the others; the pick fails when none
    stays ternary or i shares no factor with any term.
    """
    i = below(state, r)
    j, s, sigma = pick_partner(F, r, i, state)
    if j < 0:
        return r, False, 0
    bits = next_u64(state) >> np.uint64(40)
    if apply_flip(F, s, i, j, sigma, bits, False) < 0:
        return r, False, 0
    if not reduce:
        return r, True, 0  # reductions deferred by the caller
    stack[0] = i
    stack[1] = j
    r, removed = settle(F, r, stack, 2, False)
    return r, True, removed


@njit(cache=True)
def apply_flip(F, s, i, j, sigma, bits, mod3, g=0, mod2=False):
    """Flip the terms i and j that share slot s (x_s[i] = σ x_s[j]) if one of the four flips stays ternary.

    The four flips choose which other slot t gets x_t[i] += λ x_t[j] (the third slot u then gets
    x_u[j] −= λσ x_u[i]) and λ = ±1; ``bits`` picks the one tried first, the others follow in turn.
    Returns t (the slot of term i that changed; term j's is 3 − s − t), or −1 when none applies.
    The cyclic walk passes ``g``: term j is then read rotated g times (its slot t is column slot
    (t + g) mod 3), and ``mod2`` for its walk mod 2 (see :func:`_sum`).
    """
    moves_mod3 = _moves_mod3(mod3)
    for attempt in range(4):
        code = (np.int64(bits) + attempt) & 3
        t = (s + 1) % 3
        u = (s + 2) % 3
        if code & 1:
            t, u = u, t
        lam = 1 if code & 2 else -1
        jt = (t + g) % 3
        ju = (u + g) % 3
        tp, tn, ok1 = _sum(F[2 * t, i], F[2 * t + 1, i], F[2 * jt, j], F[2 * jt + 1, j], lam, moves_mod3, mod2)
        if not ok1:
            continue
        up, un, ok2 = _sum(F[2 * ju, j], F[2 * ju + 1, j], F[2 * u, i], F[2 * u + 1, i], -lam * sigma, moves_mod3, mod2)
        if not ok2:
            continue
        F[2 * t, i] = tp
        F[2 * t + 1, i] = tn
        F[2 * ju, j] = up
        F[2 * ju + 1, j] = un
        return t
    return -1


@njit(cache=True)
def write_split(F, i, s, j, sj, k, eps, p, q):
    """The writes of a split: column k becomes term i with slot s replaced by eps·x_sj[j], and
    slot s of term i becomes (p, q) = x_s[i] − eps·x_sj[j] (the cyclic walk passes a rotated sj)."""
    for row in range(6):
        F[row, k] = F[row, i]
    if eps > 0:
        F[2 * s, k] = F[2 * sj, j]
        F[2 * s + 1, k] = F[2 * sj + 1, j]
    else:
        F[2 * s, k] = F[2 * sj + 1, j]
        F[2 * s + 1, k] = F[2 * sj, j]
    F[2 * s, i] = p
    F[2 * s + 1, i] = q


@njit(cache=True)
def write_mix(F, i, j, k, sa, sb, sc, ja, jb, ap, an, bp, bn, cp, cn):
    """The writes of a three-term plus transition: new column k = a1 ⊗ b2 ⊗ (c2 − c1) (given as
    cp, cn), b1 += b2 (bp, bn), a2 −= a1 (ap, an); slots ja, jb of term j play the roles a, b
    (the same as sa, sb, except for the rotated partner of the cyclic walk)."""
    F[2 * sa, k] = F[2 * sa, i]
    F[2 * sa + 1, k] = F[2 * sa + 1, i]
    F[2 * sb, k] = F[2 * jb, j]
    F[2 * sb + 1, k] = F[2 * jb + 1, j]
    F[2 * sc, k] = cp
    F[2 * sc + 1, k] = cn
    F[2 * sb, i] = bp
    F[2 * sb + 1, i] = bn
    F[2 * ja, j] = ap
    F[2 * ja + 1, j] = an


@njit(cache=True)
def plus_move(F, r, state, mod3, mod2=False):
    """A plus transition (rank + 1). Returns the new rank (unchanged when none applies).

    Mod 2 (``mod2``) the split is x = (x + y) + y: no sign, the new factor stays in the positive rows.
    """
    if r < 2 or r >= F.shape[1]:
        return r
    for _ in range(32):
        i = below(state, r)
        j = below(state, r)
        s = below(state, 3)
        if i == j or _sign(F, s, i, j) != 0:
            continue
        eps = 1 if mod2 or next_u64(state) & np.uint64(1 << 40) else -1
        p, q, ok = _sum(F[2 * s, i], F[2 * s + 1, i], F[2 * s, j], F[2 * s + 1, j], -eps, _moves_mod3(mod3), mod2)
        if not ok:
            continue
        write_split(F, i, s, j, s, r, eps, p, q)
        return r + 1
    return r



@njit(cache=True)
def mix_move(F, r, state, mod3, mod2=False):
    """The three-term plus transition (Kauers–Moosbauer): rank + 1, both old terms changed.

    With the slots of terms i, j taken in a random order (roles a, b, c),
    ``a1⊗b1⊗c1 + a2⊗b2⊗c2 = a1⊗(b1+b2)⊗c1 + (a2−a1)⊗b2⊗c2 + a1⊗b2⊗(c2−c1)``. Unlike
    :func:`plus_move` (a split of one factor) it changes both terms, so the walk lands in a
    region a split cannot reach. Returns the new rank (unchanged when no ternary pick is found).
    """
    if r < 2 or r >= F.shape[1]:
        return r
    for _ in range(32):
        i = below(state, r)
        j = below(state, r)
        if i == j:
            continue
        if _sign(F, 0, i, j) != 0 or _sign(F, 1, i, j) != 0 or _sign(F, 2, i, j) != 0:
            continue  # a shared factor: that pair has flips, no plus needed
        sa = below(state, 3)
        sb = (sa + 1 + below(state, 2)) % 3
        sc = 3 - sa - sb
        bp, bn, ok1 = _sum(F[2 * sb, i], F[2 * sb + 1, i], F[2 * sb, j], F[2 * sb + 1, j], 1, _moves_mod3(mod3), mod2)
        ap, an, ok2 = _sum(F[2 * sa, j], F[2 * sa + 1, j], F[2 * sa, i], F[2 * sa + 1, i], -1, _moves_mod3(mod3), mod2)
        cp, cn, ok3 = _sum(F[2 * sc, j], F[2 * sc + 1, j], F[2 * sc, i], F[2 * sc + 1, i], -1, _moves_mod3(mod3), mod2)
        if not (ok1 and ok2 and ok3):
            continue
        write_mix(F, i, j, r, sa, sb, sc, sa, sb, ap, an, bp, bn, cp, cn)
        return r + 1
    return r
