"""Scheduling and buffer planning for generated code.

:func:`schedule` orders a program's work as linear phases and products: the temporaries
shared between products (``s``, ``t``) first, then each product preceded by its own
operands (``l``, ``r`` steps, computed just before use so that their buffers are reused),
then the C side. :func:`plan_buffers` assigns buffers by liveness over that order:
temporaries of the A side have the shape of a block of A, those of the B side of a block
of B, products and C-side temporaries of a block of C; a buffer freed after the last use
of its variable is reused by a later one of the same kind.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from ..slp import Product, Program, Step


@dataclass(frozen=True)
class Op:
    """One scheduled operation: a linear phase (``steps``, all of one ``kind``) or a product."""

    kind: str  # "A", "B" or "C"
    steps: tuple[Step, ...] = ()
    product: Optional[Product] = None


@dataclass(frozen=True)
class Plan:
    """``slot[var] = (kind, index)`` for every temporary; ``count[kind]`` buffers per kind.

    Kinds ``A``, ``B``, ``C`` are full blocks; ``a``, ``b``, ``c`` hold temporaries used only
    inside one linear phase (generated code may keep those per row chunk).
    """

    slot: dict[str, tuple[str, int]]
    count: dict[str, int]


def schedule(program: Program, lazy: bool = True) -> list[Op]:
    """The order in which generated code runs the program (see module docstring).

    With ``lazy=False`` each side is one phase (fewer passes over memory when the phase
    runs in cache-sized row chunks, more buffers alive at once).
    """
    operands = {s.target: s for s in program.a_steps + program.b_steps if s.target[0] in "lr"} if lazy else {}
    ops = [Op("A", tuple(s for s in program.a_steps if s.target not in operands)),
           Op("B", tuple(s for s in program.b_steps if s.target not in operands))]
    done: set[str] = set()
    for prod in program.products:
        for var, kind in ((prod.left, "A"), (prod.right, "B")):
            if var in operands and var not in done:
                ops.append(Op(kind, (operands[var],)))
                done.add(var)
        ops.append(Op("C", product=prod))
    ops.append(Op("C", tuple(program.c_steps)))
    return [op for op in ops if op.steps or op.product]


def plan_buffers(program: Program, ops: Optional[list[Op]] = None, chunked: bool = True) -> Plan:
    """Assign buffers to the temporaries of a program by liveness over ``ops``.

    A step may write into the buffer of its first term when that term dies there (ufuncs
    allow out= to alias an input elementwise), and into that of its second term when the
    first statement reads both; other buffers are freed only after the step, since they
    are read after the first write. Products never alias their operands. With
    ``chunked``, temporaries used only inside their own phase get the lower-case kinds.
    """
    ops = ops if ops is not None else schedule(program)
    outputs = set(program.outputs)
    flat: list[tuple[str, str, list[str], int, int]] = []  # (kind, target, uses, op index, aliasable)
    for k, op in enumerate(ops):
        if op.product is not None:
            flat.append(("C", op.product.name, [op.product.left, op.product.right], k, 0))
        for s in op.steps:
            # The target may share the buffer of the first term, and of the second when both
            # are read by the first statement (x0 ± x1 with unit coefficients).
            fused = len(s.terms) > 1 and s.terms[0][1] == 1 and s.terms[1][1] in (1, -1)
            flat.append((op.kind, s.target, [v for v, _ in s.terms], k, 2 if fused else 1))
    last: dict[str, int] = {}
    users: dict[str, set[int]] = {}
    for k, (_, _, uses, opk, _) in enumerate(flat):
        for v in uses:
            last[v] = k
            users.setdefault(v, set()).add(opk)
    slot: dict[str, tuple[str, int]] = {}
    free: dict[str, list[int]] = {k: [] for k in "ABCabc"}
    count = {k: 0 for k in "ABCabc"}

    def release(v: str) -> None:
        if v in slot:
            kind, idx = slot[v]
            free[kind].append(idx)

    for k, (kind, target, uses, opk, aliasable) in enumerate(flat):
        is_product = ops[opk].product is not None
        if chunked and not is_product and target not in outputs and users.get(target, set()) <= {opk}:
            kind = kind.lower()
        dying = [v for v in dict.fromkeys(uses) if last.get(v) == k]
        early = [v for v in dying if v in uses[:aliasable]]
        for v in early:
            release(v)
        if target not in outputs:
            if free[kind]:
                free[kind].sort()
                idx = free[kind].pop(0)
            else:
                idx = count[kind]
                count[kind] += 1
            slot[target] = (kind, idx)
        for v in dying:
            if v not in early:
                release(v)
        if target not in outputs and target not in last:
            release(target)  # computed but never used
    return Plan(slot, count)
