"""Flip-graph local search (Kauers–Moosbauer) with plus transitions and lifting.

A scheme is held as a list of rank-one terms ``(a_k, b_k, c_k)``. Over GF(2) each factor is
a bit-packed ``uint64`` (bit ``i*cols + j`` is entry ``[i, j]``), so a flip is two XORs.

Modules
-------
jit
    ``njit`` with numba's cache kept per version of the sources (:mod:`discover.jitcache`).
rng
    The xorshift64* generator every kernel draws from.
gf2
    Packing and the compiled GF(2) moves (flip, reductions, plus transition).
zt
    The same moves over Z with ternary coefficients (signed bit packing, no lifting needed).
policy
    The walk policy, written once for both fields (one compiled loop).
settings
    :class:`FlipSettings`: the one settings type (also the ``flip`` method's options).
lift
    Sign lifting (mod 4) and Hensel lifting (mod 2^k + rational reconstruction).
walk
    :func:`flip_search`: walk to a target rank (either field), lift (GF(2)), keep walking after a failed lift.
cyclic
    Cyclic-symmetric flips for square formats: orbit representatives, moves on whole orbits.
runners
    The state of K runner walks advanced in one compiled call (shared by walk, liftrunners, pool).
liftrunners
    Runner walks mod 2 or mod 3 that lift every scheme at the target rank (``field=gf2``, ``gf3``).
checkpoint
    Where a runner walk stands (runners, generator, counters), so a walk cut short goes on from there.
gf3
    Arithmetic mod 3 and the 3-adic lift to rationals (halves); gf3runners: the walk's start and lift.
moves
    Plateau escapes for the ternary walk: split (inverse of a reduction) and elementary sandwiches.
pool
    Pool descent: pools of distinct exact schemes per rank, persisted in a folder, shared by walkers.
bench
    The flip benchmark's engine (``strassen bench flip`` prints its table).
"""
