"""``strassen bench ...``: benchmarks that print tables (speed goals live here, never in tests)."""
from __future__ import annotations

import click


@click.group("bench")
def bench_group() -> None:
    """Benchmarks that print a table with the machine they ran on.

    \b
    Examples:
      strassen bench search --quick
      strassen bench symmetric --quick
      strassen bench matmul --quick
    """
