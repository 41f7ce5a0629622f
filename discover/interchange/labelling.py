"""Verification of imported schemes and their ring label, taken from verification alone.

Over Q first: a valid scheme keeps the ring of its coefficients (ZT, Z or Q). Else, for
integer coefficients, mod 2: a scheme valid there is labelled Z2. Else it is not exact.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..scheme import Scheme
from ..verify import VerificationReport, verify, verify_exact


@dataclass(frozen=True)
class Labelled:
    """An imported scheme after verification.

    Attributes
    ----------
    scheme : Scheme
        The scheme with its ring label (``mod2`` set when valid mod 2 only).
    report : VerificationReport
        The report that decided: over Q, or mod 2 when that is where it holds.
    valid : bool
        Whether the scheme is exact in the ring its label names.
    """

    scheme: Scheme
    report: VerificationReport
    valid: bool


def _check(scheme: Scheme, proof: bool) -> VerificationReport:
    return verify(scheme, proof=True) if proof else verify_exact(scheme)


def label_ring(scheme: Scheme, *, proof: bool = False) -> Labelled:
    """Verify ``scheme`` over Q, then mod 2, and label its ring accordingly.

    Parameters
    ----------
    scheme : Scheme
        Coefficients as read from a file (its ``mod2`` flag is ignored).
    proof : bool
        Add the sympy proof to the fast exact check (slow for ranks in the hundreds).
    """
    plain = Scheme.from_arrays(scheme.U, scheme.V, scheme.W, scheme.format, meta=scheme.meta) if scheme.mod2 else scheme
    over_q = _check(plain, proof)
    if over_q.valid:
        return Labelled(plain, over_q, True)
    if plain.denominator == 1:
        mod2 = plain.as_mod2()
        report = _check(mod2, proof)
        if report.valid:
            return Labelled(mod2, report, True)
    return Labelled(plain, over_q, False)
