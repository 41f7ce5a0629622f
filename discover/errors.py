"""Every exception the package raises on purpose, in one place.

Every error meant for a user derives from :class:`DiscoverError` and carries a one-line
message that quotes the bad value; the CLI prints it as ``error: ...`` and exits with code 2.
"""
from __future__ import annotations


class DiscoverError(Exception):
    """Base class of every error raised on purpose by :mod:`discover`."""


class FormatError(DiscoverError, ValueError):
    """A matrix-multiplication format such as ``2x3x4`` is malformed."""


class CoefficientError(DiscoverError, ValueError):
    """A value is not an exact rational coefficient; the message says why."""


class SchemeError(DiscoverError, ValueError):
    """Coefficient arrays do not form a well-shaped scheme."""


class ComplexCoefficientError(SchemeError):
    """A published scheme uses complex coefficients, which the package does not support."""


class LoadError(DiscoverError):
    """A scheme file cannot be read, parsed or validated."""


class UnsafePickleError(LoadError):
    """A pickled array would run code or build an object a plain array does not need."""


class SearchError(DiscoverError, ValueError):
    """Bad search input (unknown method or option, impossible rank, ...): exit code 2."""


class NotExactError(DiscoverError):
    """A scheme that was to be certified (saved, exported, used) is not exact."""


class RingError(DiscoverError, ValueError):
    """An unknown ring name."""


class PlotError(DiscoverError):
    """A picture cannot be drawn: matplotlib (the ``plot`` extra) is missing, or the file type is not a picture."""


class MissingExtraError(DiscoverError):
    """An optional feature needs an extra that is not installed; the message says how to install it."""


class ClusterError(DiscoverError):
    """The cluster a search ran on was lost mid-search (exit code 1; everything verified is kept).

    ``result`` holds the :class:`~discover.search.collector.SearchResult` as far as it got.
    """

    result = None


class DtypeError(DiscoverError, TypeError):
    """Inputs of a dtype that scheme evaluation refuses (booleans)."""


class IntegerOverflowError(DiscoverError, OverflowError):
    """The exact integer evaluation of a scheme with fractions could overflow int64."""


class LimitError(DiscoverError, ValueError):
    """An input exceeds a documented size limit (see :mod:`discover.limits`)."""


class WriteError(DiscoverError, OSError):
    """A result cannot be written safely: the target is unwritable, not a regular file, or a
    symbolic link that leaves its folder."""


class TuneError(DiscoverError):
    """A tune table (``strassen tune``) that cannot be read or used, or bad tuning options."""


class BuildError(DiscoverError):
    """Building generated C failed: no C compiler, no BLAS where one was asked for, or a compiler error."""
