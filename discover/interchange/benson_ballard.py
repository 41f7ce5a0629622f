"""Benson–Ballard coefficient files (fast-matmul ``codegen/algorithms``), both ways.

Three blocks separated by lines starting with ``#`` (a leading ``#`` line is a comment):
U with M·K rows, V with K·N rows, W with M·N rows, one column per product, all row-major
and **C not transposed** (unlike the other formats). Coefficients are integers, decimals
(``0.5``) or fractions (``1/2``); the format M×K×N follows from the row counts.
"""
from __future__ import annotations

import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..coefficients import format_coefficient
from ..errors import DiscoverError, SchemeError
from ..formats import Format
from ..jsonio import atomic_write_text
from ..limits import MAX_DIGITS, check_scheme_size, read_limited_text
from ..scheme import Scheme
from .common import ImportedScheme, item_meta

_SMALL_INT = re.compile(r"^[+-]?\d{1,18}$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(e([+-]?\d+))?(/(\d+))?$", re.IGNORECASE)


def _coefficient(token: str, where: str) -> "int | Fraction":
    if _SMALL_INT.match(token):
        return int(token)  # the common case; small ints are shared objects, Fractions are not
    if len(token) > MAX_DIGITS:  # before the regex and Fraction(): both are slow on huge tokens
        raise SchemeError(f"{where}: a number of {len(token)} characters exceeds the limit of {MAX_DIGITS} digits")
    match = _NUMBER.match(token)
    if not match:
        raise SchemeError(f"{where}: {token[:40]!r} is not a number")
    exponent, denominator = match.group(4), match.group(6)
    if exponent is not None and abs(int(exponent)) > MAX_DIGITS:  # 1e1000000 would build a million-digit integer
        raise SchemeError(f"{where}: the exponent of {token[:40]!r} exceeds the limit of {MAX_DIGITS}")
    if denominator is not None and int(denominator) == 0:
        raise SchemeError(f"{where}: {token[:40]!r} has a zero denominator")
    try:
        return Fraction(token)
    except ValueError:  # forms the pattern lets through but Fraction does not read, e.g. "0./1"
        raise SchemeError(f"{where}: {token[:40]!r} is not a number") from None


def parse_blocks(text: str) -> list[list[list[Fraction]]]:
    """The numeric blocks of the file (comment and separator lines dropped)."""
    blocks: list[list[list[Fraction]]] = [[]]
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line.startswith("#"):
            if blocks[-1]:
                blocks.append([])
            continue
        if line:
            blocks[-1].append([_coefficient(t, f"line {number}") for t in line.split()])
    return [b for b in blocks if b]


def _dims(rows: tuple[int, int, int]) -> Format:
    mk, kn, mn = rows
    m2 = mk * mn
    if m2 % kn:
        raise SchemeError(f"blocks of {mk}, {kn}, {mn} rows fit no format M·K, K·N, M·N")
    m = math.isqrt(m2 // kn)
    if m == 0 or m * m * kn != m2 or mk % m or mn % m:
        raise SchemeError(f"blocks of {mk}, {kn}, {mn} rows fit no format M·K, K·N, M·N")
    return Format(m, mk // m, mn // m)


def scheme_from_text(text: str, source: str = "") -> ImportedScheme:
    """Import the text of one Benson–Ballard file."""
    try:
        blocks = parse_blocks(text)
        if len(blocks) != 3:
            raise SchemeError(f"expected 3 blocks separated by '#' lines, found {len(blocks)}")
        widths = {len(row) for block in blocks for row in block}
        if len(widths) != 1:
            raise SchemeError(f"rows have different numbers of columns: {sorted(widths)[:6]}")
        fmt = _dims(tuple(len(b) for b in blocks))  # type: ignore[arg-type]
        check_scheme_size(fmt.dims, widths.pop())
        n, m, p = fmt.dims
        factors = []
        for block, (rows, cols) in zip(blocks, fmt.shapes):
            arr = np.empty((len(block), len(block[0])), dtype=object)
            for i, row in enumerate(block):
                arr[i, :] = [int(v) if v.denominator == 1 else v for v in row]
            factors.append(arr.T.reshape(-1, rows, cols))
        meta = item_meta(source, "", "benson-ballard", f"Benson-Ballard {fmt} rank {factors[0].shape[0]}")
        scheme = Scheme.from_arrays(*factors, fmt, meta=meta)
    except DiscoverError as e:
        return ImportedScheme(source, "", "benson-ballard", error=str(e))
    return ImportedScheme(source, "", "benson-ballard", scheme=scheme)


def read_benson_ballard(path: Path) -> list[ImportedScheme]:
    """Import a Benson–Ballard coefficient file."""
    path = Path(path)
    text = read_limited_text(path)
    return [scheme_from_text(text, path.name)]


def benson_ballard_text(scheme: Scheme) -> str:
    """The file text: a comment line, then the U, V, W blocks."""
    lines = [f"# {scheme.format} rank {scheme.rank} ring {scheme.ring} (written by strassen-discover)"]
    for n, factor in enumerate(scheme.factors):
        if n:
            lines.append("#")
        flat = factor.reshape(scheme.rank, factor.shape[1] * factor.shape[2]).T
        lines.extend(" ".join(format_coefficient(v) for v in row) for row in flat)
    return "\n".join(lines) + "\n"


def write_benson_ballard(scheme: Scheme, path: Path) -> None:
    """Write a Benson–Ballard coefficient file atomically."""
    atomic_write_text(path, benson_ballard_text(scheme))
