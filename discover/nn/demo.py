"""The StrassenNets demo on scikit-learn's 8x8 digits: a small CNN against SPN versions of it.

A full-precision CNN is trained first; each StrassenNets version (every conv and linear layer
replaced by an SPN layer with budget r = factor × output channels) is then trained through the
three phases with knowledge distillation from that baseline (the shared loop of
:mod:`discover.nn.experiment`). Results: test accuracy and the multiplications and additions
per image of the conv and linear layers (:mod:`discover.nn.ops`).
"""
from __future__ import annotations

import functools
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .data import Split, load_digits_split
from .distill import accuracy
from .experiment import Metric, Row, Schedule, Task, run_task
from .experiment import format_table as format_experiment_table
from .ops import count_ops
from .spn_layers import SPNConv2d, SPNLinear

__all__ = ["Row", "Schedule", "digits_task", "format_table", "make_cnn", "run_demo"]

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


ACCURACY = Metric("accuracy", "test acc %", "acc diff", scale=100.0, decimals=2)
NOTE = "mults/adds of the conv and linear layers for one 8x8 image"


def _cnn_ops(model: nn.Module) -> tuple[int, int]:
    counted = count_ops(model, INPUT_SHAPE)
    return counted.matmul_mults(), counted.matmul_adds()


def _test_accuracy(x: torch.Tensor, y: torch.Tensor, model: nn.Module) -> float:
    return accuracy(model, x, y)


def digits_task(split: Split, patch: int = 1) -> Task:
    """The digits CNN as a :class:`~discover.nn.experiment.Task` (test accuracy; conv and linear ops).

    Its callables are module functions and partials, so the task pickles for parallel seeds.
    """
    return Task(
        x_train=split.x_train, y_train=split.y_train,
        make_model=functools.partial(make_cnn, patch=patch),
        score=functools.partial(_test_accuracy, split.x_test, split.y_test),
        ops=_cnn_ops, metric=ACCURACY, baseline_name="baseline CNN", unit="image", note=NOTE,
    )


def run_demo(
    factors: Sequence[float] = (0.5, 1.0, 2.0),
    seeds: Sequence[int] = (0,),
    patch: int = 1,
    schedule: Schedule = Schedule(),
    progress: Callable[[str], None] = lambda message: None,
    jobs: int = 1,
) -> list[Row]:
    """Train the baseline and the SPN versions for every seed; one :class:`Row` per model."""
    names = [f"SPN r={f:g}x" + (f" p={patch}" if patch > 1 else "") for f in factors]
    return run_task(digits_task(load_digits_split(), patch), factors, seeds, schedule, names, progress, jobs)


def format_table(rows: Sequence[Row]) -> str:
    """The demo table: accuracy (mean ± sd over seeds), mults/adds per image, cut in mults."""
    return format_experiment_table(rows, ACCURACY, "image", NOTE)
