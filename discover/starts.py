"""Starts for a flip walk on a format, made from the catalog by meta moves, lowest rank first.

A walk's start decides where it ends. Compositions (direct sums and Kronecker products of
catalog schemes) are rigid starts: walks from them often make no reduction at all (5x5x6 from
the composed r118, 5x6x6 from r141). A larger scheme cut down to the format (``resize:``,
especially of a Kronecker product with Strassen's scheme) or a smaller one grown by a naive slice
(``extend:``) walks down far better: 5x5x6 reached 115 in 4 s from
``resize:5x5x6:product:strassen,catalog:3x3x3``. :func:`probe_starts` lists such starts, each as
the ``--start`` spec a search records, ranked by a short walk from each.
"""
from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass
from typing import Callable, Optional

from .formats import Format
from .scheme import Scheme

# A Kronecker factor (and its spec) whose product with a catalog scheme is cut down to the format.
_FACTORS = (("strassen", 2), ("catalog:3x3x3", 3))


#: The walks :func:`probe_starts` can give each start: GF(2) runners that lift their lows, or the
#: exact ternary runners (no lifts: every rank they reach is a ternary scheme).
PROBE_FIELDS = ("gf2", "zt")


@dataclass(frozen=True)
class Start:
    """A ``--start`` spec, the rank of the scheme it reads (terms that vanish are dropped), the
    rank a short walk from it reached (mod 2 for a GF(2) walk), and the lowest rank of a ternary
    scheme that walk lifted or held (None: none below the start's rank; :func:`probe_starts`)."""

    spec: str
    rank: int
    reached: int
    lifted: Optional[int] = None

    @property
    def order(self) -> tuple:
        """Best first: the rank reached mod 2, then the lowest ternary lift, the rank read, the spec."""
        return (self.reached, self.lifted if self.lifted is not None else self.rank + 1, self.rank, self.spec)


def candidate_specs(fmt: Format, have: set[tuple[int, int, int]], cuts: bool = False) -> list[str]:
    """The meta-move starts for ``fmt`` from catalog formats ``have`` (sorted dims, any orientation).

    * ``extend:FMT:catalog:G`` for G one smaller than FMT in one dimension;
    * ``resize:FMT:catalog:G`` for G one larger than FMT in one, two or three dimensions (a larger
      scheme cut down), and ``cut:FMT:catalog:G``, the same scheme cut down by linear cuts mod 2
      (:mod:`discover.linearcut`; a Z2 start, so only the GF(2) probe walks it);
    * ``resize:FMT:product:F,catalog:H`` for F Strassen's 2x2x2 or the catalog's 3x3x3 and H the
      smallest format with F ⊗ H covering FMT (and H one larger in one dimension).

    ``cuts``: each catalog scheme one larger in one dimension is cut at every index of it
    (``resize:FMT@I:catalog:G``) instead of only at the one that kills the most products; a
    scheme larger in two or three dimensions keeps the default cut (all its cuts would be 36 to
    216 starts). The cuts of one scheme are different starts: the 3x5x5 r58 came from ``project:3x5x5@3`` of a 4x5x5 r76, where the default cut
    (row 1, the same rank 64) and four other cuts walked to 59.
    """
    def known(dims: tuple[int, ...]) -> bool:
        return tuple(sorted(dims)) in have

    def name(dims: tuple[int, ...]) -> str:
        return "x".join(map(str, dims))

    specs = []
    for axis in range(3):
        smaller = tuple(d - (i == axis) for i, d in enumerate(fmt.dims))
        if min(smaller) >= 1 and known(smaller):
            specs.append(f"extend:{fmt}:catalog:{name(smaller)}")
    for dims in itertools.product(*((d, d + 1) for d in fmt.dims)):
        if dims != fmt.dims and known(dims):
            dropped = [big for big, small in zip(dims, fmt.dims) if big > small]
            if not cuts or len(dropped) > 1:  # every cut of two or three dimensions: up to 216 starts
                specs.append(f"resize:{fmt}:catalog:{name(dims)}")
            else:
                specs.extend(f"resize:{fmt}@{index}:catalog:{name(dims)}" for index in range(dropped[0]))
            specs.append(f"cut:{fmt}:catalog:{name(dims)}")  # linear cuts mod 2 (a Z2 start)
    for factor, size in _FACTORS:
        tight = tuple(math.ceil(d / size) for d in fmt.dims)
        grown = [tuple(d + (i == axis) for i, d in enumerate(tight)) for axis in range(3)]
        for dims in [tight, *grown]:
            # F ⊗ H of exactly FMT is a composition (rigid, and `catalog compose` makes it)
            if max(dims) > 1 and known(dims) and tuple(size * d for d in dims) != fmt.dims:
                specs.append(f"resize:{fmt}:product:{factor},catalog:{name(dims)}")
    return list(dict.fromkeys(specs))


