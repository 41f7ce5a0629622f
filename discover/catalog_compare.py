"""Our catalog against the best known ranks: one row per format of :data:`discover.best_known.TABLE`
(and of :data:`discover.best_known.SIX` with ``up_to=6``).

The engine behind ``strassen catalog compare`` and the catalog site (``strassen catalog site``):
both print or render the rows computed here and compute nothing themselves. The rows also carry
the additions after elimination beside the fewest published (:mod:`discover.published_additions`)
and, from the recorded steps (:mod:`discover.catalog_steps`), the methods, total search time,
time budget and workers that produced each entry. :func:`text_table` and :func:`markdown_table`
render them for the terminal and for the README.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from .catalog import CatalogEntry, catalog_dir, eliminated_additions, list_entries, quality_key
from .formats import Format
from .provenance import scheme_provenance


@dataclass(frozen=True)
class ComparisonRow:
    """One format: our best real (non-mod-2) scheme against the best known ranks.

    ``our_*`` fields are None when the catalog has no scheme for the format. ``gap`` is our
    rank minus the best known *integer* rank (the fair target for a search over Z).
    ``file`` is the best scheme's path relative to the catalog folder. ``method`` and
    ``wall_time`` describe the step that wrote that file; ``methods``, ``steps``,
    ``search_time`` (seconds, all timed steps together), ``budget`` (their time limits
    together), ``workers`` and ``cores`` the whole recorded chain from the origin
    (``steps_complete`` False when it could not be followed to its origin). ``additions_eliminated``
    is the fewest additions after elimination among our schemes of our rank (the best entry has
    them: see :func:`discover.catalog.quality_key`); ``published_additions`` is the fewest
    published, at ``published_additions_rank``.
    """

    format: str
    our_rank: Optional[int]
    our_ring: Optional[str]
    composed: bool
    our_mod2_rank: Optional[int]
    schemes: int
    inequivalent: int
    best_known_rank: int
    best_known_integer_rank: int
    best_known_mod2_rank: Optional[int]
    source: str
    gap: Optional[int]
    published_verified: Optional[int]
    additions: Optional[int]
    additions_eliminated: Optional[int]
    method: Optional[str]
    wall_time: Optional[float]
    file: Optional[str]
    published_additions: Optional[int] = None
    published_additions_rank: Optional[int] = None
    published_additions_source: Optional[str] = None
    methods: Optional[str] = None
    steps: int = 0
    steps_complete: bool = False
    search_time: Optional[float] = None
    budget: Optional[float] = None
    workers: Optional[int] = None
    cores: Optional[int] = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _largest(fmt: str) -> int:
    parsed = Format.parse(fmt)
    return max(parsed.n, parsed.m, parsed.p)


@dataclass(frozen=True)
class Comparison:
    """All rows plus the summary counts."""

    catalog: Path
    rows: list[ComparisonRow]

    @property
    def up_to_five(self) -> list[ComparisonRow]:
        """The rows of formats n, m, p ≤ 5 (the headline count is over these)."""
        return [r for r in self.rows if _largest(r.format) <= 5]

    @property
    def beyond_five(self) -> list[ComparisonRow]:
        """The rows of formats with a dimension 6 (present with ``up_to=6``)."""
        return [r for r in self.rows if _largest(r.format) > 5]

    @property
    def at_best(self) -> int:
        """Formats up to 5 whose best scheme reaches the best known integer rank."""
        return sum(1 for r in self.up_to_five if r.gap is not None and r.gap <= 0)

    @property
    def within2(self) -> int:
        """Formats up to 5 within two products of the best known integer rank."""
        return sum(1 for r in self.up_to_five if r.gap is not None and r.gap <= 2)

    @property
    def summary(self) -> str:
        n = len(self.up_to_five)
        text = f"{self.at_best}/{n} formats at the best known integer rank ({self.within2}/{n} within 2)"
        six = self.beyond_five
        if six:
            at = sum(1 for r in six if r.gap is not None and r.gap <= 0)
            near = sum(1 for r in six if r.gap is not None and r.gap <= 2)
            text += f"; with a dimension 6: {at}/{len(six)} ({near}/{len(six)} within 2)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": str(self.catalog),
            "formats": [r.to_json() for r in self.rows],
            "at_best_known_integer_rank": self.at_best,
            "within_2": self.within2,
            "formats_up_to_5": len(self.up_to_five),
            "formats_with_a_6": len(self.beyond_five),
            "summary": self.summary,
        }


def entry_method(entry: CatalogEntry) -> Optional[str]:
    """How a catalog scheme was made: the search method, ``compose``, or the published source."""
    prov = scheme_provenance(entry.scheme)
    if not prov:
        return None
    if prov.get("source"):
        return "published"
    method = prov.get("method")
    return str(method) if method else ("compose" if prov.get("composed") else None)


def entry_wall_time(entry: CatalogEntry) -> Optional[float]:
    """Seconds the recorded search took (None when not recorded, e.g. for compositions)."""
    from .catalog_steps import record_seconds

    return record_seconds(scheme_provenance(entry.scheme).get("wall_time"))


def compare_catalog(directory: Optional[os.PathLike | str] = None,
                    entries: Optional[Sequence[CatalogEntry]] = None, up_to: int = 5) -> Comparison:
    """Compare the catalog with the best known ranks, one row per format of the table.

    Parameters
    ----------
    directory
        The catalog folder (see :func:`discover.catalog.catalog_dir`).
    entries
        Already loaded entries of that folder (loaded when omitted).
    up_to
        5: the 20 formats n ≤ m ≤ p ≤ 5; 6: also the 15 formats whose largest dimension is 6.

    Returns
    -------
    Comparison
        Rows in the order of :func:`discover.best_known.table` and the summary counts (the headline
        count is over the formats up to 5; those with a 6 are counted apart).
    """
    from .best_known import table
    from .catalog_steps import recorded_chain
    from .invariants import count_inequivalent
    from .published_additions import published_additions

    root = catalog_dir(directory)
    entries = list(entries) if entries is not None else list_entries(directory)
    rows = []
    for record in table(up_to):
        fmt = record.format
        ours = [e for e in entries if e.scheme.format.canonical() == fmt and not e.published]
        real = [e for e in ours if not e.scheme.mod2]
        mod2 = [e.scheme for e in ours if e.scheme.mod2]
        published = [e.scheme for e in entries if e.scheme.format.canonical() == fmt and e.published]
        best_entry = min(real, key=lambda e: quality_key(e.scheme)) if real else None
        best = best_entry.scheme if best_entry else None
        chain = recorded_chain(best_entry, entries, root) if best_entry else None
        pub = published_additions(fmt)
        rows.append(ComparisonRow(
            format=str(fmt),
            our_rank=best.rank if best else None,
            our_ring=best.ring if best else None,
            composed=bool(best_entry and best_entry.composed),
            our_mod2_rank=min((s.rank for s in mod2), default=None),
            schemes=len(real),
            inequivalent=count_inequivalent([e.scheme for e in real if e.scheme.rank == best.rank]) if best else 0,
            best_known_rank=record.rank,
            best_known_integer_rank=record.integer_rank,
            best_known_mod2_rank=record.mod2_rank,
            source=record.source,
            gap=(best.rank - record.integer_rank) if best else None,
            published_verified=min((s.rank for s in published), default=None),
            additions=best.additions if best else None,
            additions_eliminated=eliminated_additions(best) if best else None,
            method=entry_method(best_entry) if best_entry else None,
            wall_time=entry_wall_time(best_entry) if best_entry else None,
            file=relative_path(best_entry.path, root) if best_entry else None,
            published_additions=pub.additions if pub else None,
            published_additions_rank=pub.rank if pub else None,
            published_additions_source=pub.source if pub else None,
            methods=chain.methods if chain else None,
            steps=len(chain.steps) if chain else 0,
            steps_complete=bool(chain and chain.complete),
            search_time=chain.wall_time if chain else None,
            budget=chain.budget if chain else None,
            workers=chain.workers if chain else None,
            cores=chain.cores if chain else None,
        ))
    return Comparison(root, rows)


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to the catalog folder (the file name alone when it lies elsewhere)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return Path(path).name


# ---------------------------------------------------------------------- rendering
DASH = "–"


def format_seconds(seconds: Optional[float]) -> str:
    """``0.9 s``, ``42 s``, ``3 min 5 s``, ``1 min``, ``2 h 7 min``; a dash when unknown."""
    if seconds is None:
        return DASH
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min" + (f" {whole % 60} s" if whole % 60 else "")
    return f"{whole // 3600} h" + (f" {whole % 3600 // 60} min" if whole % 3600 // 60 else "")


def _ours(row: ComparisonRow, star: str = "*") -> str:
    return DASH if row.our_rank is None else f"{row.our_rank}{star if row.composed else ''}"


def _gap(row: ComparisonRow) -> str:
    return DASH if row.gap is None else (f"{row.gap:+d}" if row.gap else "0")


def published_text(row: ComparisonRow) -> str:
    """The published count, with its rank when that is not ours (then the two do not compare)."""
    if row.published_additions is None:
        return DASH
    if row.published_additions_rank == row.our_rank:
        return str(row.published_additions)
    return f"{row.published_additions} (r{row.published_additions_rank})"


def _workers(row: ComparisonRow) -> str:
    if row.workers is None:
        return DASH if row.cores is None else f"{DASH} of {row.cores}"
    return str(row.workers) if row.cores is None else f"{row.workers} of {row.cores}"


def time_text(row: ComparisonRow) -> str:
    """``3.5 s (45 s)``: the chain's search time and, in brackets, its time limits."""
    if row.search_time is None:
        return DASH
    if row.budget is None:
        return format_seconds(row.search_time)
    return f"{format_seconds(row.search_time)} ({format_seconds(row.budget)})"


