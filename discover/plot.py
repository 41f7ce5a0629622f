"""Pictures: a scheme's factor matrices as signed grids, and a search's progress curve.

matplotlib is an optional dependency (the ``plot`` extra) and is imported here only, inside
the functions that draw; :mod:`discover.scheme` and the CLI import this module lazily.
Figures are built on :class:`matplotlib.figure.Figure` directly (no pyplot), so drawing
never touches a global state or opens a window.

* :func:`plot_scheme` — one column per product k; rows U_k (n×m), V_k (m×p), W_k (n×p);
  red positive, blue negative, darker for larger |coefficient|, a ring around every
  non-integer (rational) coefficient, the scheme's header line on top.
* :func:`plot_progress` — best rank (or residual) and exact hits against time, from the
  records a search collects (see :class:`discover.progress.ProgressLog`).
"""
from __future__ import annotations

import math
import os
import textwrap
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence, Union

import numpy as np

from .errors import PlotError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

    from .scheme import Scheme

#: File types a picture can be written as (matplotlib picks the writer from the suffix).
PLOT_SUFFIXES = (".svg", ".png", ".pdf")
INSTALL_HINT = "pip install 'strassen-discover[plot]'"
PathLike = Union[str, os.PathLike]

_PX = 10  # pixels per grid cell in the raster (the borders take one of them)
_BORDER = (0.62, 0.62, 0.62, 1.0)
_WHITE = (1.0, 1.0, 1.0, 1.0)
_BAND_CELLS = 72  # widest band, in cells, before a picture wraps into more bands


def require_matplotlib() -> None:
    """Raise :class:`PlotError` (one line naming the extra) when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as e:
        raise PlotError(f"plots need matplotlib, which is not installed: {INSTALL_HINT}") from e


def check_plot_path(path: PathLike) -> Path:
    """Check a picture's target before any work: a known suffix, and matplotlib present.

    Raises
    ------
    PlotError
        For another suffix, or when matplotlib is missing.
    """
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise PlotError(f"{path}: a picture is written as {', '.join(PLOT_SUFFIXES)} (got {path.suffix or 'no suffix'!r})")
    require_matplotlib()
    return path


def _save(fig: "Figure", path: PathLike) -> None:
    """Write atomically (temporary file, then rename); no date in the file, so output is reproducible."""
    path = check_plot_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    fmt = path.suffix.lower().lstrip(".")
    metadata = {"Date": None} if fmt in ("svg", "pdf") else None
    try:
        fig.savefig(tmp, format=fmt, dpi=100, metadata=metadata, bbox_inches="tight", pad_inches=0.1)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


# ---------------------------------------------------------------------------- scheme pictures
def _cell_colour(value: Fraction, vmax: float, cmap) -> tuple[float, float, float, float]:
    """Red for positive, blue for negative; the least |value| still clearly coloured."""
    if value == 0:
        return _WHITE
    strength = 1.0 if vmax <= 1 else 0.4 + 0.6 * min(1.0, abs(float(value)) / vmax)
    return tuple(cmap(0.5 + 0.47 * strength * (1 if value > 0 else -1)))


def scheme_layout(scheme: "Scheme", products: int | None = None) -> dict[str, Any]:
    """Where each grid goes, in cell units, for a band of ``products`` columns (default: all).

    Returns the column width, the gap between grids, the top row of U, V and W, and the
    band's height and width.
    """
    n, m, p = scheme.format.dims
    count = scheme.rank if products is None else products
    gap = 1
    tops = {"U": 0, "V": n + gap, "W": n + gap + m + gap}
    return {"column_width": max(m, p), "gap": gap, "tops": tops, "height": n + gap + m + gap + n,
            "width": max(1, count * (max(m, p) + gap) - gap)}


def scheme_bands(scheme: "Scheme", max_width: int = _BAND_CELLS) -> list[range]:
    """Products per band: wide schemes wrap into several bands, all as long as the first except the last."""
    step = scheme_layout(scheme)["column_width"] + 1
    per_band = max(1, (max_width + 1) // step)
    bands = max(1, math.ceil(scheme.rank / per_band))
    size = math.ceil(scheme.rank / bands) if scheme.rank else 0
    return [range(b * size, min(scheme.rank, (b + 1) * size)) for b in range(bands)]


def scheme_image(scheme: "Scheme", products: Optional[range] = None,
                 cmap: Any = None) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The RGBA raster of the grids of ``products`` (default all) and the centres (x, y in cells)
    of their non-integer coefficients."""
    if cmap is None:
        from matplotlib import colormaps

        cmap = colormaps["RdBu_r"]
    products = range(scheme.rank) if products is None else products
    layout = scheme_layout(scheme, len(products))
    step = layout["column_width"] + layout["gap"]
    img = np.zeros((layout["height"] * _PX + 1, layout["width"] * _PX + 1, 4))
    vmax = float(scheme.max_abs_coefficient or 1)
    rational: list[tuple[float, float]] = []
    for name, arr in zip("UVW", scheme.factors):
        top = layout["tops"][name]
        rows, cols = arr.shape[1:]
        for column, k in enumerate(products):
            left = column * step
            y0, x0 = top * _PX, left * _PX
            img[y0:y0 + rows * _PX + 1, x0:x0 + cols * _PX + 1] = _BORDER
            for (i, j), v in np.ndenumerate(arr[k]):
                img[y0 + i * _PX + 1:y0 + (i + 1) * _PX, x0 + j * _PX + 1:x0 + (j + 1) * _PX] = _cell_colour(v, vmax, cmap)
                if isinstance(v, Fraction) and v.denominator != 1:
                    rational.append((left + j + 0.5, top + i + 0.5))
    return img, rational


