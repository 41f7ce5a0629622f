"""Documented size limits: every reader checks them before it allocates.

The numbers bound memory and time for hostile or broken inputs while leaving every real
scheme of the field far inside (the largest published ones are 6x6x6 with rank ~150).
README's "Limits" section lists them.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Union

from .errors import LimitError, LoadError

#: Largest dimension of a format N x M x P.
MAX_DIMENSION = 1000
#: Largest N·M·P (the schoolbook rank; 100x100x100 is allowed).
MAX_NAIVE_RANK = 10**6
#: Largest number of coefficients r·(NM + MP + NP) a scheme may hold (naive 20x20x20: 9.6e6).
MAX_COEFFICIENTS = 2 * 10**7
#: Largest number of decimal digits of an integer, a numerator or a denominator.
MAX_DIGITS = 1000
#: Largest bit length matching MAX_DIGITS (10**1000 < 2**3322).
MAX_BITS = 3322
#: Largest scheme file (JSON, .exp, Perminov, Benson-Ballard) read, in bytes.
MAX_FILE_BYTES = 64 * 2**20
#: Largest uncompressed member of an .npz archive, in bytes (checked before decompression).
MAX_NPZ_MEMBER_BYTES = 64 * 2**20
#: Largest total of the uncompressed members of an .npz archive, in bytes.
MAX_NPZ_TOTAL_BYTES = 256 * 2**20
#: Deepest nesting of a JSON scheme file's metadata (U, V, W are exactly 3 deep).
MAX_JSON_DEPTH = 64
#: Deepest parenthesis nesting in an .exp product line.
MAX_PAREN_DEPTH = 8
#: Largest number of rank-one tensor entries Σ_k nnz(U_k)·nnz(V_k)·nnz(W_k) the exact check expands.
MAX_VERIFY_TERMS = 2 * 10**7
#: Largest number of variables N·M + M·P of the sympy proof's polynomial ring.
MAX_PROOF_VARIABLES = 2000
#: Largest Σ_k nnz(U_k)·nnz(V_k)·nnz(W_k) the sympy proof expands.
MAX_PROOF_TERMS = 2 * 10**6
#: Wrong monomials listed in a verification report (the count beyond is kept).
MAX_REPORTED_ERRORS = 1000
#: Largest dense tensor (entries) the dense helpers ``matmul_tensor``/``integer_reconstruction`` build.
MAX_DENSE_ENTRIES = 10**8


def check_digits(text: str, where: str = "") -> None:
    """Refuse a decimal string with more than :data:`MAX_DIGITS` digits before ``int()`` sees it."""
    if len(text) > MAX_DIGITS + 2:  # a sign and a little slack
        prefix = f"{where}: " if where else ""
        raise LimitError(f"{prefix}a number with {len(text)} digits exceeds the limit of {MAX_DIGITS} digits")


def check_scheme_size(dims: tuple[int, int, int], rank: int, where: str = "") -> None:
    """Refuse a rank and format whose coefficient arrays would exceed :data:`MAX_COEFFICIENTS`."""
    n, m, p = dims
    count = rank * (n * m + m * p + n * p)
    if count > MAX_COEFFICIENTS:
        prefix = f"{where}: " if where else ""
        if rank > MAX_COEFFICIENTS:  # never print an integer of thousands of digits
            raise LimitError(f"{prefix}rank exceeds the limit of {MAX_COEFFICIENTS:,} coefficients")
        raise LimitError(
            f"{prefix}rank {rank} in format {n}x{m}x{p} needs {count:,} coefficients, "
            f"above the limit of {MAX_COEFFICIENTS:,}"
        )


def read_limited(path: Union[str, "os.PathLike[str]"], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Raises
    ------
    LoadError
        One line naming the file: missing, unreadable, not a regular file (``/dev/zero``,
        a FIFO, a folder) or larger than ``limit``.
    """
    path = Path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as fh:
            info = os.fstat(fh.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise LoadError(f"{path}: not a regular file")
            if info.st_size > limit:
                raise LoadError(f"{path}: {info.st_size:,} bytes exceeds the limit of {limit:,} bytes")
            data = fh.read(limit + 1)
    except OSError as e:
        raise LoadError(f"{path}: cannot read: {e.strerror or e}") from e
    if len(data) > limit:
        raise LoadError(f"{path}: larger than the limit of {limit:,} bytes")
    return data


def check_regular_file(path: Union[str, "os.PathLike[str]"]) -> None:
    """Refuse a path that is missing or not a regular file, without opening it for reading
    (a FIFO would block, ``/dev/zero`` never ends)."""
    try:
        info = os.stat(path)
    except OSError as e:
        raise LoadError(f"{path}: cannot read: {e.strerror or e}") from e
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(f"{path}: not a regular file")


def read_limited_text(path: Union[str, "os.PathLike[str]"], limit: int = MAX_FILE_BYTES) -> str:
    """:func:`read_limited` decoded as UTF-8 (a decoding error is a LoadError)."""
    data = read_limited(path, limit)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise LoadError(f"{path}: not UTF-8 text: {e.reason} at byte {e.start}") from e
