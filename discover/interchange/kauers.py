"""Kauers–Moosbauer ``.exp`` files and the Moosbauer–Poole ``_lifted.txt`` variant, both ways.

One product per line, the three factors multiplied::

    (a11+a22)*(b11+b22)*(c11+c22)              .exp
    (a11 - a22) (b11 + 2 b31) (c11 + c22)       _lifted.txt (spaces multiply)

Indices are 1-based digit pairs (``a1_12`` once a dimension exceeds 9); the c factor is for
Cᵀ: ``cKI`` is the weight in C[I, K]. Coefficients lead (``2*a11``, ``2 a11``, ``1/2*a11``)
or trail (``a11/3``, ``(...)/3``). A small tokenizer reads them: nothing is evaluated.
"""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

from ..coefficients import Coefficient, format_coefficient
from ..errors import DiscoverError, SchemeError
from ..formats import Format
from ..jsonio import atomic_write_text
from ..limits import MAX_DIGITS, MAX_PAREN_DEPTH, check_scheme_size, read_limited_text
from ..formulas import linear_form_terms
from ..names import entry_name
from ..scheme import Scheme
from .common import ImportedScheme, item_meta

#: One term at the top level of a product (whitespace removed), e.g. the factor ``a11`` of ``a11*(b11+b22)*c11``.
_TERM = re.compile(r"([+-]?)(?:(\d+)(?:/(\d+))?\*?)?([abc])(\d+)(?:_(\d+))?(?:/(\d+))?")
#: A scalar factor at the top level of a product: ``2*``, ``1/2*``.
_SCALAR = re.compile(r"(\d+)(?:/(\d+))?\*")
#: Format and rank in names such as ``555-97-mod0.exp``, ``555m93_lifted.txt``, ``666r153.exp``.
_NAME = re.compile(r"(?:^|[-_])(\d)(\d)(\d)[-_rm](\d+)(?:\D|$)")

Entry = tuple[str, int, int, Coefficient]


def parse_form(text: str) -> tuple[Optional[str], list[tuple[int, int, Fraction]]]:
    """Parse one linear form without whitespace (``-a11+2*a12``) into (letter, terms)."""
    if text == "0":
        return None, []
    terms = linear_form_terms(text)
    letters = {letter for letter, _, _, _ in terms}
    if not letters <= set("abc"):
        raise SchemeError(f"cannot read the linear form {text!r}: only a, b and c entries are allowed")
    if len(letters) != 1:
        raise SchemeError(f"the factor {text!r} mixes the variables {', '.join(sorted(letters))}")
    return letters.pop(), [(i, j, coef) for _, i, j, coef in terms]


def _close(text: str, start: int) -> int:
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "(":
            depth += 1
        elif text[pos] == ")":
            depth -= 1
            if depth == 0:
                return pos
    raise SchemeError(f"unbalanced parentheses in {_cut(text)}")


def _factors(text: str, line: str) -> tuple[Fraction, dict[str, list[tuple[int, int, Fraction]]]]:
    """Scalar and the a, b, c factors of a product written without whitespace.

    A parenthesised group that holds a whole product (``-(a13(b13-b33)(c11+c14))``, used by
    some published files for a sign) is read recursively.
    """
    scalar = Fraction(1)
    factors: dict[str, list[tuple[int, int, Fraction]]] = {}

    def add(letter: Optional[str], terms: list[tuple[int, int, Fraction]]) -> None:
        key = letter or "?"
        if key in factors and key != "?":
            raise SchemeError(f"the product {_cut(line)} has two {key} factors")
        factors[key] = terms

    pos = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "*":
            pos += 1
            continue
        if ch in "+-" and pos + 1 < len(text) and text[pos + 1] == "(":
            scalar *= -1 if ch == "-" else 1
            pos += 1
            continue
        if ch == "(":
            end = _close(text, pos)
            inner = text[pos + 1:end]
            pos = end + 1
            if "(" in inner or len(set(re.findall(r"[abc]", inner))) > 1:
                sub_scalar, sub = _factors(inner, line)
                scalar *= sub_scalar
                for letter, terms in sub.items():
                    add(letter if letter != "?" else None, terms)
            else:
                add(*parse_form(inner))
            trail = re.match(r"/(\d+)", text[pos:])
            if trail:
                _check_digits(trail.group(1), line)
                if int(trail.group(1)) == 0:
                    raise SchemeError(f"division by zero in {_cut(line)}")
                scalar /= int(trail.group(1))
                pos += trail.end()
            continue
        scal = _SCALAR.match(text, pos)
        if scal and not re.match(r"[abc]", text[scal.end():scal.end() + 1] or " "):
            _check_digits(scal.group(1), line)
            _check_digits(scal.group(2) or "1", line)
            if int(scal.group(2) or 1) == 0:
                raise SchemeError(f"division by zero in {_cut(line)}")
            scalar *= Fraction(int(scal.group(1)), int(scal.group(2) or 1))
            pos = scal.end()
            continue
        term = _TERM.match(text, pos)
        if not term or term.end() == pos:
            raise SchemeError(f"cannot read {text[pos:pos + 16]!r} in the product {_cut(line)}")
        add(*parse_form(term.group(0)))
        pos = term.end()
    return scalar, factors


