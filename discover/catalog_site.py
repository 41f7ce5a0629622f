"""A static HTML site of the catalog: ``strassen catalog site DIR``.

Plain files, relative links, no script and no outside resource, so the site reads offline
from ``file://``. Layout of DIR::

    index.html              the comparison with the best known ranks, then every scheme
    style.css
    schemes/<stem>.html     one page per scheme: picture, formulas, provenance, downloads
    pictures/<stem>.svg     U, V, W as signed grids (discover.plot; needs the plot extra)
    files/<stem>/...        the scheme in every export format (codegen and interchange writers)

Pages are XHTML-clean HTML5 (every element closed, attributes quoted) so that both an HTML
parser and an XML parser read them. The comparison rows come from
:func:`discover.catalog_compare.compare_catalog`; nothing is computed twice.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Callable, Optional

from .catalog import CatalogEntry, catalog_dir, list_entries
from .catalog_compare import (Comparison, ComparisonRow, compare_catalog, entry_method, entry_wall_time, published_text,
                              relative_path, time_text)
from .errors import DiscoverError
from .jsonio import atomic_write_text
from .provenance import scheme_provenance
from .scheme import Scheme

SITE_TITLE = "strassen-discover catalog"

#: Download targets: (target, file name pattern, what it is). Code targets come from
#: discover.codegen, the others from discover.interchange.
DOWNLOADS = (
    ("json", "{stem}.json", "catalog JSON (this tool's format)"),
    ("python", "mm_{ident}.py", "numpy code: matmul(A, B, levels, cutoff)"),
    ("torch", "mm_{ident}_torch.py", "torch code (batched, autograd)"),
    ("c", "mm_{ident}.c", "C99 code"),
    ("latex", "{stem}.tex", "LaTeX formulas"),
    ("markdown", "{stem}.md", "Markdown formulas"),
    ("alphatensor", "{stem}.npz", "AlphaTensor factorization (.npz)"),
    ("perminov", "{stem}.perminov.json", "Perminov JSON"),
    ("exp", "{stem}.exp", "Kauers–Moosbauer .exp"),
    ("lifted", "{stem}_lifted.txt", "Moosbauer–Poole _lifted.txt"),
    ("benson-ballard", "{stem}.bb.txt", "Benson–Ballard coefficient file"),
)
CODE_TARGETS = ("python", "torch", "c", "latex", "markdown")

_STYLE = """\
body { font-family: sans-serif; margin: 1.5em auto; max-width: 80em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.8em 0; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; white-space: nowrap; }
th { background: #eef; white-space: normal; } td.text, th.text { text-align: left; }
td.wrap { white-space: normal; }
tr:nth-child(even) td { background: #f8f8f8; }
td.gap-zero { background: #dfd !important; } td.gap-pos { background: #fdd !important; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.6em; overflow-x: auto; font-size: 0.9em; }
img.scheme { max-width: 100%; border: 1px solid #ddd; }
.note { color: #555; font-size: 0.9em; }
"""


@dataclass
class SiteReport:
    """What :func:`build_site` wrote (paths relative to the site folder)."""

    root: Path
    pages: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"wrote {len(self.pages)} pages and {len(self.files)} other files to {self.root}"


def scheme_stem(entry: CatalogEntry, root: Path) -> str:
    """The page name of a catalog file: its path below the catalog without ``.json``, ``/`` as ``__``."""
    try:
        rel = Path(entry.path).relative_to(root)
    except ValueError:
        rel = Path(Path(entry.path).name)
    return "__".join(rel.with_suffix("").parts)


def build_site(out_dir: os.PathLike | str, directory: Optional[os.PathLike | str] = None, *,
               pictures: bool = True, progress: Optional[Callable[[str], None]] = None) -> SiteReport:
    """Write the static site of the catalog into ``out_dir``.

    Parameters
    ----------
    out_dir
        The site folder (created; files of the same names are replaced, others are left alone).
    directory
        The catalog folder (see :func:`discover.catalog.catalog_dir`).
    pictures
        Draw each scheme's picture (needs matplotlib, the ``plot`` extra).
    progress
        Called with a short message per scheme page (e.g. to print on stderr).

    Returns
    -------
    SiteReport
        The pages and files written, and the downloads skipped (with the reason).

    Raises
    ------
    DiscoverError
        When ``out_dir`` is a file, the catalog cannot be read, or pictures are asked for
        without matplotlib (:class:`~discover.errors.PlotError`).
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DiscoverError(f"{out} exists and is not a folder")
    if pictures:
        from .plot import require_matplotlib

        require_matplotlib()
    root = catalog_dir(directory)
    entries = list_entries(directory)
    comparison = compare_catalog(directory, entries)
    report = SiteReport(out)
    for sub in ("schemes", "pictures", "files"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    _write(out, "style.css", _STYLE, report.files)
    stems = {id(e): scheme_stem(e, root) for e in entries}
    for entry in entries:
        stem = stems[id(entry)]
        if progress:
            progress(f"page {stem}")
        _scheme_page(out, entry, stem, pictures, report)
    by_file = {relative_path(e.path, root): stems[id(e)] for e in entries}
    _write(out, "index.html", _index_page(comparison, entries, stems, by_file, root), report.pages)
    return report


def _write(out: Path, rel: str, text: str, into: list[str]) -> None:
    atomic_write_text(out / rel, text)
    into.append(rel)


# ---------------------------------------------------------------------------- HTML pieces
def _page(title: str, body: str, css: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en" xmlns="http://www.w3.org/1999/xhtml">\n<head>\n'
        '<meta charset="utf-8" />\n'
        f"<title>{escape(title)}</title>\n"
        f'<link rel="stylesheet" href="{css}" />\n'
        f"</head>\n<body>\n{body}</body>\n</html>\n"
    )


def _cell(value: Any, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f"<td{attr}>{value}</td>"


def _th(text: str, left: bool = False) -> str:
    return f'<th class="text">{escape(text)}</th>' if left else f"<th>{escape(text)}</th>"


def _dash(value: Any) -> str:
    return "–" if value is None else escape(str(value))


def _seconds(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.1f} s"


def _gap_cell(row: ComparisonRow) -> str:
    if row.gap is None:
        return _cell("–")
    return _cell("0" if row.gap == 0 else f"{row.gap:+d}", "gap-zero" if row.gap <= 0 else "gap-pos")


def _index_page(comparison: Comparison, entries: list[CatalogEntry], stems: dict[int, str],
                by_file: dict[str, str], root: Path) -> str:
    head = ["format", "ours", "ring", "additions", "after CSE", "published (CSE)", "best known Q", "best known Z",
            "best known mod 2", "gap", "method", "time (budget)", "classes", "source"]
    lines = ["<h1>strassen-discover: catalog of fast matrix-multiplication schemes</h1>",
             f'<p id="summary">{escape(comparison.summary)}. Every scheme below is found by this tool and '
             "verified exactly; “ours” links to its page.</p>",
             '<h2 id="compare">Our ranks against the best known</h2>',
             '<table id="compare-table">',
             "<thead><tr>" + "".join(_th(h, h in ("format", "ring", "method", "source")) for h in head)
             + "</tr></thead>", "<tbody>"]
    for row in comparison.rows:
        ours = "–"
        if row.our_rank is not None:
            mark = "*" if row.composed else ""
            ours = f'<a href="schemes/{escape(by_file[row.file])}.html">{row.our_rank}{mark}</a>' if row.file in by_file \
                else f"{row.our_rank}{mark}"
        lines.append("<tr>" + "".join([
            _cell(escape(row.format), "text"), _cell(ours), _cell(_dash(row.our_ring), "text"),
            _cell(_dash(row.additions)), _cell(_dash(row.additions_eliminated)),
            _cell(escape(published_text(row))),
            _cell(row.best_known_rank), _cell(row.best_known_integer_rank), _cell(row.best_known_mod2_rank),
            _gap_cell(row), _cell(_dash(row.methods), "text"), _cell(escape(time_text(row))),
            _cell(row.inequivalent if row.our_rank is not None else "–"), _cell(escape(row.source), "text wrap"),
        ]) + "</tr>")
    lines += ["</tbody>", "</table>",
              '<p class="note">gap = our rank − best known integer rank; * composed from smaller catalog schemes; '
              "additions as written and after common-subexpression elimination, and the published count after "
              "elimination (at another rank: marked rN; the sources’ schemes, not lower bounds); method and time = "
              "the recorded steps from the origin to the scheme, their search time and time limits; classes = distinct symmetry invariants among our schemes at our rank.</p>",
              '<h2 id="all">All schemes</h2>', '<table id="schemes-table">',
              '<thead><tr><th class="text">scheme</th><th>rank</th><th class="text">ring</th><th>additions</th>'
              '<th class="text">method</th><th>time</th><th class="text">file</th></tr></thead>', "<tbody>"]
    for entry in entries:
        stem, s = stems[id(entry)], entry.scheme
        lines.append("<tr>" + "".join([
            _cell(f'<a href="schemes/{escape(stem)}.html">{escape(str(s.format))} rank {s.rank}</a>', "text"),
            _cell(s.rank), _cell(escape(s.ring), "text"), _cell(s.additions),
            _cell(_dash(entry_method(entry)), "text"), _cell(_seconds(entry_wall_time(entry))),
            _cell(f'<a href="files/{escape(stem)}/{escape(stem)}.json">{escape(stem)}.json</a>', "text"),
        ]) + "</tr>")
    lines += ["</tbody>", "</table>",
              f'<p class="note">{len(entries)} schemes from {escape(root.name)}/; built by '
              "<code>strassen catalog site</code>. No script, no outside resource: the site reads offline.</p>"]
    return _page(SITE_TITLE, "\n".join(lines) + "\n", "style.css")


def _scheme_page(out: Path, entry: CatalogEntry, stem: str, pictures: bool, report: SiteReport) -> None:
    from .formulas import header_line, scheme_formulas
    from .verify import verify

    scheme = entry.scheme
    check = verify(scheme, proof=False)
    title = f"{scheme.format} rank {scheme.rank} ({scheme.ring})"
    body = ['<p><a href="../index.html">← catalog</a></p>', f"<h1>{escape(title)}</h1>",
            f'<p id="header">{escape(header_line(scheme))}</p>',
            f'<p id="check">Checked when this site was built (exact tensor comparison): '
            f"{escape(check.summary())}</p>"]
    if pictures:
        from .plot import plot_scheme

        plot_scheme(scheme, out / "pictures" / f"{stem}.svg")
        report.files.append(f"pictures/{stem}.svg")
        body += ['<h2 id="picture">Picture</h2>',
                 f'<p><img class="scheme" src="../pictures/{escape(stem)}.svg" '
                 f'alt="U, V, W of the {scheme.rank} products as signed grids" /></p>']
    body += ['<h2 id="downloads">Downloads</h2>', "<ul>"]
    written = _downloads(out, scheme, stem, check.valid, report)
    for target, rel, label in written:
        body.append(f'<li><a href="../{escape(rel)}">{escape(Path(rel).name)}</a> — {escape(label)} '
                    f"(<code>{escape(target)}</code>)</li>")
    body.append("</ul>")
    missing = [target for target, _, _ in DOWNLOADS if target not in {t for t, _, _ in written}]
    if missing:
        why = "valid mod 2 only, not an algorithm over the integers" if check.valid else "not exact"
        body.append(f'<p class="note" id="not-exported">Not offered ({escape(why)}): '
                    f"{escape(', '.join(missing))}.</p>")
    body += ['<h2 id="formulas">Formulas</h2>', "<pre>" + escape("\n".join(scheme_formulas(scheme))) + "</pre>"]
    body += ['<h2 id="provenance">Provenance</h2>', _record_table(scheme_provenance(scheme), "provenance-table"),
             '<h2 id="verification">Verification record</h2>',
             _record_table(scheme.meta.get("verification"), "verification-table")]
    _write(out, f"schemes/{stem}.html", _page(f"{title} — {SITE_TITLE}", "\n".join(body) + "\n", "../style.css"),
           report.pages)


def _downloads(out: Path, scheme: Scheme, stem: str, valid: bool,
               report: SiteReport) -> list[tuple[str, str, str]]:
    """Write the scheme in every export format; return (target, path, label) of each file written."""
    from .interchange import EXPORT_TARGETS

    folder = out / "files" / stem
    folder.mkdir(parents=True, exist_ok=True)
    ident = "".join(ch if ch.isalnum() else "_" for ch in stem)
    written = []
    program = None
    for target, pattern, label in DOWNLOADS:
        rel = f"files/{stem}/{pattern.format(stem=stem, ident=ident)}"
        if target in CODE_TARGETS:
            if not valid or scheme.mod2:
                report.skipped.append(f"{rel}: not exact over the integers, no code")
                continue
            from .codegen import generate
            from .slp import compile_scheme

            program = program or compile_scheme(scheme, eliminate=True)
            atomic_write_text(out / rel, generate(scheme, target, f"strassen catalog site ({stem})", program=program))
        elif target != "json" and not valid:
            report.skipped.append(f"{rel}: not exact, not exported")
            continue
        else:
            EXPORT_TARGETS[target](scheme, out / rel)
        report.files.append(rel)
        written.append((target, rel, label))
    return written


def _record_table(record: Any, table_id: str) -> str:
    """A two-column table of a metadata record (nested values as compact JSON)."""
    if not isinstance(record, dict) or not record:
        return '<p class="note">not recorded</p>'
    rows = []
    for key, value in record.items():
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        rows.append(f'<tr><th class="text">{escape(str(key))}</th><td class="text wrap"><code>{escape(text)}</code></td></tr>')
    return f'<table id="{table_id}">\n' + "\n".join(rows) + "\n</table>"
