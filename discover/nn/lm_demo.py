"""The StrassenNets language-model demo: a character-level LSTM against SPN-LSTM versions of it.

A full-precision :class:`~discover.nn.charlm.CharLM` (embedding → ``torch.nn.LSTM`` → linear)
is trained first; each StrassenNets version replaces the LSTM by an
:class:`~discover.nn.SPNLSTM` with budget r = factor × 4·hidden (the gate rows) for both gate
products and is trained through the three phases with knowledge distillation from it, by the
same loop as the image demo (:mod:`discover.nn.experiment`). Results: bits per character on the
held-out tail of the corpus and the multiplications and additions per character of the LSTM.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from torch import nn

from .charlm import VOCAB, CharLM, Corpus, LMData, bits_per_char, split_corpus
from .distill import TrainConfig
from .experiment import Metric, Row, Schedule, Task, run_task
from .experiment import format_table as format_experiment_table
from .ops import RECURRENT_KINDS, count_ops

BPC = Metric("bpc", "bits/char", "bpc diff", scale=1.0, decimals=3)


@dataclass(frozen=True)
class LMSettings:
    """Corpus slice, model sizes and batch of the LM demo."""

    max_chars: int = 200_000
    seq_len: int = 64
    embed: int = 32
    hidden: int = 128
    batch_size: int = 32

    @classmethod
    def quick(cls) -> "LMSettings":
        return cls(max_chars=20_000, seq_len=32, embed=16, hidden=32)


#: Epochs of the LM demo (an epoch is about 2,800 windows of 64 characters).
LM_SCHEDULE = Schedule(baseline=12, full=4, ternary=14, frozen=3)
LM_QUICK = Schedule(baseline=2, full=1, ternary=1, frozen=1)


def _lstm_ops(model: nn.Module) -> tuple[int, int]:
    counted = count_ops(model, (1,), input_dtype=torch.long).of_kinds(*RECURRENT_KINDS)
    return counted.mults, counted.adds


def _char_lm(embed: int, hidden: int, factor: Optional[float]) -> CharLM:
    return CharLM(embed, hidden, factor=factor)


def _bits_per_char(tokens: torch.Tensor, model: nn.Module) -> float:
    return bits_per_char(model, tokens)  # type: ignore[arg-type]


def lm_task(data: LMData, settings: LMSettings, note: str) -> Task:
    """The character LM as a :class:`~discover.nn.experiment.Task` (bits/char; LSTM ops per char).

    Its callables are module functions and partials, so the task pickles for parallel seeds.
    """
    return Task(
        x_train=data.x_train, y_train=data.y_train,
        make_model=functools.partial(_char_lm, settings.embed, settings.hidden),
        score=functools.partial(_bits_per_char, data.test),
        ops=_lstm_ops, metric=BPC, baseline_name="baseline LSTM", unit="char", note=note,
        # T = 2 (sharper targets than the image demo's T = 4) trained the SPN-LSTM faster in trials.
        config=TrainConfig(batch_size=settings.batch_size, clip_norm=1.0, teacher_chunk=256, temperature=2.0),
        baseline_lr=1e-2, phase_lrs=(5e-3, 2e-3, 1e-3),
    )


def run_lm_demo(
    corpus: Corpus,
    factors: Sequence[float] = (1.0,),
    seeds: Sequence[int] = (0,),
    schedule: Schedule = LM_SCHEDULE,
    settings: LMSettings = LMSettings(),
    progress: Callable[[str], None] = lambda message: None,
    jobs: int = 1,
) -> tuple[list[Row], str]:
    """Train the baseline LM and its SPN versions for every seed: the rows and the table's note."""
    data = split_corpus(corpus, settings.max_chars, settings.seq_len)
    train_chars, test_chars = data.x_train.numel(), len(data.test)
    progress(f"corpus {corpus.name}: {len(corpus.text):,} characters (sha256 {corpus.sha256[:12]}), "
             f"training on {train_chars:,}, testing on {test_chars:,}")
    note = (f"mults/adds of the LSTM per character; the embedding and the output layer "
            f"({settings.hidden * VOCAB:,} mults/char) stay full precision; {corpus.name}, "
            f"{train_chars:,} training and {test_chars:,} test characters")
    names = [f"SPN r={f:g}x" for f in factors]
    return run_task(lm_task(data, settings, note), factors, seeds, schedule, names, progress, jobs), note


def format_lm_table(rows: Sequence[Row], note: str) -> str:
    """The LM demo table: bits/char (mean ± sd over seeds), mults/adds per character, cut in mults."""
    return format_experiment_table(rows, BPC, "char", note)