def _check_digits(digits: str, line: str) -> None:
    if len(digits) > MAX_DIGITS:
        raise SchemeError(f"a number in {_cut(line)} exceeds the limit of {MAX_DIGITS} digits")


def _cut(text: str, width: int = 60) -> str:
    text = text.strip()
    return repr(text if len(text) <= width else text[: width - 3] + "...")


def _check_nesting(text: str, line: str) -> None:
    """Balanced parentheses at most :data:`MAX_PAREN_DEPTH` deep (the reader recurses per level)."""
    depth = 0
    for ch in text:
        if ch == "(":
            depth += 1
            if depth > MAX_PAREN_DEPTH:
                raise SchemeError(f"parentheses nested deeper than the limit of {MAX_PAREN_DEPTH} in {_cut(line)}")
        elif ch == ")":
            depth -= 1
            if depth < 0:
                break
    if depth != 0:
        raise SchemeError(f"unbalanced parentheses in {_cut(line)}")


def parse_product(line: str) -> list[Entry]:
    """Parse one product line into entries (letter, row, col, coefficient), c not yet transposed."""
    text = "".join(line.split())
    _check_nesting(text, line)
    scalar, factors = _factors(text, line)
    if "?" in factors:
        # A zero factor makes a zero product; give it to the letter that is missing.
        missing = [c for c in "abc" if c not in factors]
        factors[missing[0] if missing else "?"] = factors.pop("?")
    missing = [c for c in "abc" if c not in factors]
    if missing:
        raise SchemeError(f"the product {_cut(line)} has no {', '.join(missing)} factor")
    entries: list[Entry] = []
    for letter in "abc":
        for i, j, coef in factors[letter]:
            if letter == "c":
                coef *= scalar
            entries.append((letter, i, j, int(coef) if coef.denominator == 1 else coef))
    return entries


def name_hint(name: str) -> tuple[Optional[tuple[int, int, int]], Optional[int]]:
    """Format and rank claimed by a file name such as ``555-97-mod0.exp`` (not trusted)."""
    match = _NAME.search(Path(name).stem)
    if not match:
        return None, None
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))), int(match.group(4))


def scheme_from_products(products: list[list[Entry]], fmt: Optional[Format] = None, meta: Optional[dict] = None) -> Scheme:
    """Assemble parsed products; the format is inferred from the largest indices when omitted."""
    seen = {"a": (0, 0), "b": (0, 0), "c": (0, 0)}
    for entries in products:
        for letter, i, j, _ in entries:
            seen[letter] = (max(seen[letter][0], i + 1), max(seen[letter][1], j + 1))
    # c indices are (K, I): C[I, K].
    need = (max(seen["a"][0], seen["c"][1]), max(seen["a"][1], seen["b"][0]), max(seen["b"][1], seen["c"][0]))
    if fmt is None or any(x > y for x, y in zip(need, fmt.dims)):
        if min(need) == 0:
            raise SchemeError("no products: cannot tell the format")
        fmt = Format(*need)
    n, m, p = fmt.dims
    r = len(products)
    check_scheme_size(fmt.dims, r)  # before allocating: indices such as a999_999 ask for a huge format
    U = np.zeros((r, n, m), dtype=object)
    V = np.zeros((r, m, p), dtype=object)
    W = np.zeros((r, n, p), dtype=object)
    for k, entries in enumerate(products):
        for letter, i, j, coef in entries:
            if letter == "a":
                U[k, i, j] += coef
            elif letter == "b":
                V[k, i, j] += coef
            else:
                W[k, j, i] += coef
    return Scheme.from_arrays(U, V, W, fmt, meta=meta)


