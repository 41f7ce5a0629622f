"""What every generated file says about its scheme in its header, and the helpers every Python target carries."""
from __future__ import annotations

from ..provenance import scheme_provenance
from ..scheme import Scheme


def describe(scheme: Scheme) -> dict[str, str]:
    """Name, ring and source of a scheme, for file headers."""
    prov = scheme_provenance(scheme)
    source = str(prov.get("source") or prov.get("method") or prov.get("command") or "")
    return {
        "name": str(scheme.name or f"{scheme.format} rank {scheme.rank}"),
        "source": source or "unrecorded",
        "ring": scheme.ring.value,
    }



_LEVEL_HELPERS = '''def applied_levels(N, K, P, levels=1, cutoff=DEFAULT_CUTOFF):
    """How many levels of the scheme ``matmul`` applies to an (N, K) @ (K, P) product (0: plain ``@``)."""
    done, cutoff = 0, max(1, int(cutoff))
    while done < int(levels) and N // {n} >= cutoff and K // {m} >= cutoff and P // {p} >= cutoff:
        N, K, P, done = N // {n}, K // {m}, P // {p}, done + 1
    return done


def intermediate_bound(alpha, beta, K, levels):
    """Bound on every value of the integer program for |A| <= alpha, |B| <= beta, inner dimension K."""
    la, lb, gc = GROWTH
    best = K * alpha * beta
    for _ in range(max(int(levels), 0)):
        k = K // {m}
        if k < 1:
            break
        best = max(best, la * alpha, lb * beta, gc * k * la * alpha * lb * beta)
        alpha, beta, K = la * alpha, lb * beta, k
        best = max(best, K * alpha * beta)
    return best
'''


def level_helpers(n: int, m: int, p: int) -> str:
    """``applied_levels`` and ``intermediate_bound`` for a generated module of format ``n x m x p``
    (the python and torch targets emit the same two functions: generated code imports nothing of ours)."""
    return _LEVEL_HELPERS.format(n=n, m=m, p=p)
