"""Rebuild algorithms/ from scratch with the tool's own engines (a ladder of searches).

For every format n ≤ m ≤ p ≤ 5 (6 with `--up-to 6`) it runs, until one succeeds, searches at the best known
integer rank and just above it (flip graph over Z with ternary coefficients, then over GF(2)
with Hensel lifting to Z), and falls back to composing catalog schemes (direct sums, Kronecker
products) followed by flip-graph descent from the composed start, and then walks from the start
that `strassen catalog starts` ranks best (compositions are rigid starts; a larger product cut
down to the format often walks far lower). Every step is a `strassen`
command, so each catalog file records the exact command that made it, its time limit and the
file it started from: `strassen catalog rebuild --format FMT` reruns that chain. With
`--additions N`, the best scheme of each format is then rewritten by `strassen optimize-additions`
(N moves) into a second file of the same rank with fewer additions after elimination.

    python scripts/build_catalog.py [--formats 2x2x2,3x3x3] [--up-to 6] [--budget 120] [--out algorithms] [--additions 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from discover.best_known import table

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], log, catalog: Path | None = None) -> int:
    """Run a command from the repository root; ``catalog``: the folder its ``catalog:`` sources read."""
    print("$ " + " ".join(shlex.quote(a) for a in argv), file=log, flush=True)
    t0 = time.time()
    env = None if catalog is None else {**os.environ, "STRASSEN_CATALOG": str(catalog)}
    rc = subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, env=env).returncode
    print(f"  -> exit {rc} in {time.time() - t0:.1f}s", file=log, flush=True)
    return rc


def lowest_rank(out: Path, fmt: str) -> int | None:
    ranks = []
    for path in (ROOT / out).glob(f"{fmt}_r*.json"):
        doc = json.loads(path.read_text())
        if doc["ring"] != "Z2":
            ranks.append(doc["rank"])
    return min(ranks, default=None)


# Formats whose flip walk from the naive scheme reaches (or nearly reaches) the record quickly;
# the others start from a composition of smaller catalog schemes.
NAIVE_FIRST = {"2x2x3", "2x2x4", "2x2x5", "2x3x3", "2x3x4", "2x3x5", "2x4x4", "3x3x3", "3x3x4"}


def files(out: Path, fmt: str) -> set[Path]:
    return set((ROOT / out).glob(f"{fmt}_r*.json"))


def rank_of(path: Path) -> int:
    return json.loads(path.read_text())["rank"]


def descend(fmt: str, start: Path, target: int, out: Path, budget: float, seed: int, log) -> None:
    """Walk down one rank at a time, each step a flip search from the previous result."""
    while rank_of(start) > target:
        step = ["strassen", "search", fmt, "--method", "flip", "--seed", str(seed), "--out", str(out), "-q",
                "--rank", str(rank_of(start) - 1), "--start", str(start.relative_to(ROOT))]
        ring = json.loads(start.read_text())["ring"]
        tries = ([("ZT", "zt")] if ring == "ZT" else []) + [("Z", "gf2")]
        before = files(out, fmt)
        if not any(run(step + ["--ring", r, "-O", f"field={f}", "--time-limit", str(budget / len(tries))], log) == 0
                   for r, f in tries):
            return
        start = min(files(out, fmt) - before, key=rank_of)


def compose_and_descend(fmt: str, target: int, out: Path, budget: float, seed: int, log, peel: bool) -> None:
    before = files(out, fmt)
    argv = ["strassen", "catalog", "compose", fmt, "--dir", str(out), "--out", str(out)] + (["--peel"] if peel else [])
    if run(argv, log) != 0:
        return
    new = files(out, fmt) - before
    if new:
        descend(fmt, min(new, key=rank_of), target, out, budget, seed, log)


def walk_from_best_start(fmt: str, target: int, out: Path, budget: float, seed: int, log) -> None:
    """GF(2) runners from the start a short walk ranks best (`strassen catalog starts`), then descend."""
    from discover.starts import probe_starts

    starts = probe_starts(fmt, ROOT / out, seed=seed)
    print(f"  starts for {fmt}: " + ", ".join(f"{s.spec} → {s.reached}" for s in starts[:3]), file=log, flush=True)
    if not starts:
        return
    before = files(out, fmt)
    run(["strassen", "search", fmt, "--method", "flip", "--seed", str(seed), "--out", str(out), "-q",
         "--rank", str(target), "--ring", "ZT", "-O", "field=gf2", "-O", "lift_lows=1",
         "--start", starts[0].spec, "--time-limit", str(budget)], log, catalog=out)
    new = files(out, fmt) - before
    if new:
        descend(fmt, min(new, key=rank_of), target, out, budget, seed, log)


def build(fmt: str, target: int, out: Path, budget: float, seed: int, log) -> None:
    """Bring ``fmt`` to ``target`` if the tool can; every step is skipped when already done."""
    def done() -> bool:
        return (lowest_rank(out, fmt) or 10**9) <= target

    search = ["strassen", "search", fmt, "--method", "flip", "--seed", str(seed), "--out", str(out), "-q"]
    if done():
        return
    if fmt == "2x2x2":
        run(["strassen", "search", fmt, "--rank", str(target), "--seed", str(seed), "--out", str(out), "-q"], log)
        return
    if fmt in NAIVE_FIRST and not files(out, fmt):
        for rank, ring, field in [(target, "ZT", "zt"), (target, "Z", "gf2"), (target + 1, "ZT", "zt"), (target + 1, "Z", "gf2")]:
            if (lowest_rank(out, fmt) or 10**9) <= rank:
                break
            if run(search + ["--rank", str(rank), "--ring", ring, "-O", f"field={field}", "--time-limit", str(budget)], log) == 0:
                break
    # Compose from smaller catalog schemes (two tight blocks; then a naive slice peeled off, which
    # walks descend from more easily), walking down from each composition.
    for peel, suffix in ((False, "composed"), (True, "peeled")):
        if not done() and not any(suffix in p.name for p in files(out, fmt)):
            compose_and_descend(fmt, target, out, budget, seed, log, peel)
    if not done():
        walk_from_best_start(fmt, target, out, budget, seed, log)


def optimize_additions(fmt: str, out: Path, iterations: int, seed: int, log) -> None:
    """Add a file with fewer additions at the best rank (skipped when one is there already)."""
    from discover.catalog import best_entry
    from discover.errors import LoadError

    try:
        entry = best_entry(fmt, ROOT / out)
    except LoadError:
        return
    if entry.path.stem.endswith("-additions"):
        return
    run(["strassen", "optimize-additions", str(Path(entry.path).relative_to(ROOT)), "-o", str(out), "-q",
         "--iterations", str(iterations), "--seed", str(seed)], log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", default=None, help="comma-separated (default: every format of --up-to)")
    parser.add_argument("--up-to", type=int, choices=(5, 6), default=5, help="largest dimension of the formats")
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per search")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="algorithms")
    parser.add_argument("--additions", type=int, default=0, metavar="N",
                        help="then search N moves for fewer additions at each format's best rank (0: skip)")
    args = parser.parse_args()
    out = Path(args.out)  # relative to the repository root, so recorded commands stay portable
    (ROOT / out).mkdir(parents=True, exist_ok=True)
    rows = table(args.up_to)
    wanted = args.formats.split(",") if args.formats else [str(r.format) for r in rows]
    for record in sorted(rows, key=lambda r: (r.format.naive_rank, r.format.dims)):  # small first: compositions need them
        if str(record.format) in wanted:
            build(str(record.format), record.integer_rank, out, args.budget, args.seed, sys.stderr)
            if args.additions:
                optimize_additions(str(record.format), out, args.additions, args.seed, sys.stderr)


if __name__ == "__main__":
    main()
