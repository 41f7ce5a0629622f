"""Code generation: a scheme as numpy, torch or C code, or as LaTeX/Markdown formulas.

Every generator takes a verified :class:`~discover.scheme.Scheme` and its compiled
:class:`~discover.slp.Program` and returns the text of one file. :data:`TARGETS` maps a
target name to its generator; :func:`generate` is the entry point.
"""
from __future__ import annotations

from typing import Callable, Optional

from ..errors import DiscoverError
from ..scheme import Scheme
from ..slp import Program, compile_scheme
from .header import describe  # noqa: F401  (part of the package's API)

Generator = Callable[[Scheme, Program, str], str]

#: Default ``cutoff`` of the generated ``matmul`` (python and torch targets).
DEFAULT_CUTOFF = 64
#: Targets whose generated code has a default cutoff that ``generate(cutoff=...)`` sets.
CUTOFF_TARGETS = ("python", "torch")


def _python(s: Scheme, p: Program, cmd: str, cutoff: int = DEFAULT_CUTOFF) -> str:
    from .python import generate_numpy

    return generate_numpy(s, p, cmd, cutoff)


def _torch(s: Scheme, p: Program, cmd: str, cutoff: int = DEFAULT_CUTOFF) -> str:
    from .torch import generate_torch

    return generate_torch(s, p, cmd, cutoff)


def _c(s: Scheme, p: Program, cmd: str) -> str:
    from .c import generate_c

    return generate_c(s, p, cmd)


def _latex(s: Scheme, p: Program, cmd: str) -> str:
    from .text import generate_latex

    return generate_latex(s, p, cmd)


def _markdown(s: Scheme, p: Program, cmd: str) -> str:
    from .text import generate_markdown

    return generate_markdown(s, p, cmd)


#: Code targets and their generators.
TARGETS: dict[str, Generator] = {
    "python": _python,
    "torch": _torch,
    "c": _c,
    "latex": _latex,
    "markdown": _markdown,
}

#: File suffix of each target.
SUFFIXES = {"python": ".py", "torch": ".py", "c": ".c", "latex": ".tex", "markdown": ".md"}


def generate(scheme: Scheme, target: str, command: str = "", program: Optional[Program] = None,
             cutoff: Optional[int] = None) -> str:
    """The text of one generated file for ``scheme``.

    Parameters
    ----------
    scheme : Scheme
        A scheme over Z or Q; the caller must have verified it (``discover.verify.verify``).
    target : str
        One of :data:`TARGETS`.
    command : str
        The command line that made the file, recorded in its header.
    program : Program, optional
        A compiled program (by default ``compile_scheme(scheme, eliminate=True)``).
    cutoff : int, optional
        Default ``cutoff`` of the generated ``matmul`` (python and torch targets only;
        :data:`DEFAULT_CUTOFF` when omitted). Blocks smaller than it use a plain product.

    Raises
    ------
    DiscoverError
        For an unknown target, a cutoff for another target or below 1; SchemeError for a
        mod-2 scheme.
    """
    if target not in TARGETS:
        raise DiscoverError(f"unknown code target {target!r}; choose one of {', '.join(TARGETS)}")
    if cutoff is not None and target not in CUTOFF_TARGETS:
        raise DiscoverError(f"a default cutoff applies to the {' and '.join(CUTOFF_TARGETS)} targets, not {target!r}")
    if cutoff is not None and cutoff < 1:
        raise DiscoverError(f"cutoff must be at least 1, got {cutoff}")
    program = program or compile_scheme(scheme, eliminate=True)
    if cutoff is not None:
        return TARGETS[target](scheme, program, command, cutoff)  # type: ignore[call-arg]
    return TARGETS[target](scheme, program, command)

