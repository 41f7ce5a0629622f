"""Pictures: ``strassen show --plot``, ``Scheme.plot`` and the search-progress curve."""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from discover.cli import main
from discover.errors import PlotError
from discover.jsonio import save_scheme
from discover.known import strassen
from discover.progress import ProgressLog
from discover.scheme import Scheme

pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")

from discover import plot  # noqa: E402  (after the skip: plot needs matplotlib to draw)

REPO = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _labels(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]


def _scaled_strassen() -> Scheme:
    """Strassen with product 1 scaled by 2 / (1/2) and product 2 by -3 / (-1/3): exact over Q."""
    s = strassen()
    U, V, W = s.U.copy(), s.V.copy(), s.W.copy()
    U[0], W[0] = U[0] * 2, W[0] * Fraction(1, 2)
    V[1], W[1] = V[1] * -3, W[1] * Fraction(-1, 3)
    return Scheme.from_arrays(U, V, W, "2x2x2")


def test_show_plot_writes_a_png_with_one_column_per_product(runner, tmp_path):
    out = tmp_path / "s.png"
    result = runner.invoke(main, ["show", str(REPO / "algorithms" / "2x2x2_r7_ZT.json"), "--plot", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith("2x2x2 rank 7")  # the formulas still print
    assert out.read_bytes()[:8] == PNG_MAGIC
    fig = plot.plot_scheme(strassen())
    assert len(fig.axes) == 1
    assert _labels(fig) == [f"m{k}" for k in range(1, 8)]


def test_scheme_plot_svg_is_well_formed_and_carries_the_header(tmp_path):
    out = tmp_path / "s.svg"
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):  # keep text as text to read it back
        strassen().plot(out)
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    text = " ".join(t for t in root.itertext())
    assert "2x2x2 rank 7 (naive 8), ring ZT" in text
    assert all(f"m{k}" in text for k in range(1, 8)) and "m8" not in text
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed away


def test_grid_colours_follow_sign_and_zero_is_white():
    s = strassen()
    img, rational = plot.scheme_image(s)
    assert rational == []
    layout = plot.scheme_layout(s)
    step = layout["column_width"] + layout["gap"]
    px = plot._PX
    for name, arr in zip("UVW", s.factors):
        top = layout["tops"][name]
        for (k, i, j), v in np.ndenumerate(arr):
            r, g, b, a = img[(top + i) * px + px // 2, (k * step + j) * px + px // 2]
            assert a == 1.0
            if v > 0:
                assert r > 0.4 > b
            elif v < 0:
                assert b > 0.4 > r
            else:
                assert (r, g, b) == (1.0, 1.0, 1.0)


def test_magnitude_darkens_and_rationals_are_marked():
    s = _scaled_strassen()
    img, rational = plot.scheme_image(s)
    non_integer = sum(isinstance(v, Fraction) and v.denominator != 1 for a in s.factors for v in a.ravel())
    assert non_integer == 4 and len(rational) == 4
    layout = plot.scheme_layout(s)
    px, top_v, step = plot._PX, layout["tops"]["V"], layout["column_width"] + layout["gap"]
    three = img[(top_v + 0) * px + px // 2, (1 * step + 0) * px + px // 2]   # V[1][0,0] = -3
    one = img[(top_v + 0) * px + px // 2, (0 * step + 0) * px + px // 2]     # V[0][0,0] = 1
    assert s.V[1][0, 0] == -3 and s.V[0][0, 0] == 1
    assert sum(three[:3]) < sum(one[:3])  # larger |coefficient|: darker


def test_wide_schemes_wrap_into_bands_keeping_every_column_once():
    naive = Scheme.naive("5x5x5")
    bands = plot.scheme_bands(naive)
    assert len(bands) > 1 and [k for band in bands for k in band] == list(range(125))
    fig = plot.plot_scheme(naive)
    assert len(fig.axes) == len(bands)
    assert _labels(fig) == [f"m{k}" for k in range(1, 126)]


def test_bad_suffix_and_missing_matplotlib_are_one_line_errors(runner, tmp_path, monkeypatch):
    src = save_scheme(strassen(), tmp_path / "s.json")
    result = runner.invoke(main, ["show", str(src), "--plot", str(tmp_path / "s.jpg")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {tmp_path / 's.jpg'}: a picture is written as .svg, .png, .pdf (got '.jpg')"]
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = runner.invoke(main, ["show", str(src), "--plot", str(tmp_path / "s.png")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: plots need matplotlib, which is not installed: pip install 'strassen-discover[plot]'"]
    assert result.stdout == "" and not (tmp_path / "s.png").exists()
    with pytest.raises(PlotError, match="strassen-discover\\[plot\\]"):
        strassen().plot()


def test_cli_and_scheme_do_not_import_matplotlib():
    code = "import sys, discover.cli, discover.scheme, discover.progress; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ progress curves
RECORDS = [(0.0, 30, 0), (1.5, 28, 0), (3.0, 27, 0), (4.5, 26, 1), (6.0, 26, 2), (9.0, 25, 5)]


def test_progress_curve_from_synthetic_records(tmp_path):
    out = tmp_path / "progress.png"
    fig = plot.plot_progress(list(reversed(RECORDS)), out)  # order of records does not matter
    assert out.read_bytes()[:8] == PNG_MAGIC
    best_ax, hits_ax = fig.axes
    best_line, hits_line = best_ax.get_lines()[0], hits_ax.get_lines()[0]
    assert list(best_line.get_xdata()) == [r[0] for r in RECORDS]
    assert list(best_line.get_ydata()) == [r[1] for r in RECORDS]
    assert list(hits_line.get_ydata()) == [r[2] for r in RECORDS]
    assert best_ax.get_ylabel() == "best rank" and best_ax.get_yscale() == "linear"
    assert fig._suptitle.get_text() == "search progress: best rank 25, 5 exact hits in 9.0 s"


def test_progress_residuals_go_on_a_log_scale(tmp_path):
    fig = plot.plot_progress([(0, 1.0, 0), (1, 1e-3, 0), (2, 1e-9, 1)], tmp_path / "p.svg", title="lm 2x2x2")
    assert fig.axes[0].get_ylabel() == "best residual" and fig.axes[0].get_yscale() == "log"
    assert ET.parse(tmp_path / "p.svg").getroot().tag.endswith("svg")


def test_progress_log_records_elapsed_time_from_its_clock(tmp_path):
    now = [100.0]
    log = ProgressLog(clock=lambda: now[0])
    for seconds, best, hits in RECORDS:
        now[0] = 100.0 + seconds
        log.record(best, hits)
    assert log.records == [(float(t), float(b), h) for t, b, h in RECORDS]
    fig = log.plot(tmp_path / "p.png")
    assert list(fig.axes[0].get_lines()[0].get_ydata()) == [r[1] for r in RECORDS]


@pytest.mark.parametrize("records, message", [
    ([], "no progress records"),
    ([(0.0, 3)], "progress record 0 is"),
    ([(0.0, 3, 0), ("soon", 2, 1)], "progress record 1 is"),
])
def test_bad_progress_records_are_plot_errors(records, message):
    with pytest.raises(PlotError, match=message):
        plot.plot_progress(records)


def test_progress_plot_target_is_checked_before_any_work(tmp_path):
    with pytest.raises(PlotError, match="a picture is written as"):
        plot.check_plot_path(tmp_path / "progress.txt")
    assert plot.check_plot_path(tmp_path / "progress.SVG") == tmp_path / "progress.SVG"


def test_progress_plot_option_checks_early_and_writes_at_the_end(runner, tmp_path):
    import click

    from discover.cli.common import StrassenGroup
    from discover.cli.progress_option import progress_plot_option, write_progress_plot

    ran = []

    @click.group(cls=StrassenGroup)
    def group() -> None:
        pass

    @group.command("fake-search")
    @progress_plot_option
    def fake_search(progress_plot):
        ran.append(progress_plot)
        log = ProgressLog(clock=lambda: 0.0)
        for seconds, best, hits in RECORDS:
            log.record(best, hits, seconds=seconds)
        write_progress_plot(log.records, progress_plot, title="fake search")

    out = tmp_path / "progress.svg"
    result = runner.invoke(group, ["fake-search", "--progress-plot", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.strip() == f"wrote {out} (search progress)"
    assert ET.parse(out).getroot().tag.endswith("svg")
    result = runner.invoke(group, ["fake-search", "--progress-plot", str(tmp_path / "p.txt")])
    assert result.exit_code == 2 and len(ran) == 1  # refused before the command body ran
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'p.txt'}: a picture is written as .svg, .png, .pdf (got '.txt')"]
    assert runner.invoke(group, ["fake-search"]).exit_code == 0 and ran[-1] is None
