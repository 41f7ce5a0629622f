"""Shared pieces of the CLI: exit codes, error handling, output helpers."""
from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click

from ..errors import DiscoverError

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


class StrassenGroup(click.Group):
    """A click group that turns package errors into one line + exit 2 and Ctrl-C into exit 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DiscoverError as e:
            raise UserError(str(e)) from e
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def echo_json(doc: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(doc, indent=2, default=str))


def info(message: str, quiet: bool = False) -> None:
    """A message on stderr (never stdout, which carries results)."""
    if not quiet:
        click.echo(message, err=True)


def command_line() -> str:
    """The command that is running, for provenance records."""
    import shlex

    args = [a for a in sys.argv[1:]]
    return " ".join(["strassen", *map(shlex.quote, args)])
