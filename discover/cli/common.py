"""Shared pieces of the CLI: exit codes, error handling, shared options, output helpers.

The CLI is a translation layer: it turns arguments into calls of the package and outcomes into
exit codes and text. Options that mean the same thing on several commands are defined here once.
"""
from __future__ import annotations

import json
import signal
from typing import Any, Callable, NoReturn, Optional

import click

from ..errors import DiscoverError
from ..provenance import command_line  # noqa: F401  (re-exported for the commands that record it)

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


class UserError(click.ClickException):
    """Bad input or usage: one line on stderr, exit code 2."""

    exit_code = EXIT_BAD_INPUT

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def fail(message: str) -> NoReturn:
    """Stop the command with one error line and exit code 2."""
    raise UserError(message)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM stops like Ctrl-C: what was verified is kept


class StrassenGroup(click.Group):
    """A click group that turns package errors into one line + exit 2 and Ctrl-C/SIGTERM into exit 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            signal.signal(signal.SIGTERM, _terminate)
        except ValueError:  # not the main thread (e.g. inside a test runner's worker thread)
            pass
        try:
            return super().invoke(ctx)
        except DiscoverError as e:
            if ctx.meta.get("verbose"):
                import traceback

                traceback.print_exc()  # -v: the whole chain, for a bug report; still exit 2
            raise UserError(str(e)) from e
        except click.UsageError as e:
            if isinstance(e, UserError) or not e.ctx:
                raise
            # One line (click would add the usage and a hint): "error: ... (see --help)"; click's
            # own message may span lines ("Choose from:" and one tab-indented choice per line).
            message = " ".join(e.format_message().split())
            raise UserError(f"{e.ctx.command_path}: {message} (see --help)") from e
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


class SchemeSourceType(click.ParamType):
    """A scheme source (see :mod:`discover.sources`): kept as text, resolved by the command."""

    name = "SCHEME"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str):  # pragma: no cover
        from click.shell_completion import CompletionItem

        names = ["strassen", "winograd", "naive:", "catalog:", "extend:", "project:", "resize:", "product:", "-"]
        return [CompletionItem(n) for n in names if n.startswith(incomplete)] + [CompletionItem(incomplete, type="file")]


SCHEME = SchemeSourceType()


def json_option(help: str = "Print one JSON document on stdout (and nothing else).") -> Callable:
    return click.option("--json", "as_json", is_flag=True, help=help)


def _remember_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.meta["quiet"] = True
    return value


def quiet_option(help: str = "No messages or progress on stderr.", expose: bool = True) -> Callable:
    """``-q/--quiet``; with ``expose=False`` the command does not take it as a parameter and
    :func:`info` reads it from the context."""
    return click.option("-q", "--quiet", is_flag=True, help=help, callback=_remember_quiet, expose_value=expose)


def out_option(help: str, *, folder: bool = False, default: Optional[str] = None) -> Callable:
    """``-o/--out``: the command's output (a file, or a folder where the command writes several)."""
    kind = click.Path(file_okay=not folder, dir_okay=folder)
    return click.option("-o", "--out", "out", type=kind, default=default, help=help)


def cluster_scheduler(cluster: Optional[str], address: Optional[str], workers: Optional[int], quiet: bool):
    """The Dask scheduler asked for by ``--cluster local:N`` / ``--scheduler ADDRESS`` (None: the local pool).

    The dashboard address is printed once, when the cluster is up.
    """
    if cluster is None and address is None:
        return None
    if cluster is not None and address is not None:
        fail("--cluster and --scheduler exclude each other (unset DASK_SCHEDULER_ADDRESS to use --cluster)")
    if workers is not None:
        fail("--workers sizes the local pool; on a cluster use --cluster local:N or start more dask workers")
    from ..search.dask_scheduler import DaskScheduler, parse_cluster

    def on_connect(s) -> None:
        dashboard = s.dashboard or "none (pip install bokeh for it)"
        info(f"dask scheduler {s.address}, {s.workers} worker(s), dashboard {dashboard}", quiet)

    if cluster is not None:
        return DaskScheduler(local_workers=parse_cluster(cluster), on_connect=on_connect)
    return DaskScheduler(address=address, on_connect=on_connect)


def echo_json(doc: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(doc, indent=2, default=str))


def info(message: str, quiet: bool = False) -> None:
    """A message on stderr (never stdout, which carries results); silent under ``-q``."""
    ctx = click.get_current_context(silent=True)
    if not quiet and not (ctx is not None and ctx.meta.get("quiet")):
        click.echo(message, err=True)


def emit_scheme(certified: Any, out: Optional[str], doc: dict, as_json: bool, quiet: bool, suffix: str = "") -> None:
    """Write a certified scheme to ``out`` (a .json file, or a folder: a free default name with
    ``suffix``), and/or print it: inside ``doc`` under ``--json``, as the scheme's JSON when
    nothing is written. ``doc["saved"]`` becomes the path written."""
    from pathlib import Path

    from ..jsonio import dumps_scheme, free_path, save_scheme, scheme_to_dict

    if out:
        path = Path(out)
        if path.suffix != ".json":
            path = free_path(path, certified, suffix=suffix)
        save_scheme(certified, path)
        doc["saved"] = str(path)
        info(f"wrote {path}", quiet)
    if as_json:
        doc["scheme"] = scheme_to_dict(certified)
        echo_json(doc)
    elif not out:
        click.echo(dumps_scheme(certified), nl=False)