def _has_rational(scheme: "Scheme") -> bool:
    return any(isinstance(v, Fraction) and v.denominator != 1 for arr in scheme.factors for v in arr.ravel())


def plot_scheme(scheme: "Scheme", path: Optional[PathLike] = None) -> "Figure":
    """Draw U, V and W of every product as small signed grids, one column per product.

    Wide schemes wrap into bands (rows of columns) so the picture stays readable.

    Parameters
    ----------
    scheme : Scheme
        Any scheme (mod-2 ones too: their coefficients are 0/1).
    path : path-like, optional
        Write the picture here (``.svg``, ``.png`` or ``.pdf``), atomically.

    Returns
    -------
    matplotlib.figure.Figure
        The figure: one axes per band, whose x tick labels are ``m1`` … ``mr``, one per product.

    Raises
    ------
    PlotError
        When matplotlib is missing or the suffix is not a picture type.
    """
    if path is not None:
        check_plot_path(path)
    require_matplotlib()
    from matplotlib.figure import Figure

    from .formulas import header_line

    bands = scheme_bands(scheme)
    layout = scheme_layout(scheme, len(bands[0]) if bands else 0)
    width, height = layout["width"], layout["height"]
    cell = min(0.3, max(0.1, 11.0 / width))  # inches per cell: small schemes big, large ones readable
    band_h = height * cell + 0.45
    header = textwrap.fill(header_line(scheme), 110)
    top_h = 0.25 + 0.2 * header.count("\n") + 0.3
    legend = (f"one column per product m_k; red +, blue −, darker = larger |coefficient| "
              f"(largest {scheme.max_abs_coefficient})"
              + ("; ○ non-integer coefficient" if _has_rational(scheme) else "")
              + "; W_k[i, l] = weight of m_k in c_il (not transposed)")
    legend = textwrap.fill(legend, max(60, int((width * cell + 1.2) * 14)))
    bottom_h = 0.2 + 0.14 * (legend.count("\n") + 1)
    fig_h = top_h + len(bands) * band_h + bottom_h
    fig = Figure(figsize=(max(6.0, width * cell + 1.2), fig_h))
    n, m, _ = scheme.format.dims
    tops = layout["tops"]
    step = layout["column_width"] + layout["gap"]
    small = len(bands[0]) > 30 if bands else False
    for b, products in enumerate(bands):
        bottom = (fig_h - top_h - (b + 1) * band_h) / fig_h
        ax = fig.add_axes((0.9 / fig.get_figwidth(), bottom, 1 - 1.1 / fig.get_figwidth(), (band_h - 0.4) / fig_h))
        img, rational = scheme_image(scheme, products)
        band = scheme_layout(scheme, len(products))
        ax.imshow(img, extent=(0, band["width"] + 1 / _PX, height + 1 / _PX, 0), interpolation="nearest", aspect="equal")
        if rational:
            xs, ys = zip(*rational)
            ax.scatter(xs, ys, s=max(6.0, (cell * 72 * 0.55) ** 2), facecolors="none", edgecolors="black", linewidths=0.8)
        ax.set_xticks([c * step + layout["column_width"] / 2 for c in range(len(products))],
                      [f"m{k + 1}" for k in products], fontsize=6 if small else 8)
        ax.xaxis.tick_top()
        ax.set_yticks([tops["U"] + n / 2, tops["V"] + m / 2, tops["W"] + n / 2], ["U (a)", "V (b)", "W (c)"], fontsize=8)
        ax.tick_params(length=0, pad=2)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlim(-0.2, width + 0.2)
        ax.set_ylim(height + 0.2, -0.2)
    fig.text(0.5, 1 - 0.15 / fig_h, header, ha="center", va="top", fontsize=10)
    fig.text(0.5, 0.1 / fig_h, legend, ha="center", va="bottom", fontsize=7, color="0.3")
    if path is not None:
        _save(fig, path)
    return fig


