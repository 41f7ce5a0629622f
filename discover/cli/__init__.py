"""The ``strassen`` command line. Each command lives in its own module of this package."""
from __future__ import annotations

import click

from .._version import __version__
from .bench_cmd import bench_group
from . import bench_flip  # noqa: F401  (registers `strassen bench flip`)
from . import bench_search  # noqa: F401  (registers `strassen bench search`)
from . import bench_symmetric  # noqa: F401  (registers `strassen bench symmetric`)
from .bench_matmul import bench_matmul_command  # noqa: F401  (registers `bench matmul`)
from .additions_cmd import optimize_additions_command
from .catalog_cmd import catalog_group
from .common import StrassenGroup
from .compose_cmd import compose_command, transform_command
from .export_cmd import export_command
from .import_cmd import import_command
from .nn_cmd import nn_demo_command
from .search_cmd import search_command
from .ternarize_cmd import ternarize_command
from .tune_cmd import tune_command
from .verify_show import show_command, verify_command


@click.group(cls=StrassenGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strassen")
@click.option("-v", "--verbose", is_flag=True, help="On an error, also print the traceback (for bug reports).")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Discover, verify, catalog and run fast matrix-multiplication schemes.

    Results go to stdout, messages and progress to stderr. Exit codes: 0 valid/found,
    1 not valid/not found, 2 bad input, 130 interrupted.

    \b
    Examples:
      strassen search 2x2x2 --rank 7 --seed 0
      strassen verify algorithms/*.json
      strassen show algorithms/2x2x2_r7_ZT.json
      strassen catalog list

    Shell completion (bash; zsh and fish likewise with zsh_source/fish_source):
      eval "$(_STRASSEN_COMPLETE=bash_source strassen)"
    """
    ctx.meta["verbose"] = verbose


for _command in (search_command, verify_command, show_command, catalog_group, transform_command, compose_command, bench_group, import_command, export_command, nn_demo_command,
                 tune_command, optimize_additions_command, ternarize_command):
    main.add_command(_command)
