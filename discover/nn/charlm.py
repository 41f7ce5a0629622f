"""A character-level language model (embedding → LSTM → linear), its corpus and bits per character.

The default corpus needs no download: the Python reference documentation that every CPython
installation ships for ``help()`` (``pydoc_data.topics``), the topics joined in sorted order,
about 465,000 characters of English prose and code for Python 3.11. It is the same text for
one Python version (it changes a little between versions; ``--text FILE`` fixes the corpus).
Characters are encoded over a fixed vocabulary: newline, the 95 printable ASCII characters, and
one symbol for everything else, so that any text maps to the same indices.
"""
from __future__ import annotations

import hashlib
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import DiscoverError
from .spn_recurrent import SPNLSTM

#: newline, printable ASCII, then the index of every other character.
ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))
VOCAB = len(ALPHABET) + 1
OTHER = len(ALPHABET)
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}


class CorpusError(DiscoverError):
    """A text corpus cannot be read or is too short."""


@dataclass(frozen=True)
class Corpus:
    """A text and where it came from (``name``; ``sha256`` of its UTF-8 bytes for the record)."""

    text: str
    name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def default_corpus() -> Corpus:
    """The Python documentation topics shipped with the interpreter (no download)."""
    from pydoc_data.topics import topics

    text = "\n".join(topics[key] for key in sorted(topics))
    return Corpus(text, f"pydoc_data.topics (Python {sys.version_info.major}.{sys.version_info.minor})")


def read_corpus(path: str | Path) -> Corpus:
    """A UTF-8 text file (undecodable bytes replaced) as a corpus.

    Raises
    ------
    CorpusError
        When the file cannot be read.
    """
    try:
        text = Path(path).read_bytes().decode("utf-8", errors="replace")
    except OSError as e:
        raise CorpusError(f"cannot read --text {str(path)!r}: {e.strerror or e}") from e
    return Corpus(text, str(path))


def encode(text: str) -> torch.Tensor:
    """Indices over :data:`ALPHABET` (other characters → :data:`OTHER`), int64."""
    return torch.tensor([_INDEX.get(ch, OTHER) for ch in text], dtype=torch.int64)


@dataclass(frozen=True)
class LMData:
    """Training windows and the held-out text.

    ``x_train`` (N, T) and ``y_train`` (N, T) are consecutive windows of the training text and
    the characters that follow each position; ``test`` is the held-out tail (1-D).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    test: torch.Tensor


def split_corpus(corpus: Corpus, max_chars: int, seq_len: int, test_fraction: float = 0.1) -> LMData:
    """The first ``max_chars`` characters: the first (1 − test_fraction) for training, the rest held out.

    Raises
    ------
    CorpusError
        When the text is too short for one training window and a test stretch.
    """
    tokens = encode(corpus.text[:max_chars])
    n_test = int(len(tokens) * test_fraction)
    train_tokens, test = tokens[: len(tokens) - n_test], tokens[len(tokens) - n_test:]
    windows = (len(train_tokens) - 1) // seq_len
    if windows < 1 or len(test) < 2:
        raise CorpusError(f"the corpus {corpus.name!r} is too short: {len(tokens)} characters "
                          f"(need more than {int((seq_len + 1) / (1 - test_fraction)) + 2})")
    used = train_tokens[: windows * seq_len + 1]
    return LMData(used[:-1].view(windows, seq_len), used[1:].view(windows, seq_len), test)


class CharLM(nn.Module):
    """Embedding → LSTM → linear, batch-first; ``model(tokens (N, T)) → logits (N, T, VOCAB)``.

    Parameters
    ----------
    embed, hidden, layers : int
        Embedding width, LSTM hidden size and number of LSTM layers.
    factor : float, optional
        None: ``torch.nn.LSTM``. Else an :class:`~discover.nn.SPNLSTM` with budget
        ``r = max(1, round(factor × 4·hidden))`` (a multiple of the gate rows) for both products.
        The embedding and the output layer stay full precision in both.
    """

    def __init__(self, embed: int = 32, hidden: int = 128, layers: int = 1, factor: Optional[float] = None) -> None:
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, embed)
        if factor is None:
            self.rnn: nn.Module = nn.LSTM(embed, hidden, layers, batch_first=True)
        else:
            self.rnn = SPNLSTM(embed, hidden, r=max(1, round(factor * 4 * hidden)), num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, VOCAB)

    def run(self, tokens: torch.Tensor, state: Optional[tuple[torch.Tensor, torch.Tensor]] = None):
        """Logits and the final ``(h, c)`` state, continuing from ``state`` when given."""
        output, state = self.rnn(self.embedding(tokens), state)
        return self.head(output), state

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return self.run(tokens)[0]


def bits_per_char(model: CharLM, tokens: torch.Tensor, streams: int = 8, chunk: int = 256) -> float:
    """Mean −log₂ p(next character) over ``tokens`` (1-D), the state carried through the text.

    The text is cut into ``streams`` consecutive stretches read in parallel, ``chunk`` steps at a
    time; every character but the first of each stretch is predicted once.
    """
    streams = max(1, min(streams, len(tokens) // 2))
    length = len(tokens) // streams
    data = tokens[: streams * length].view(streams, length)
    total, count, state = 0.0, 0, None
    model.eval()
    with torch.no_grad():
        for start in range(0, length - 1, chunk):
            inputs = data[:, start:min(start + chunk, length - 1)]
            targets = data[:, start + 1:start + 1 + inputs.shape[1]]
            logits, state = model.run(inputs, state)
            total += F.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1), reduction="sum").item()
            count += targets.numel()
    return total / count / math.log(2)
