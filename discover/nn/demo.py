"""The StrassenNets demo on scikit-learn's 8x8 digits: a small CNN against SPN versions of it.

A full-precision CNN is trained first; each StrassenNets version (every conv and linear layer
replaced by an SPN layer with budget r = factor × output channels) is then trained through the
three phases with knowledge distillation from that baseline. Results: test accuracy and the
multiplications and additions per image of the conv and linear layers (:mod:`discover.nn.ops`).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .data import Split, load_digits_split
from .distill import TrainConfig, accuracy, train
from .ops import count_ops
from .spn_layers import Phase, SPNConv2d, SPNLinear, set_phase

INPUT_SHAPE = (1, 8, 8)
CHANNELS = (16, 32)
CLASSES = 10


def make_cnn(factor: Optional[float] = None, patch: int = 1) -> nn.Sequential:
    """The demo CNN; with ``factor`` its conv and linear layers are SPN layers of budget
    ``r = max(1, round(factor × output channels))``.
    """
    c1, c2 = CHANNELS

    def conv(cin: int, cout: int) -> nn.Module:
        if factor is None:
            return nn.Conv2d(cin, cout, 3, padding=1)
        return SPNConv2d(cin, cout, 3, r=max(1, round(factor * cout)), padding=1, patch=patch)

    def linear(fin: int, fout: int) -> nn.Module:
        if factor is None:
            return nn.Linear(fin, fout)
        return SPNLinear(fin, fout, r=max(1, round(factor * fout)))

    return nn.Sequential(
        conv(1, c1), nn.BatchNorm2d(c1), nn.ReLU(),
        conv(c1, c2), nn.BatchNorm2d(c2), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(),
        linear(c2 * 16, CLASSES),
    )


@dataclass(frozen=True)
class Schedule:
    """Epochs per phase; the baseline trains for ``baseline`` epochs."""

    baseline: int = 30
    full: int = 12
    ternary: int = 20
    frozen: int = 6

    @classmethod
    def quick(cls) -> "Schedule":
        return cls(baseline=3, full=1, ternary=2, frozen=1)


@dataclass
class Row:
    """One line of the demo table (over several seeds)."""

    name: str
    accuracies: list[float] = field(default_factory=list)
    mults: int = 0
    adds: int = 0


def train_baseline(split: Split, schedule: Schedule, seed: int, progress: Callable[[str], None]) -> nn.Module:
    """The full-precision teacher."""
    torch.manual_seed(seed)
    model = make_cnn()
    train(model, split.x_train, split.y_train, TrainConfig(epochs=schedule.baseline, lr=1e-2), seed=seed)
    progress(f"seed {seed}: baseline accuracy {accuracy(model, split.x_test, split.y_test):.4f}")
    return model


def train_spn(
    split: Split, teacher: nn.Module, factor: float, patch: int, schedule: Schedule, seed: int,
    progress: Callable[[str], None],
) -> nn.Module:
    """A StrassenNets CNN trained FULL → TERNARY → FROZEN with distillation from ``teacher``."""
    torch.manual_seed(seed)
    model = make_cnn(factor, patch)
    phases = ((Phase.FULL, schedule.full, 1e-2), (Phase.TERNARY, schedule.ternary, 5e-3), (Phase.FROZEN, schedule.frozen, 2e-3))
    for phase, epochs, lr in phases:
        set_phase(model, phase)
        train(model, split.x_train, split.y_train, TrainConfig(epochs=epochs, lr=lr), seed=seed, teacher=teacher)
        progress(f"seed {seed}: r = {factor:g}×out, {phase.value:7s} accuracy {accuracy(model, split.x_test, split.y_test):.4f}")
    return model


def run_demo(
    factors: Sequence[float] = (0.5, 1.0, 2.0),
    seeds: Sequence[int] = (0,),
    patch: int = 1,
    schedule: Schedule = Schedule(),
    progress: Callable[[str], None] = lambda message: None,
) -> list[Row]:
    """Train the baseline and the SPN versions for every seed; one :class:`Row` per model."""
    split = load_digits_split()
    rows = [Row("baseline CNN")] + [Row(f"SPN r={f:g}x" + (f" p={patch}" if patch > 1 else "")) for f in factors]
    for seed in seeds:
        teacher = train_baseline(split, schedule, seed, progress)
        models = [teacher] + [train_spn(split, teacher, f, patch, schedule, seed, progress) for f in factors]
        for row, model in zip(rows, models):
            row.accuracies.append(accuracy(model, split.x_test, split.y_test))
            ops = count_ops(model, INPUT_SHAPE)
            row.mults, row.adds = ops.matmul_mults(), ops.matmul_adds()
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """The demo table: accuracy (mean ± sd over seeds), mults/adds per image, cut in mults."""
    base = rows[0]
    head = ("model", "test acc %", "mults/image", "adds/image", "mult cut", "acc diff")
    lines = []
    base_mean = statistics.fmean(base.accuracies)
    for row in rows:
        mean = statistics.fmean(row.accuracies)
        sd = statistics.stdev(row.accuracies) if len(row.accuracies) > 1 else 0.0
        cut = 1.0 - row.mults / base.mults if base.mults else 0.0
        lines.append((
            row.name, f"{100 * mean:.2f} ± {100 * sd:.2f}", f"{row.mults:,}", f"{row.adds:,}",
            f"{100 * cut:.1f} %", f"{round(100 * (mean - base_mean), 2) + 0.0:+.2f}",
        ))
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    seeds = len(base.accuracies)
    note = f"({seeds} seed{'s' if seeds != 1 else ''}; mults/adds of the conv and linear layers for one 8x8 image)"
    return "\n".join([line(head), *map(line, lines), note])
