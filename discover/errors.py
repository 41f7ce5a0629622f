"""Exception types of the package.

Every error meant for a user carries a one-line message that quotes the bad value;
the CLI prints it and exits with code 2.
"""
from __future__ import annotations


class DiscoverError(Exception):
    """Base class of every error raised on purpose by :mod:`discover`."""


class FormatError(DiscoverError, ValueError):
    """A matrix-multiplication format such as ``2x3x4`` is malformed."""


class SchemeError(DiscoverError, ValueError):
    """Coefficient arrays do not form a well-shaped scheme."""


class LoadError(DiscoverError):
    """A scheme file cannot be read, parsed or validated."""


class LimitError(DiscoverError, ValueError):
    """An input exceeds a documented size limit (see :mod:`discover.limits`)."""


class WriteError(DiscoverError, OSError):
    """A result cannot be written safely: the target is unwritable, not a regular file, or a
    symbolic link that leaves its folder."""