# ---------------------------------------------------------------------------- progress curves
ProgressRecord = Sequence[float]  # (seconds, best rank or residual, exact hits so far)


def _check_records(records: Iterable[ProgressRecord]) -> list[tuple[float, float, int]]:
    clean = []
    for index, record in enumerate(records):
        try:
            seconds, best, hits = record
            clean.append((float(seconds), float(best), int(hits)))
        except (TypeError, ValueError) as e:
            raise PlotError(f"progress record {index} is {record!r}: expected (seconds, best, hits)") from e
    if not clean:
        raise PlotError("no progress records to plot")
    return sorted(clean, key=lambda r: r[0])


def plot_progress(records: Iterable[ProgressRecord], path: Optional[PathLike] = None, *,
                  title: Optional[str] = None, metric: Optional[str] = None) -> "Figure":
    """Draw a search's progress: the best value so far and the exact hits against time.

    Parameters
    ----------
    records : iterable of (seconds, best, hits)
        Elapsed seconds since the search started, the best rank (flip walks) or the best
        residual (numerical methods) so far, and the number of verified exact hits so far.
    path : path-like, optional
        Write the picture here (``.svg``, ``.png`` or ``.pdf``), atomically.
    title : str, optional
        A title line (e.g. the command that ran).
    metric : {"rank", "residual"}, optional
        What ``best`` is. By default ``rank`` when every value is an integer, else
        ``residual`` (drawn on a log scale when all values are positive).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the best value (left) and the hits (right, sharing the time axis).

    Raises
    ------
    PlotError
        When there are no records, a record is not (seconds, best, hits), or matplotlib is missing.
    """
    if path is not None:
        check_plot_path(path)
    require_matplotlib()
    from matplotlib.figure import Figure

    data = _check_records(records)
    times = [r[0] for r in data]
    best = [r[1] for r in data]
    hits = [r[2] for r in data]
    if metric is None:
        metric = "rank" if all(b == int(b) for b in best) else "residual"
    if metric not in ("rank", "residual"):
        raise PlotError(f"metric must be 'rank' or 'residual', not {metric!r}")
    fig = Figure(figsize=(7.0, 3.6))
    ax = fig.add_subplot(1, 1, 1)
    ax.step(times, best, where="post", color="tab:blue", linewidth=1.6, label=f"best {metric}")
    ax.set_xlabel("seconds")
    ax.set_ylabel(f"best {metric}", color="tab:blue")
    if metric == "residual" and min(best) > 0:
        ax.set_yscale("log")
    if metric == "rank":
        ax.yaxis.get_major_locator().set_params(integer=True)
    hits_ax = ax.twinx()
    hits_ax.step(times, hits, where="post", color="tab:red", linewidth=1.2, linestyle="--", label="exact hits")
    hits_ax.set_ylabel("exact hits", color="tab:red")
    hits_ax.yaxis.get_major_locator().set_params(integer=True)
    hits_ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    last = data[-1]
    best_text = f"{int(min(best))}" if metric == "rank" else f"{min(best):.3g}"
    fig.suptitle(title or f"search progress: best {metric} {best_text}, {last[2]} exact hits in {last[0]:.1f} s",
                 fontsize=10)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig
