"""The 8x8 handwritten digits that ship inside scikit-learn (no download), as torch tensors."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import DiscoverError

DEMO_EXTRA_HINT = "scikit-learn is not installed; install the demo extra: pip install 'strassen-discover[demo]'"


@dataclass(frozen=True)
class Split:
    """Train and test tensors: images (N, 1, 8, 8) float32 scaled to [0, 1], labels (N,) int64."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_split(test_fraction: float = 0.25, split_seed: int = 0) -> Split:
    """The 1797 digits split into train and test sets, stratified by class.

    The split depends on ``split_seed`` only, so runs with different training seeds are
    evaluated on the same test images.

    Raises
    ------
    DiscoverError
        When scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise DiscoverError(DEMO_EXTRA_HINT) from e
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16.0
    labels = digits.target.astype(np.int64)
    rng = np.random.default_rng(split_seed)
    test_idx = []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test_idx.extend(members[: int(round(len(members) * test_fraction))])
    test_mask = np.zeros(len(labels), dtype=bool)
    test_mask[test_idx] = True
    x = torch.from_numpy(images).unsqueeze(1)
    y = torch.from_numpy(labels)
    mask = torch.from_numpy(test_mask)
    return Split(x[~mask], y[~mask], x[mask], y[mask])