def parse_exp_text(text: str, source: str = "", kind: str = "exp") -> ImportedScheme:
    """Import the text of an ``.exp`` or ``_lifted.txt`` file (one scheme)."""
    hint, declared = name_hint(source) if source else (None, None)
    products = []
    try:
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith(("#", "//")):
                continue
            try:
                products.append(parse_product(line))
            except SchemeError as e:
                raise SchemeError(f"line {number}: {e}") from e
        fmt = Format(*hint) if hint else None
        scheme = scheme_from_products(products, fmt)
        title = "Moosbauer-Poole" if kind == "lifted" else "Kauers-Moosbauer"
        scheme = scheme.with_meta(**item_meta(source, "", kind, f"{title} {scheme.format} rank {scheme.rank}"))
    except DiscoverError as e:
        return ImportedScheme(source, "", kind, error=str(e), declared_rank=declared)
    return ImportedScheme(source, "", kind, scheme=scheme, declared_rank=declared)


def read_exp(path: Path) -> list[ImportedScheme]:
    """Import an ``.exp`` or ``_lifted.txt`` file."""
    path = Path(path)
    text = read_limited_text(path)
    kind = "lifted" if re.search(r"\)[ \t]*\(|\d[ \t]+[abc]\d", text) else "exp"
    item = parse_exp_text(text, path.name, kind)
    return [item]


# ---------------------------------------------------------------------------- writing
def _term(coef: Coefficient, var: str, spaced: bool) -> str:
    mag = abs(coef)
    if isinstance(mag, Fraction) and mag.denominator != 1:
        num, den = mag.numerator, mag.denominator
        if spaced:
            return f"{num}/{den} {var}"
        return f"{var}/{den}" if num == 1 else f"{num}*{var}/{den}"
    if mag == 1:
        return var
    return f"{format_coefficient(mag)} {var}" if spaced else f"{format_coefficient(mag)}*{var}"


def _form(coeffs: np.ndarray, letter: str, fmt: Format, spaced: bool, transpose: bool = False) -> str:
    """``(a11-2*a12)``; with ``transpose`` the (i, l) entry is written ``c{l}{i}`` (Cᵀ)."""
    parts = []
    for (i, j), c in np.ndenumerate(coeffs.T if transpose else coeffs):
        if c == 0:
            continue
        var = entry_name(letter, i, j, fmt)
        parts.append(("-" if c < 0 else "+", _term(c, var, spaced)))
    if not parts:
        return "(0)"
    sep = " " if spaced else ""
    text = ("-" if parts[0][0] == "-" else "") + parts[0][1]
    for sign, term in parts[1:]:
        text += f"{sep}{sign}{sep}{term}"
    return f"({text})"


def exp_lines(scheme: Scheme, spaced: bool = False) -> list[str]:
    """One line per product; ``spaced`` gives the ``_lifted.txt`` style."""
    fmt = scheme.format
    joiner = " " if spaced else "*"
    return [
        joiner.join((_form(scheme.U[k], "a", fmt, spaced), _form(scheme.V[k], "b", fmt, spaced), _form(scheme.W[k], "c", fmt, spaced, transpose=True)))
        for k in range(scheme.rank)
    ]


def write_exp(scheme: Scheme, path: Path) -> None:
    """Write an ``.exp`` file atomically (c factor in the Cᵀ convention)."""
    atomic_write_text(path, "\n".join(exp_lines(scheme)) + "\n")


def write_lifted(scheme: Scheme, path: Path) -> None:
    """Write a ``_lifted.txt`` file (spaces multiply) atomically."""
    atomic_write_text(path, "\n".join(exp_lines(scheme, spaced=True)) + "\n")
