"""Perminov's JSON scheme files (dronperminov/FastMatrixMultiplication), both ways.

``{"n": [n1, n2, n3], "m": R, "z2": bool, "u": R×(n1·n2), "v": R×(n2·n3), "w": R×(n3·n1),
"multiplications": [...], "elements": [...]}``; coefficients are integers or strings such as
``"1/2"``; ``w`` is in the Cᵀ layout. The rank is recounted from ``u`` (``m`` is only a claim).
Newer files of his numerical and flip tools spell the format ``"dimension"`` and the claimed rank
``"rank"`` (with ``"ring"``, ``"complexity"``); both spellings are read, the classic one is written.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..coefficients import CoefficientError, coefficient_to_json, to_coefficient
from ..errors import DiscoverError, FormatError, LoadError
from ..formats import Format
from ..formulas import output_lines, product_lines
from ..jsonio import atomic_write_text, parse_json
from ..limits import check_scheme_size, read_limited_text
from ..scheme import Scheme
from .common import ImportedScheme, ct_factors, item_meta, scheme_from_ct


def is_perminov(doc: Any) -> bool:
    """True when a decoded JSON document looks like a Perminov scheme."""
    return (isinstance(doc, dict) and ("n" in doc or "dimension" in doc)
            and all(k in doc for k in ("u", "v", "w")))


def _rows(doc: dict, name: str) -> np.ndarray:
    rows = doc[name]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise LoadError(f"field {name}: expected a list of coefficient rows")
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise LoadError(f"field {name}: rows have different lengths {sorted(widths)}")
    out = np.empty((len(rows), widths.pop() if widths else 0), dtype=object)
    for k, row in enumerate(rows):
        for j, value in enumerate(row):
            try:
                out[k, j] = to_coefficient(value)
            except CoefficientError as e:
                raise LoadError(f"field {name}[{k}][{j}]: {e}") from e
    return out


def scheme_from_perminov(doc: Any, source: str = "") -> ImportedScheme:
    """Build the import item of one decoded Perminov document."""
    if not is_perminov(doc):
        raise LoadError("not a Perminov scheme: needs the fields n (or dimension), u, v, w")
    dims_field = "n" if "n" in doc else "dimension"
    try:
        fmt = Format.parse(doc[dims_field])
    except FormatError as e:
        raise LoadError(f"field {dims_field}: {e}") from e
    declared = doc.get("m", doc.get("rank"))
    declared = declared if isinstance(declared, int) and not isinstance(declared, bool) else None
    try:
        sizes = [len(doc[name]) if isinstance(doc[name], list) else 0 for name in ("u", "v", "w")]
        check_scheme_size(fmt.dims, max(sizes))  # before converting millions of entries
        u, v, w = (_rows(doc, name) for name in ("u", "v", "w"))
        n, m, p = fmt.dims
        r = u.shape[0]
        u, v, w = (a if a.shape[0] else np.zeros((0, width), dtype=object) for a, width in ((u, n * m), (v, m * p), (w, p * n)))
        if not (v.shape[0] == w.shape[0] == r):
            raise LoadError(f"u, v, w hold {r}, {v.shape[0]}, {w.shape[0]} products")
        meta = item_meta(source, "", "perminov", f"Perminov {fmt} rank {r}")
        scheme = scheme_from_ct(u, v, w, fmt, meta=meta)
    except DiscoverError as e:
        return ImportedScheme(source, "", "perminov", error=str(e), declared_rank=declared)
    return ImportedScheme(source, "", "perminov", scheme=scheme, declared_rank=declared)


def read_perminov(path: Path) -> list[ImportedScheme]:
    """Import a Perminov JSON file (one scheme)."""
    path = Path(path)
    text = read_limited_text(path)
    try:
        doc = parse_json(text)
    except ValueError as e:
        raise LoadError(f"{path}: cannot read JSON: {e}") from e
    try:
        return [scheme_from_perminov(doc, path.name)]
    except LoadError as e:
        raise LoadError(f"{path}: {e}") from e


def perminov_dict(scheme: Scheme) -> dict[str, Any]:
    """The Perminov document of a scheme."""
    u, v, w = ct_factors(scheme)
    rows = lambda a: [[coefficient_to_json(x) for x in row] for row in a]  # noqa: E731
    return {
        "n": list(scheme.format.dims),
        "m": scheme.rank,
        "z2": bool(scheme.mod2),
        "complexity": scheme.additions,
        "multiplications": product_lines(scheme),
        "elements": output_lines(scheme),
        "u": rows(u),
        "v": rows(v),
        "w": rows(w),
    }


def write_perminov(scheme: Scheme, path: Path) -> None:
    """Write a Perminov JSON file atomically (one product per line in u, v, w)."""
    doc = perminov_dict(scheme)
    lines = ["{"]
    keys = list(doc)
    for i, key in enumerate(keys):
        comma = "," if i < len(keys) - 1 else ""
        value = doc[key]
        if key in ("u", "v", "w", "multiplications", "elements"):
            body = ",\n".join("    " + json.dumps(row, separators=(", ", ": ")) for row in value)
            lines.append(f'  "{key}": [\n{body}\n  ]{comma}' if value else f'  "{key}": []{comma}')
        else:
            lines.append(f'  "{key}": {json.dumps(value)}{comma}')
    lines.append("}")
    atomic_write_text(path, "\n".join(lines) + "\n")
