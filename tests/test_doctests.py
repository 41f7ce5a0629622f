"""The Examples sections of the public API run as written (doctest)."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["discover", "discover.api", "discover.rings", "discover.problem", "discover.sources", "discover.blockmm",
           "discover.search", "discover.search.driver", "discover.nn.convert", "discover.altbasis", "discover.altmm"]


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    failed, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                                        verbose=False)
    assert attempted > 0, f"{name} has no examples"
    assert failed == 0
