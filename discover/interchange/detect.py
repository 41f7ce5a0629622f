"""Which interchange format a file is in, from its content (file names are only hints)."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import LoadError
from ..jsonio import parse_json
from ..limits import check_regular_file, read_limited_text
from .perminov import is_perminov

_PRODUCT = re.compile(r"[abc]\d")
_NUMBERS = re.compile(r"^[\s\d.+\-/eE]+$")


def detect_format(path: Path) -> str:
    """Detect the format of ``path``.

    Returns
    -------
    str
        A name of :data:`discover.interchange.FORMATS`.

    Raises
    ------
    LoadError
        When the file cannot be read or matches no known format.
    """
    path = Path(path)
    check_regular_file(path)  # /dev/zero, a FIFO or a folder: refused before reading
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as e:
        raise LoadError(f"{path}: cannot read: {e.strerror or e}") from e
    if head.startswith(b"PK"):
        from .alphatensor import npz_keys

        keys = npz_keys(path)
        if any(k.startswith("decomposition_") for k in keys):
            return "alphaevolve"
        if any(re.match(r"^\d+,\d+,\d+$", k) for k in keys):
            return "alphatensor"
        raise LoadError(f"{path}: an npz archive with neither AlphaTensor ('a,b,c') nor AlphaEvolve keys")
    text = read_limited_text(path)
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = parse_json(stripped)
        except ValueError as e:
            raise LoadError(f"{path}: malformed JSON: {e}") from e
        if isinstance(doc, dict) and all(k in doc for k in ("U", "V", "W")):
            return "json"
        if is_perminov(doc):
            return "perminov"
        raise LoadError(f"{path}: JSON that is neither a catalog scheme (U, V, W) nor a Perminov scheme (n or dimension, u, v, w)")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    body = [ln for ln in lines if not ln.startswith("#")]
    if body and all(_PRODUCT.search(ln) for ln in body) and any("a" in ln and "b" in ln for ln in body):
        return "lifted" if re.search(r"\)[ \t]*\(|\d[ \t]+[abc]\d", text) else "exp"
    if body and any(ln.startswith("#") for ln in lines) and all(_NUMBERS.match(ln) for ln in body):
        return "benson-ballard"
    raise LoadError(f"{path}: unknown file format (expected .npz, scheme JSON, .exp products or a coefficient file)")
