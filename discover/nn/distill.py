"""Knowledge distillation (Hinton et al. 2015) and a small, deterministic training loop."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn


def distillation_loss(
    student_logits: torch.Tensor,
    targets: torch.Tensor,
    teacher_logits: Optional[torch.Tensor] = None,
    temperature: float = 4.0,
    alpha: float = 0.5,
) -> torch.Tensor:
    """``alpha · T² · KL(teacher_T ‖ student_T) + (1 - alpha) · cross-entropy(student, targets)``.

    Parameters
    ----------
    student_logits : torch.Tensor
        (..., classes) logits of the model being trained: (batch, classes) for a classifier,
        (batch, time, vocabulary) for a language model; every position counts once (mean).
    targets : torch.Tensor
        (...) class indices.
    teacher_logits : torch.Tensor, optional
        (..., classes) logits of the teacher; plain cross-entropy when None.
    temperature : float
        Softening temperature T of both distributions; the T² factor keeps gradient scales
        comparable across temperatures.
    alpha : float
        Weight of the distillation term, in [0, 1].
    """
    classes = student_logits.shape[-1]
    student_logits, targets = student_logits.reshape(-1, classes), targets.reshape(-1)
    hard = F.cross_entropy(student_logits, targets)
    if teacher_logits is None or alpha == 0.0:
        return hard
    if not 0.0 <= alpha <= 1.0 or temperature <= 0:
        raise ValueError("alpha must lie in [0, 1] and temperature be positive")
    soft = F.kl_div(
        F.log_softmax(student_logits / temperature, dim=-1),
        F.log_softmax(teacher_logits.detach().reshape(-1, classes) / temperature, dim=-1),
        log_target=True,
        reduction="batchmean",
    )
    return alpha * temperature**2 * soft + (1.0 - alpha) * hard


@dataclass(frozen=True)
class TrainConfig:
    """Settings of :func:`train`."""

    epochs: int = 20
    lr: float = 1e-2
    batch_size: int = 64
    weight_decay: float = 0.0
    temperature: float = 4.0
    alpha: float = 0.5
    clip_norm: Optional[float] = None
    """Clip the gradient norm to this value before each step (recurrent models); None: no clipping."""
    teacher_chunk: Optional[int] = None
    """Rows per forward pass of the teacher (bounded memory); None: the whole set at once."""


def predict(model: nn.Module, x: torch.Tensor, chunk: Optional[int] = None) -> torch.Tensor:
    """``model(x)`` in eval mode without gradients; ``chunk`` rows at a time when given."""
    model.eval()
    with torch.no_grad():
        if chunk is None:
            return model(x)
        return torch.cat([model(x[start:start + chunk]) for start in range(0, len(x), chunk)])


def train(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig,
    *,
    seed: int,
    teacher: Optional[nn.Module] = None,
    on_epoch: Optional[Callable[[int, float], None]] = None,
) -> list[float]:
    """Train ``model`` with Adam and a cosine learning-rate schedule; returns the mean loss per epoch.

    Parameters
    ----------
    model : nn.Module
        Only its parameters with ``requires_grad`` are updated (see :func:`~discover.nn.set_phase`).
    x, y : torch.Tensor
        The whole training set (small data sets only: batches are slices of these tensors):
        images and labels, or token windows (N, T) and next tokens (N, T).
    config : TrainConfig
        Epochs, learning rate, batch size and distillation settings.
    seed : int
        Seeds the batch order; the run is deterministic for a seed.
    teacher : nn.Module, optional
        When given, its logits (in eval mode) are distilled into the model.
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, mean_loss)`` after each epoch (progress reporting).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params or config.epochs <= 0:
        return []
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    steps = config.epochs * -(-len(x) // config.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    teacher_logits = None if teacher is None else predict(teacher, x, config.teacher_chunk)
    losses = []
    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(len(x), generator=generator)
        total = 0.0
        for start in range(0, len(x), config.batch_size):
            idx = order[start:start + config.batch_size]
            logits = model(x[idx])
            loss = distillation_loss(
                logits, y[idx], None if teacher_logits is None else teacher_logits[idx],
                config.temperature, config.alpha,
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(params, config.clip_norm)
            optimizer.step()
            schedule.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x))
        if on_epoch is not None:
            on_epoch(epoch, losses[-1])
    model.eval()
    return losses


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` classified as ``y`` (model in eval mode)."""
    return float((predict(model, x).argmax(dim=-1) == y).float().mean().item())
