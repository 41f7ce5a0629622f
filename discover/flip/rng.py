"""The walks' random numbers: a xorshift64* generator in a one-element ``uint64`` array.

Numba kernels of every field draw from it, so a seed and a flip budget reproduce a walk exactly.
"""
from __future__ import annotations

import numpy as np
from .jit import njit

MULT = np.uint64(0x2545F4914F6CDD1D)


def seed_state(seed: np.random.SeedSequence | int) -> np.ndarray:
    """A nonzero xorshift64* state drawn from a SeedSequence (or an int)."""
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    state = ss.generate_state(1, dtype=np.uint64)
    if state[0] == 0:
        state[0] = np.uint64(0x9E3779B97F4A7C15)
    return state


@njit(cache=True)
def next_u64(state):
    """The next 64 random bits."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * MULT


@njit(cache=True)
def below(state, n):
    """A random integer in [0, n)."""
    # Multiply-shift instead of a 64-bit modulo (much cheaper; bias below 2^-32 · n).
    return np.int64(((next_u64(state) >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))