def _dash(value: Any) -> str:
    return DASH if value is None else str(value)


TEXT_NOTE = ("(* composed from smaller catalog schemes; classes = distinct symmetry invariants among our schemes at "
             "our rank; adds = additions after elimination, ours and the fewest published (at another rank in "
             "brackets); time = search time of the recorded steps (their time limits))")


def text_table(comparison: Comparison) -> str:
    """The comparison as the plain-text table ``strassen catalog compare`` prints."""
    lines = [f"{'format':<7} {'ours':>5} {'ring':<4} {'known Q':>7} {'known Z':>7} {'mod 2':>5} {'gap':>4} "
             f"{'classes':>7} {'adds':>5} {'pub.':>10}  {'time':<18} {'method':<22} source"]
    for r in comparison.rows:
        lines.append(
            f"{r.format:<7} {_ours(r):>5} {r.our_ring or DASH:<4} {r.best_known_rank:>7} "
            f"{r.best_known_integer_rank:>7} {_dash(r.best_known_mod2_rank):>5} {_gap(r):>4} {r.inequivalent:>7} "
            f"{_dash(r.additions_eliminated):>5} {published_text(r):>10}  {time_text(r):<18} {r.methods or DASH:<22} {r.source}"
        )
    lines += [TEXT_NOTE, comparison.summary]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    """Table cell text with Markdown's active characters escaped."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


MARKDOWN_HEAD = ("format", "ours", "ring", "best known Q", "best known Z", "mod 2", "gap", "additions",
                 "published additions", "method", "search time (budget)", "workers", "rank source")


def markdown_table(comparison: Comparison) -> str:
    """The comparison as a GitHub Markdown table, with the notes and the summary below it."""
    right = {"ours", "best known Q", "best known Z", "mod 2", "gap", "additions", "published additions", "workers",
             "search time (budget)"}
    lines = ["| " + " | ".join(MARKDOWN_HEAD) + " |",
             "|" + "|".join("---:" if h in right else "---" for h in MARKDOWN_HEAD) + "|"]
    for r in comparison.rows:
        cells = [r.format, _ours(r), r.our_ring or DASH, str(r.best_known_rank), str(r.best_known_integer_rank),
                 _dash(r.best_known_mod2_rank), _gap(r), _dash(r.additions_eliminated), published_text(r),
                 r.methods or DASH, time_text(r), _workers(r), r.source]
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    sources = sorted({r.published_additions_source for r in comparison.rows if r.published_additions_source})
    lines += ["",
              "\\* composed from smaller catalog schemes. gap = ours − best known integer rank. additions = after "
              "common-subexpression elimination (ours: the fewest among our schemes of our rank); published "
              "additions at another rank are marked (rN); they are the counts of the schemes the sources publish, "
              "not lower bounds. "
              "search time = all timed steps of the recorded chain (compositions and rewrites are not timed), "
              "their time limits in brackets; workers = worker processes of the cores the machine had. "
              "– = not recorded.",
              "",
              "Published additions: " + ("; ".join(_md(s) for s in sources) if sources else DASH) + ".",
              "",
              _md(comparison.summary) + "."]
    return "\n".join(lines) + "\n"
