"""Shared fixtures: the published-scheme folder (optional) and a CLI runner."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` when present; skip the test otherwise."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"published schemes not available at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
