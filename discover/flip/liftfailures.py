"""Why a lift of a scheme mod 2 failed: the counters a walk reports and their words in the summary.

Kept apart from the lifting code (compiled, heavy) so the search driver and the CLI can read the
counters without loading it.
"""
from __future__ import annotations

#: Why a lift failed (counter name -> words for the search summary). :func:`~discover.flip.lift.lift`
#: answers a failure with its counter name: the sign lift fails "failed_no_signs" when no ±1 signs on
#: the scheme's support work even mod 4 (proven), "failed_signs_not_exact" when the signs tried
#: mod 4 were not exact over Z; "failed_hensel" is a Hensel lift that failed after them;
#: "failed_ternarize" a Hensel lift that the ternary walk (``ternarize``) did not bring to {-1, 0, 1}.
LIFT_FAILURES: dict[str, str] = {
    "failed_no_signs": "no ±1 signs on the support (mod 4)",
    "failed_signs_not_exact": "signs not exact over Z",
    "failed_hensel": "no Hensel lift",
    "failed_ternarize": "Hensel lift not moved to ternary",
    "out_of_ring": "lifted outside the ring",
}

