"""``strassen catalog site``: well-formed pages, links that resolve, downloads that read back,
and a real headless Chromium that renders the table and a scheme page."""
from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from discover.catalog_compare import compare_catalog, published_text, time_text
from discover.cli import main
from discover.interchange import import_file
from discover.jsonio import load_scheme

REPO = Path(__file__).resolve().parents[1]
CATALOG_FILES = ("2x2x2_r7_ZT.json", "2x2x3_r11_ZT.json")
VOID = {"meta", "link", "img", "br", "hr", "input"}
XHTML = "{http://www.w3.org/1999/xhtml}"


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("catalog")
    for name in CATALOG_FILES:
        shutil.copy(REPO / "algorithms" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def site(small_catalog, tmp_path_factory) -> Path:
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    from click.testing import CliRunner

    out = tmp_path_factory.mktemp("site") / "out"
    result = CliRunner().invoke(main, ["catalog", "site", str(out), "--dir", str(small_catalog)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out / "index.html")
    assert result.stderr.strip().splitlines()[-1] == f"wrote 3 pages and {1 + 2 * (1 + 11)} other files to {out}"
    return out


class _Checker(HTMLParser):
    """Every non-void element closed in order; collects href/src and the title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.links: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("href", "src")]
        if tag not in VOID:
            self.stack.append(tag)
        self._in_title = tag == "title"

    def handle_startendtag(self, tag, attrs):
        self.links += [v for k, v in attrs if k in ("href", "src")]

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def _check_page(path: Path) -> _Checker:
    checker = _Checker()
    checker.feed(path.read_text(encoding="utf-8"))
    checker.close()
    assert checker.stack == [], f"{path}: unclosed {checker.stack}"
    ET.parse(path)  # also well-formed XML
    return checker


def test_every_page_is_well_formed_and_every_link_resolves_inside_the_site(site):
    pages = sorted(site.rglob("*.html"))
    assert [p.relative_to(site).as_posix() for p in pages] == [
        "index.html", "schemes/2x2x2_r7_ZT.html", "schemes/2x2x3_r11_ZT.html"]
    targets = set()
    for page in pages:
        checker = _check_page(page)
        assert checker.title.endswith("strassen-discover catalog")
        assert checker.links
        for link in checker.links:
            assert not re.match(r"^[a-z]+:", link) and not link.startswith("/"), f"{page}: non-relative link {link}"
            target = (page.parent / link).resolve()
            assert target.is_file(), f"{page}: {link} does not resolve"
            assert site.resolve() in target.parents
            targets.add(target)
    every_file = {p.resolve() for p in site.rglob("*") if p.is_file() and p.suffix != ".html"} | {
        p.resolve() for p in pages[1:]}
    assert every_file <= targets  # nothing written that no page links to


def test_index_table_is_the_compare_engine_output(site, small_catalog):
    root = ET.parse(site / "index.html").getroot()
    assert root.find(f"{XHTML}head/{XHTML}title").text == "strassen-discover catalog"
    table = root.find(f".//{XHTML}table[@id='compare-table']")
    heads = ["".join(th.itertext()) for th in table.iter(f"{XHTML}th")]
    assert heads == ["format", "ours", "ring", "additions", "after CSE", "published (CSE)", "best known Q",
                     "best known Z", "best known mod 2", "gap", "method", "time (budget)", "classes", "source"]
    rows = [["".join(td.itertext()) for td in tr.findall(f"{XHTML}td")] for tr in table.find(f"{XHTML}tbody")]
    expected = compare_catalog(small_catalog).rows
    assert len(rows) == len(expected) == 20
    for cells, row in zip(rows, expected):
        assert cells[0] == row.format and cells[6:9] == [str(row.best_known_rank), str(row.best_known_integer_rank),
                                                         str(row.best_known_mod2_rank)]
        assert cells[5] == published_text(row) and cells[13] == row.source
        if row.our_rank is None:
            assert cells[1] == cells[2] == cells[9] == "–"
        else:
            assert cells[1:5] == [str(row.our_rank), row.our_ring, str(row.additions), str(row.additions_eliminated)]
            assert cells[9] == "0" and cells[10] == row.methods and cells[11] == time_text(row)
    assert rows[0][:3] == ["2x2x2", "7", "ZT"] and rows[1][:3] == ["2x2x3", "11", "ZT"]
    assert [r[1] for r in rows].count("–") == 18
    link = table.find(f".//{XHTML}a")
    assert link.get("href") == "schemes/2x2x2_r7_ZT.html"


def test_scheme_page_has_picture_formulas_provenance_and_every_download(site):
    page = site / "schemes" / "2x2x2_r7_ZT.html"
    root = ET.parse(page).getroot()
    text = "".join(root.itertext())
    assert "2x2x2 rank 7 (naive 8), ring ZT" in text
    pre = "".join(root.find(f".//{XHTML}pre").itertext()).splitlines()
    source = load_scheme(REPO / "algorithms" / "2x2x2_r7_ZT.json")
    from discover.formulas import scheme_formulas

    assert pre == scheme_formulas(source)
    assert root.find(f".//{XHTML}img").get("src") == "../pictures/2x2x2_r7_ZT.svg"
    assert ET.parse(site / "pictures" / "2x2x2_r7_ZT.svg").getroot().tag.endswith("svg")
    prov = {tr.find(f"{XHTML}th").text: "".join(tr.find(f"{XHTML}td").itertext())
            for tr in root.find(f".//{XHTML}table[@id='provenance-table']")}
    assert prov["command"] == source.meta["provenance"]["command"] and prov["method"] == "lm"
    downloads = [a.get("href") for a in root.find(f".//{XHTML}ul").iter(f"{XHTML}a")]
    assert len(downloads) == 11


def test_downloads_read_back_as_the_same_scheme(site):
    source = load_scheme(REPO / "algorithms" / "2x2x3_r11_ZT.json")
    folder = site / "files" / "2x2x3_r11_ZT"
    for name, kind in [("2x2x3_r11_ZT.json", "json"), ("2x2x3_r11_ZT.perminov.json", "perminov"),
                       ("2x2x3_r11_ZT.npz", "alphatensor"), ("2x2x3_r11_ZT.exp", "exp"),
                       ("2x2x3_r11_ZT_lifted.txt", "lifted"), ("2x2x3_r11_ZT.bb.txt", "benson-ballard")]:
        (item,) = import_file(folder / name)
        assert item.kind == kind and item.scheme.same_coefficients(source), name
    spec = importlib.util.spec_from_file_location("mm_site_test", folder / "mm_2x2x3_r11_ZT.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rng = np.random.default_rng(0)
    A, B = rng.integers(-9, 9, (6, 4)), rng.integers(-9, 9, (4, 9))
    assert np.array_equal(module.matmul(A, B), A @ B)


def test_no_pictures_needs_no_matplotlib_and_missing_matplotlib_is_one_line(runner, small_catalog, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = runner.invoke(main, ["catalog", "site", str(tmp_path / "a"), "--dir", str(small_catalog)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: plots need matplotlib, which is not installed: pip install 'strassen-discover[plot]'"]
    result = runner.invoke(main, ["catalog", "site", str(tmp_path / "b"), "--dir", str(small_catalog), "--no-pictures", "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and not list((tmp_path / "b" / "pictures").iterdir())
    assert "<img" not in (tmp_path / "b" / "schemes" / "2x2x2_r7_ZT.html").read_text()


def test_site_into_a_file_is_refused(runner, small_catalog, tmp_path):
    target = tmp_path / "taken"
    target.write_text("x")
    result = runner.invoke(main, ["catalog", "site", str(target), "--dir", str(small_catalog), "--no-pictures"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"error: {target} exists and is not a folder"]


# ------------------------------------------------------------------ a real browser
CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser"))
                 if p and Path(p).is_file()), None)
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)


def _pixels(png: Path) -> np.ndarray:
    from PIL import Image  # Pillow comes with matplotlib (the plot extra)

    with Image.open(png) as image:
        return np.asarray(image.convert("RGB")).astype(int)


@needs_browser
def test_chromium_renders_the_table_and_a_scheme_page(site, tmp_path):
    pytest.importorskip("PIL", reason="Pillow (installed with matplotlib) reads the screenshots")
    index, page = (site / "index.html").as_uri(), (site / "schemes" / "2x2x2_r7_ZT.html").as_uri()
    dom = _chromium(tmp_path, "--dump-dom", index)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "<title>strassen-discover catalog</title>" in dom.stdout
    table = re.search(r'<table id="compare-table">.*?</table>', dom.stdout, re.S).group(0)
    assert table.count("<tr>") == 21 and '<a href="schemes/2x2x2_r7_ZT.html">7</a>' in table
    dom = _chromium(tmp_path, "--dump-dom", page)
    assert "<title>2x2x2 rank 7 (ZT) — strassen-discover catalog</title>" in dom.stdout

    shots = {}
    for name, url in (("index", index), ("page", page)):
        png = tmp_path / f"{name}.png"
        shot = _chromium(tmp_path, "--window-size=1200,900", "--hide-scrollbars", f"--screenshot={png}", url)
        assert shot.returncode == 0 and png.is_file(), shot.stderr[-2000:]
        shots[name] = _pixels(png)
    for name, pixels in shots.items():
        assert pixels.shape == (900, 1200, 3)
        non_white = (pixels < 245).any(axis=2).mean()
        assert 0.01 < non_white < 0.9, f"{name}: {non_white:.3f} of the screenshot is not white"
    r, g, b = np.moveaxis(shots["index"], 2, 0)
    assert ((abs(r - 0xDD) <= 2) & (g >= 0xFC) & (abs(b - 0xDD) <= 2)).sum() > 200  # the green gap-0 cells
    r, g, b = np.moveaxis(shots["page"], 2, 0)
    assert ((r > 90) & (g < 40) & (b < 60)).sum() > 200  # red grid cells: the SVG picture loaded from file://
    assert ((b > 80) & (r < 40) & (g < 90)).sum() > 200  # and blue ones


def test_mod2_rational_and_nested_schemes_get_pages_with_what_applies(runner, tmp_path):
    from fractions import Fraction

    from discover.jsonio import save_scheme
    from discover.known import strassen
    from discover.scheme import Scheme

    catalog = tmp_path / "catalog"
    s = strassen()
    save_scheme(s.as_mod2(), catalog / "sub" / "2x2x2_r7_Z2.json")
    U, W = s.U.copy(), s.W.copy()
    U[0], W[0] = U[0] * 2, W[0] * Fraction(1, 2)
    save_scheme(Scheme.from_arrays(U, s.V, W, "2x2x2", meta={"name": "halves <&> \"test\""}), catalog / "2x2x2_r7_Q.json")
    out = tmp_path / "site"
    result = runner.invoke(main, ["catalog", "site", str(out), "--dir", str(catalog), "--no-pictures"])
    assert result.exit_code == 0, result.output
    assert sum(line.startswith("skipped files/sub__2x2x2_r7_Z2/") for line in result.stderr.splitlines()) == 5
    for page in out.rglob("*.html"):
        for link in _check_page(page).links:
            assert (page.parent / link).resolve().is_file(), link
    z2 = ET.parse(out / "schemes" / "sub__2x2x2_r7_Z2.html").getroot()
    assert len(list(z2.find(f".//{XHTML}ul").iter(f"{XHTML}a"))) == 6
    assert "".join(z2.find(f".//{XHTML}p[@id='not-exported']").itertext()) == (
        "Not offered (valid mod 2 only, not an algorithm over the integers): python, torch, c, latex, markdown.")
    q = ET.parse(out / "schemes" / "2x2x2_r7_Q.html").getroot()
    assert "halves <&> \"test\": 2x2x2 rank 7" in "".join(q.itertext())
    assert q.find(f".//{XHTML}p[@id='not-exported']") is None
    (item,) = import_file(out / "files" / "2x2x2_r7_Q" / "2x2x2_r7_Q.perminov.json")
    assert item.scheme.coefficient_ring == "Q"
