"""Dense linear algebra over GF(2) on bit-packed rows (compiled): the engine of lifting."""
from __future__ import annotations

import numpy as np
from .jit import njit


def pack_rows(M: np.ndarray) -> np.ndarray:
    """Pack a 0/1 matrix (rows, cols) into uint64 words (rows, ceil(cols/64)), bit j of column j."""
    rows, cols = M.shape
    words = max(1, (cols + 63) // 64)
    padded = np.zeros((rows, words * 64), dtype=np.uint8)
    padded[:, :cols] = M & 1
    return np.packbits(padded, axis=1, bitorder="little").view(np.uint64).reshape(rows, words)


def unpack_rows(P: np.ndarray, cols: int) -> np.ndarray:
    """Inverse of :func:`pack_rows`."""
    bits = np.unpackbits(np.ascontiguousarray(P).view(np.uint8), axis=1, bitorder="little")
    return bits[:, :cols]


@njit(cache=True)
def _echelon(P, ncols, above):
    """Gaussian elimination in place over GF(2), pivoting only in the first ``ncols`` columns:
    reduced row echelon form when ``above``, else row echelon form (nothing eliminated above a pivot).

    Returns (the pivot column of each of the first ``rank`` rows, the original index of each of
    those rows). Without ``above`` the rows those indices name span the row space: the row that gave
    each pivot is itself plus a combination of rows that gave earlier ones.
    """
    rows, words = P.shape
    pivots = np.empty(min(rows, ncols), dtype=np.int64)
    origin = np.arange(rows)
    rank = 0
    for col in range(ncols):
        if rank == rows:
            break
        w = col >> 6
        bit = np.uint64(1) << np.uint64(col & 63)
        piv = -1
        for i in range(rank, rows):
            if P[i, w] & bit:
                piv = i
                break
        if piv < 0:
            continue
        if piv != rank:
            # Rows from `rank` on are zero in every column before `col`: words before w hold nothing.
            for q in range(w, words):
                tmp = P[piv, q]
                P[piv, q] = P[rank, q]
                P[rank, q] = tmp
            tmp_origin = origin[piv]
            origin[piv] = origin[rank]
            origin[rank] = tmp_origin
        for i in range(0 if above else rank + 1, rows):
            if i != rank and (P[i, w] & bit):
                for q in range(w, words):
                    P[i, q] ^= P[rank, q]
        pivots[rank] = col
        rank += 1
    return pivots[:rank], origin[:rank].copy()


def is_consistent(M: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``M x = b`` has a solution over GF(2) (one elimination of the augmented matrix)."""
    cols = M.shape[1]
    P = pack_rows(np.concatenate([np.asarray(M, dtype=np.uint8), (np.asarray(b) & 1).astype(np.uint8)[:, None]], axis=1))
    pivots, _ = _echelon(P, cols + 1, True)
    return not (len(pivots) and pivots[-1] == cols)


@njit(cache=True)
def _parities(P, v):
    """(P · v) mod 2 for bit-packed rows ``P`` and a bit-packed vector ``v``: one 0/1 per row."""
    rows, words = P.shape
    out = np.zeros(rows, dtype=np.int64)
    for i in range(rows):
        acc = np.uint64(0)
        for q in range(words):
            acc ^= P[i, q] & v[q]
        acc ^= acc >> np.uint64(32)
        acc ^= acc >> np.uint64(16)
        acc ^= acc >> np.uint64(8)
        acc ^= acc >> np.uint64(4)
        acc ^= acc >> np.uint64(2)
        acc ^= acc >> np.uint64(1)
        out[i] = np.int64(acc & np.uint64(1))
    return out


def _pack_vector(x: np.ndarray) -> np.ndarray:
    """A 0/1 vector bit-packed like one row of :func:`pack_rows`."""
    return pack_rows(np.asarray(x, dtype=np.uint8).reshape(1, -1)).reshape(-1)


class GF2System:
    """A linear system ``M x = b`` over GF(2), factored once and solved for many right sides.

    Only a set of rows that spans the row space is factored (``rank`` rows, with a ``rank`` ×
    ``rank`` transform), and every matrix stays bit-packed: a 6x6x6 Hensel Jacobian (46,656 ×
    17,172, rank 16,494) took 24 GB and 68 s when all rows were factored with a rows × rows
    transform in float32. A solution of the spanning rows solves the whole system exactly when
    the system is consistent, which one packed product checks.

    Parameters
    ----------
    M : numpy.ndarray
        0/1 matrix (equations, unknowns); or use :meth:`from_packed`.
    """

    def __init__(self, M: np.ndarray):
        rows, cols = M.shape
        self._setup(pack_rows(np.asarray(M, dtype=np.uint8)), rows, cols)

    @classmethod
    def from_packed(cls, P: np.ndarray, cols: int) -> "GF2System":
        """The system of the bit-packed rows ``P`` (as :func:`pack_rows` makes them) with ``cols`` unknowns."""
        system = cls.__new__(cls)
        system._setup(np.ascontiguousarray(P, dtype=np.uint64), P.shape[0], cols)
        return system

    def _setup(self, P: np.ndarray, rows: int, cols: int) -> None:
        self.rows, self.cols = rows, cols
        self._packed = P  # every equation, for the consistency check
        _, self._origin = _echelon(P.copy(), cols, False)
        self.rank = len(self._origin)
        # RREF of the spanning rows, augmented with the identity so its row operations replay on
        # any right side: E·M[origin] = RREF, both bit-packed.
        col_words = P.shape[1]
        eye = np.zeros((self.rank, max(1, (self.rank + 63) // 64)), dtype=np.uint64)
        index = np.arange(self.rank)
        eye[index, index >> 6] = np.uint64(1) << (index & 63).astype(np.uint64)
        Q = np.concatenate([P[self._origin], eye], axis=1)
        self.pivots, _ = _echelon(Q, cols, True)
        self._reduced = np.ascontiguousarray(Q[:, :col_words])
        self._transform = np.ascontiguousarray(Q[:, col_words:])
        free = np.ones(cols, dtype=bool)
        free[self.pivots] = False
        self.free = np.flatnonzero(free)

    def solve(self, b: np.ndarray, free_values: np.ndarray | None = None) -> np.ndarray | None:
        """A solution of ``M x = b`` (None when inconsistent).

        ``free_values`` (0/1, one per free unknown, default zeros) picks among the solutions.
        """
        b = np.asarray(b, dtype=np.int64) & 1
        c = _parities(self._transform, _pack_vector(b[self._origin]))
        x = np.zeros(self.cols, dtype=np.int64)
        if free_values is not None and len(self.free):
            x[self.free] = np.asarray(free_values, dtype=np.int64) & 1
        # Pivot unknown = right side + the free unknowns in its row (a row of the RREF is 0 at
        # every other pivot, and x is 0 at the pivots here).
        x[self.pivots] = c ^ _parities(self._reduced, _pack_vector(x))
        if not np.array_equal(_parities(self._packed, _pack_vector(x)), b):
            return None  # the other equations are not satisfied: b is outside the column space
        return x
