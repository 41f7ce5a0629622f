"""The flip engine's settings: one type, defaults written once, checked once.

:class:`FlipSettings` is also the ``flip`` search method's options type, so ``-O plateau=5000``
on the command line and ``FlipSettings(plateau=5000)`` in Python are the same thing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..errors import SearchError
from ..rings import Ring
from ..scheme import Scheme
from .zt import GF3_MOVES, is_ternary

FIELDS = ("auto", "zt", "gf2", "gf3")
STARTS = ("naive", "catalog")


def is_ternary_scheme(scheme: Scheme) -> bool:
    """Whether every coefficient of an integer scheme is in {-1, 0, 1}."""
    return scheme.denominator == 1 and is_ternary(scheme.U, scheme.V, scheme.W)


def check_gf3_moves(method: str, gf3_moves: str) -> None:
    """Raise :class:`~discover.errors.SearchError` unless ``gf3_moves`` names a kind of GF(3) move."""
    if gf3_moves not in GF3_MOVES:
        raise SearchError(f"{method}: gf3_moves={gf3_moves!r}: choose {' or '.join(GF3_MOVES)}")


def parse_replay_lift(text: str, runners: int) -> Optional[tuple[int, int, str]]:
    """``replay_lift`` (``FLIPS:RUNNER:best`` or ``FLIPS:RUNNER:current``, as recorded in a found
    scheme's ``lift_point``) as (flips, runner, which); None for "".

    Raises
    ------
    SearchError
        For text of another form, or a runner the walk does not have.
    """
    if not text:
        return None
    parts = text.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() or parts[2] not in ("best", "current"):
        raise SearchError(f"flip: replay_lift={text!r}: write FLIPS:RUNNER:best or FLIPS:RUNNER:current")
    flips, runner = int(parts[0]), int(parts[1])
    if runner >= runners:
        raise SearchError(f"flip: replay_lift names runner {runner}, but the walk has {runners} runners")
    return flips, runner, parts[2]


@dataclass(frozen=True)
class FlipSettings:
    """Settings of a flip-graph walk (the options of the ``flip`` method).

    Attributes
    ----------
    field : str
        "auto" (zt for rings ZT/Z/Q with a ternary start, else gf2: also for a Z2 start), "zt" (ternary walk over
        Z: every scheme visited is exact), "gf2" (walk mod 2, then lift) or "gf3" (walk mod 3
        from the naive scheme, then a 3-adic lift to rationals with denominators prime to 3,
        e.g. halves; ring Q only; the compiled runners of :mod:`discover.flip.gf3runners`).
    plateau : int
        Flips without a new best rank before a plus transition (or a restart from the best).
    max_plus : int
        Plus transitions allowed above the best rank before restarting from the best scheme.
    chunk : int
        Flips per compiled call (between checks of the stop flag and the time limit).
    lift_interval : int
        Flips along a plateau between two lifting attempts of a runner (gf2, gf3).
    lift_tries : int
        Single GF(2) walk (``runners=0``): failed lifts at one rank before the walk leaves that
        region by plus transitions.
    escape_plus : int
        Single GF(2) walk: plus transitions taken to leave a target-rank region whose lifts keep failing.
    hensel : bool
        Try Hensel lifting (rationals, larger integers) when the sign lift fails (rings Z and Q).
    ternarize : int
        GF(2) runners, ring ZT: when the sign lift fails, Hensel-lift the scheme over Z
        and walk the lift towards ternary coefficients for up to this many moves
        (:func:`discover.ternary_form.ternary_form`); 0: sign lifts only.
    lift_lows : bool
        GF(2) runners: also lift each new lowest rank on the way down to the target,
        and when the target is not reached, return the lowest lifted scheme as the best exact
        one (a search for rank 58 that reaches 59 and lifts it saves that 59).
    max_flips : int
        Flip budget per task (0: unlimited). With a budget and no time limit a seed
        reproduces the walk exactly; lifts then take at most a quarter of the flips, each charged
        its estimated cost (:class:`~discover.flip.liftrunners.LiftBudget`), not of the time.
    start : str
        Start scheme when the problem has none: "naive" or "catalog" (the catalog's best).
    runners : int
        Independent walkers advanced together in one compiled call per process, in every field
        (0: the single walk with ``plateau``/``max_plus`` restarts; zt and gf2 only).
    plus_min, plus_max : int
        Runners: a runner that has gone a random number of flips in [plus_min, plus_max]
        without a reduction takes a plus transition or a split (the plateau rule); the ternary
        runners never at or above the naive rank n·m·p, the GF(3) runners up to ``plus_diff`` + 3
        above their start.
    plus_diff : int
        Runners: expansions only while the rank is below the runner's best + plus_diff.
    round_flips : int
        Ternary runners: walk steps per runner between two looks at the runners' best schemes.
    copy_best : float
        Ternary runners: after a round that lowered the best rank, each other runner continues
        from a copy of the best runner's scheme with this probability (not from the start).
    quiet_flips : int
        Ternary runners: flips after an expansion with reductions deferred (then all are taken),
        so that the walk leaves the expansion before a reduction can undo it (0: none deferred).
    gf3_moves : str
        field=gf3: "ternary" (default): flips and plus transitions only where their sums stay in
        {-1, 0, 1} over Z, merges of a reduction mod 3; "mod3": every sum mod 3 (1 + 1 ≡ −1), which
        fills the factors (the naive 2x4x4 and 2x4x5 stayed at their naive rank mod 3 for 60 s;
        see ``discover.flip.zt.OVER_Z``).
    replay_lift : str
        GF(2)/GF(3) runners: ``FLIPS:RUNNER:best`` or ``FLIPS:RUNNER:current``, a lift to make
        whatever the lift budget says (the ``lift_point`` a found scheme records). Without a flip
        budget the clock picks which schemes a walk lifts, but the walk and each lift's outcome
        replay from the seed, so this makes a recorded lift again (``catalog rebuild`` adds it).
    """

    field: str = "auto"
    plateau: int = 20000
    max_plus: int = 2
    chunk: int = 200_000
    lift_interval: int = 2000
    lift_tries: int = 10
    escape_plus: int = 2
    hensel: bool = True
    ternarize: int = 0
    lift_lows: bool = False
    max_flips: int = 0
    start: str = "naive"
    runners: int = 8
    plus_min: int = 5000
    plus_max: int = 100_000
    plus_diff: int = 4
    round_flips: int = 100_000
    copy_best: float = 0.5
    quiet_flips: int = 0
    gf3_moves: str = "ternary"
    replay_lift: str = ""

    def check(self, start: Scheme | None = None) -> None:
        """Raise :class:`~discover.errors.SearchError` for settings no walk can run with."""
        if self.field not in FIELDS:
            raise SearchError(f"flip: field={self.field!r}: choose {', '.join(FIELDS)}")
        if self.start not in STARTS:
            raise SearchError(f"flip: start={self.start!r}: choose {' or '.join(STARTS)}")
        check_gf3_moves("flip", self.gf3_moves)
        for name in ("plateau", "chunk", "lift_interval", "lift_tries", "plus_min", "round_flips"):
            if getattr(self, name) < 1:
                raise SearchError(f"flip: {name} must be at least 1, got {getattr(self, name)}")
        if self.lift_lows and self.field not in ("gf2", "auto"):
            raise SearchError(f"flip: lift_lows lifts GF(2) walks; field={self.field} has nothing to lift")
        if self.replay_lift:
            if self.field not in ("gf2", "gf3", "auto") or self.runners == 0:
                raise SearchError("flip: replay_lift replays a lift of the GF(2) or GF(3) runners")
            parse_replay_lift(self.replay_lift, self.runners)
        if self.plus_max < self.plus_min:
            raise SearchError(f"flip: plus_max ({self.plus_max}) must be at least plus_min ({self.plus_min})")
        if not 0.0 <= self.copy_best <= 1.0:
            raise SearchError(f"flip: copy_best must be in [0, 1], got {self.copy_best}")
        if self.ternarize and self.field not in ("gf2", "auto"):
            raise SearchError(f"flip: ternarize moves GF(2) lifts to ternary; field={self.field} has nothing to lift")
        for name in ("max_plus", "max_flips", "escape_plus", "runners", "plus_diff", "quiet_flips", "ternarize"):
            if getattr(self, name) < 0:
                raise SearchError(f"flip: {name} must be at least 0, got {getattr(self, name)}")
        if start is not None:
            if self.field == "zt" and start.mod2:
                raise SearchError("flip: field=zt walks over Z, but the start scheme is valid only mod 2 (Z2): "
                                  "use field=gf2")
            if self.field == "zt" and not is_ternary_scheme(start):
                raise SearchError("flip: field=zt needs a start scheme with coefficients in {-1, 0, 1}")
            if self.field != "zt" and not is_ternary_scheme(start) and start.denominator % 2 == 0:
                raise SearchError("flip: the start scheme has even denominators, so it has no reduction mod 2")

    def walk_field(self, ring: Ring, start: Scheme) -> str:
        """The field a walk runs in: :attr:`field` itself unless it is "auto"."""
        if self.field != "auto":
            return self.field
        # a Z2 start (e.g. a cut: source) is exact only mod 2: a walk over Z would start inexact
        return "zt" if ring is not Ring.Z2 and not start.mod2 and is_ternary_scheme(start) else "gf2"