def probe_starts(fmt, directory: Optional[os.PathLike | str] = None, flips: int = 20_000_000, seed: int = 0,
                 on_start: Optional[Callable[[Start], None]] = None, field: str = "gf2",
                 cuts: bool = False) -> list[Start]:
    """Walk briefly from each start of :func:`candidate_specs` and rank the starts by how low they got.

    The rank a start reads does not tell how far a walk descends from it (5x5x6:
    ``extend:…:catalog:5x5x5`` reads 122 and walks to 120 in 20 M flips, ``resize:…:product:strassen,
    catalog:3x3x3`` reads 128 and walks to 116), so each start gets the same short GF(2) runner
    walk, a flip budget and a seed: the ranking is reproducible. The walk also lifts each new
    lowest rank to a ternary scheme (``lift_lows``, lifts at most a quarter of the flips): a
    rank mod 2 that no lift reaches is worth less (6x6x6: every start reaches 159 or 160 mod 2
    within minutes, and few of those lift). With ``field="zt"`` each start gets the exact ternary
    runners instead: no lifts, and the rank reached is a ternary scheme's (6x6x6, 20 M flips a start:
    ternary 161s, where the GF(2) walks reached 160 and 161 mod 2 and lifted nothing below 174).

    Parameters
    ----------
    fmt
        The format to start a walk on (``Format`` or ``"NxMxP"``).
    directory
        The catalog folder (default: ``$STRASSEN_CATALOG``, else the shipped catalog).
    flips
        The flip budget of each walk (20 M flips take about 5 s on one core).
    seed
        The walks' seed (each start walks with the same one).
    on_start
        Called with each probed start as it is done (progress).
    field
        ``"gf2"`` (GF(2) runners, lifting their lows) or ``"zt"`` (exact ternary runners).
    cuts
        Probe every cut of the larger catalog schemes (:func:`candidate_specs`).

    Returns
    -------
    list of Start
        Sorted by :attr:`Start.order`: the rank reached, the lowest ternary lift, the rank read,
        the spec.

    Raises
    ------
    ValueError
        For a ``field`` not in :data:`PROBE_FIELDS`.
    """
    import numpy as np

    from .catalog import list_entries
    from .errors import DiscoverError
    from .flip.settings import FlipSettings
    from .flip.walk import flip_search
    from .problem import Problem, lower_bound
    from .rings import Ring
    from .sources import load_source, pinned_source

    if field not in PROBE_FIELDS:
        raise ValueError(f"field must be one of {', '.join(PROBE_FIELDS)}, not {field!r}")
    fmt = Format.parse(fmt)
    entries = list_entries(directory)  # read once: each spec's catalog: sources are pinned from it
    have = {tuple(sorted(e.scheme.format.dims)) for e in entries if not e.scheme.mod2}
    floor, _ = lower_bound(fmt, Ring.Z2)  # a target the walk never reaches: it spends its whole budget
    settings = FlipSettings(field=field, max_flips=flips, lift_lows=field == "gf2")
    starts = []
    for spec in candidate_specs(fmt, have, cuts):
        try:
            scheme: Scheme = load_source(pinned_source(spec, directory, entries) or spec, directory)
        except DiscoverError:  # e.g. the catalog holds only a mod-2 scheme of an inner format
            continue
        if field == "zt" and scheme.ring is not Ring.ZT:
            continue  # the exact ternary walk starts from ternary schemes only
        problem = Problem(fmt, floor, Ring.ZT, start=scheme)
        settings.check(scheme)
        out = flip_search(problem, settings, np.random.SeedSequence(seed))
        lifted = out.best.rank if out.best is not None and out.best.rank < scheme.rank else None
        start = Start(spec, scheme.rank, out.rank_mod2, lifted)
        starts.append(start)
        if on_start is not None:
            on_start(start)
    starts.sort(key=lambda s: s.order)
    return starts
