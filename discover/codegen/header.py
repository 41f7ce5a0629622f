"""What every generated file says about its scheme in its header."""
from __future__ import annotations

from ..scheme import Scheme


def describe(scheme: Scheme) -> dict[str, str]:
    """Name, ring and source of a scheme, for file headers."""
    prov = scheme.meta.get("provenance") or {}
    source = ""
    if isinstance(prov, dict):
        source = str(prov.get("source") or prov.get("method") or prov.get("command") or "")
    return {
        "name": str(scheme.meta.get("name") or f"{scheme.format} rank {scheme.rank}"),
        "source": source or "unrecorded",
        "ring": scheme.ring.value,
    }

