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
def _eliminate(P, ncols):
    """Reduced row echelon form in place, pivoting only in the first ``ncols`` columns.

    Returns the pivot column of each of the first ``rank`` rows (the array's length is rank).
    """
    rows, words = P.shape
    pivots = np.empty(min(rows, ncols), dtype=np.int64)
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
            for q in range(words):
                tmp = P[piv, q]
                P[piv, q] = P[rank, q]
                P[rank, q] = tmp
        for i in range(rows):
            if i != rank and (P[i, w] & bit):
                for q in range(w, words):
                    P[i, q] ^= P[rank, q]
        pivots[rank] = col
        rank += 1
    return pivots[:rank]


def is_consistent(M: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``M x = b`` has a solution over GF(2) (one elimination of the augmented matrix)."""
    cols = M.shape[1]
    P = pack_rows(np.concatenate([np.asarray(M, dtype=np.uint8), (np.asarray(b) & 1).astype(np.uint8)[:, None]], axis=1))
    pivots = _eliminate(P, cols + 1)
    return not (len(pivots) and pivots[-1] == cols)


class GF2System:
    """A linear system ``M x = b`` over GF(2), factored once and solved for many right sides.

    Parameters
    ----------
    M : numpy.ndarray
        0/1 matrix (equations, unknowns).
    """

    def __init__(self, M: np.ndarray):
        rows, cols = M.shape
        self.rows, self.cols = rows, cols
        # Augment with the identity so the row operations can be replayed on any right side.
        P = pack_rows(np.concatenate([M.astype(np.uint8), np.eye(rows, dtype=np.uint8)], axis=1))
        self.pivots = _eliminate(P, cols)
        bits = unpack_rows(P, cols + rows)
        self.rank = len(self.pivots)
        # float32 0/1 matrices: their products with a 0/1 vector are exact counts (< 2^24), and a
        # BLAS matrix-vector product is ~20x faster than converting to int64 for every solve.
        self._reduced = bits[: self.rank, :cols].astype(np.float32)  # rows of the RREF
        self._transform = bits[:, cols:].astype(np.float32)  # E with E·M = RREF
        free = np.ones(cols, dtype=bool)
        free[self.pivots] = False
        self.free = np.flatnonzero(free)

    def solve(self, b: np.ndarray, free_values: np.ndarray | None = None) -> np.ndarray | None:
        """A solution of ``M x = b`` (None when inconsistent).

        ``free_values`` (0/1, one per free unknown, default zeros) picks among the solutions.
        """
        c = (self._transform @ (np.asarray(b, dtype=np.int64) & 1).astype(np.float32)).astype(np.int64) & 1
        if c[self.rank :].any():
            return None
        x = np.zeros(self.cols, dtype=np.int64)
        if free_values is not None and len(self.free):
            x[self.free] = np.asarray(free_values, dtype=np.int64) & 1
        # Pivot unknown = right side + the free unknowns in its row.
        x[self.pivots] = (c[: self.rank] + (self._reduced @ x.astype(np.float32)).astype(np.int64)) & 1
        return x
