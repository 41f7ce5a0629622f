"""Flip-graph local search (Kauers–Moosbauer) with plus transitions and lifting.

A scheme is held as a list of rank-one terms ``(a_k, b_k, c_k)``. Over GF(2) each factor is
a bit-packed ``uint64`` (bit ``i*cols + j`` is entry ``[i, j]``), so a flip is two XORs.

Modules
-------
gf2
    Packing and the compiled GF(2) walk (flips, reductions, plus transitions).
zt
    The same walk over Z with ternary coefficients (signed bit packing, no lifting needed).
lift
    Sign lifting (mod 4) and Hensel lifting (mod 2^k + rational reconstruction).
walk
    The driver loop: walk to a target rank (either field), lift (GF(2)), keep walking after a failed lift.
"""
