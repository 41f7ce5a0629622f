"""``--progress-plot FILE``: a search's progress curve, for any command that runs a search.

The search command adds :func:`progress_plot_option` to its options, keeps a
:class:`discover.progress.ProgressLog` while it runs, and at the end calls
:func:`write_progress_plot`. The option checks its file (suffix, matplotlib) while the
command line is parsed, so a bad value stops before any search work.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence

import click

from ..errors import DiscoverError
from .common import fail, info


def _check(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> Optional[str]:
    if value:
        from ..plot import check_plot_path

        try:
            check_plot_path(value)
        except DiscoverError as e:
            fail(str(e))
    return value


def progress_plot_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--progress-plot FILE`` (parameter ``progress_plot``, None when not given) to a click command."""
    return click.option(
        "--progress-plot", "progress_plot", default=None, type=click.Path(dir_okay=False), callback=_check,
        help="At the end, draw best rank/residual and exact hits against time into this .svg/.png/.pdf (plot extra).",
    )(command)


def write_progress_plot(records: Iterable[Sequence[float]], path: Optional[str], *, title: Optional[str] = None,
                        metric: Optional[str] = None, quiet: bool = False) -> None:
    """Draw the records (seconds, best, hits) into ``path``; nothing when ``path`` is None.

    Raises
    ------
    PlotError
        When there are no records (the CLI turns it into one error line, exit 2).
    """
    if not path:
        return
    from ..plot import plot_progress

    plot_progress(records, path, title=title, metric=metric)
    info(f"wrote {path} (search progress)", quiet)
