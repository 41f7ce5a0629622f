"""``njit`` for the flip engine, with numba's cache kept per version of the sources.

Every compiled module of the engine imports ``njit`` from here, so :func:`discover.jitcache.configure`
runs before the first kernel is decorated (see there: a cached kernel would otherwise keep an old
compiled helper from another module).
"""
from __future__ import annotations

from numba import njit

from ..jitcache import configure

configure()

__all__ = ["njit"]
