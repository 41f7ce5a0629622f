"""The ``python`` target: a self-contained numpy module with ``matmul(A, B)``.

The generated one-level step splits A, B and C into views, evaluates the straight-line
program with in-place ufuncs into buffers that are planned by liveness and kept between
calls (``np.add(x, y, out=buf)``, ``np.matmul(x, y, out=buf)``), and writes the entries of
C into views of the output. Dimensions that the format does not divide are peeled: the
divisible part goes through the scheme, the rest through ``@``.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..scheme import Scheme
from ..slp import Program, Step
from .header import describe
from .plan import plan_buffers, schedule


def _literal(c: Any) -> str:
    f = Fraction(c)
    return str(int(f)) if f.denominator == 1 else f"({f.numerator} / {f.denominator})"


def _step_lines(step: Step, ref: dict[str, str], target: str) -> list[str]:
    """In-place numpy statements computing one step into ``target``."""
    terms = [(ref[v], c) for v, c in step.terms]
    (x0, c0), rest = terms[0], terms[1:]
    lines = []
    if rest and c0 == 1:
        x1, c1 = rest[0]
        if c1 in (1, -1):
            lines.append(f"np.{'add' if c1 == 1 else 'subtract'}({x0}, {x1}, out={target})")
            rest = rest[1:]
        else:
            lines.append(f"np.copyto({target}, {x0})")
    elif c0 == 1:
        lines.append(f"np.copyto({target}, {x0})")
    elif c0 == -1:
        lines.append(f"np.negative({x0}, out={target})")
    else:
        lines.append(f"np.multiply({x0}, {_literal(c0)}, out={target})")
    for x, c in rest:
        if c == 1:
            lines.append(f"np.add({target}, {x}, out={target})")
        elif c == -1:
            lines.append(f"np.subtract({target}, {x}, out={target})")
        else:
            lines.append(f"{target} += {_literal(c)} * {x}")
    return lines


def one_level_body(program: Program) -> list[str]:
    """Statements of the one-level step (indented by the caller).

    Each linear phase (A side, B side, C side) runs over row chunks small enough to stay in
    cache: temporaries used only inside the phase live in chunk-sized scratch arrays, so
    the phase reads its inputs and writes its results once instead of once per addition.
    """
    n, m, p = program.scheme_format.dims
    ops = schedule(program, lazy=False)  # one pass per side: memory traffic dominates
    plan = plan_buffers(program, ops)
    lines = [f"h, w, q = A.shape[0] // {n}, A.shape[1] // {m}, B.shape[1] // {p}", "dt = C.dtype"]
    blocks: dict[str, str] = {}
    for i in range(n):
        for j in range(m):
            blocks[program.a_inputs[i * m + j]] = f"A[{i} * h:{i + 1} * h, {j} * w:{j + 1} * w]"
    for j in range(m):
        for l in range(p):
            blocks[program.b_inputs[j * p + l]] = f"B[{j} * w:{j + 1} * w, {l} * q:{l + 1} * q]"
    for i in range(n):
        for l in range(p):
            blocks[program.outputs[i * p + l]] = f"C[{i} * h:{i + 1} * h, {l} * q:{l + 1} * q]"
    shapes = {"A": "(h, w)", "B": "(w, q)", "C": "(h, q)"}
    for kind in "ABC":
        lines.append(f"w{kind} = _work(depth, {kind!r}, {plan.count[kind]}, {shapes[kind]}, dt)")
    full: dict[str, str] = {}
    for var, expr in blocks.items():
        lines.append(f"{var} = {expr}")
        full[var] = var
    for var, (kind, idx) in plan.slot.items():
        if kind in "ABC":
            lines.append(f"{var} = w{kind}[{idx}]")
            full[var] = var
    cols = {"A": "w", "B": "q", "C": "q"}
    rows = {"A": "h", "B": "w", "C": "h"}

    def phase(name: str, steps: tuple[Step, ...], kind: str) -> None:
        low = kind.lower()
        lines.append(f"def {name}(_r0, _r1):")
        body = [f"    _{low} = [np.empty((_r1 - _r0, {cols[kind]}), dt) for _ in range({plan.count[low]})]"] if plan.count[low] else []
        ref: dict[str, str] = {}
        for step in steps:
            for var in [v for v, _ in step.terms] + [step.target]:
                if var not in ref and var in full:
                    ref[var] = f"{var}_"
                    body.append(f"    {var}_ = {var}[_r0:_r1]")
            target = ref.get(step.target) or f"_{low}[{plan.slot[step.target][1]}]"
            body.append(f"    # {step.text()}")
            body.extend("    " + line for line in _step_lines(step, ref, target))
            ref[step.target] = target
        lines.extend(body)
        lines.append(f"_chunks({name}, {rows[kind]}, {cols[kind]}, dt)")

    for k, op in enumerate(ops):
        if op.product is not None:
            prod = op.product
            lines.append(f"_mul({full[prod.left]}, {full[prod.right]}, {full[prod.name]}, depth - 1, cutoff)  # {prod.name}")
        else:
            phase(f"_phase{k}", op.steps, op.kind)
    return lines


_TEMPLATE = '''"""{title}

Format {fmt} (A is {n}x{m} blocks, B is {m}x{p} blocks), rank {rank} (naive {naive}),
ring {ring}, source: {source}.
Additions per level: {plain} written plainly, {adds} after common-subexpression elimination.

Generated by strassen-discover with: {command}

``matmul(A, B, levels=1, cutoff={cutoff})`` multiplies two 2-D numpy arrays by applying
the scheme recursively ``levels`` times to block matrices; dimensions that the format does
not divide are peeled (their remainder goes through ``@``), and blocks smaller than
``cutoff`` in any dimension use ``A @ B``. Integer inputs give exact integer results
(for schemes with integer coefficients). Work buffers are kept between calls per thread;
``clear_workspace()`` frees them.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

FORMAT = ({n}, {m}, {p})
RANK = {rank}
RING = {ring!r}
ADDITIONS = {adds}
#: Full-block work buffers per level: (blocks of A, of B, of C).
WORKSPACE = {workspace}
RATIONAL = {rational}
DEFAULT_CUTOFF = {cutoff}
#: Bytes per array and row chunk in the linear phases (fits the chunk's arrays in cache).
CHUNK_BYTES = 1 << 17
#: Threads for the additions (numpy ufuncs release the GIL); the products use BLAS threads.
THREADS = 1

_pool = None

_local = threading.local()


def clear_workspace():
    """Free the work buffers kept between calls (in this thread)."""
    _local.buffers = {{}}


def _work(depth, kind, count, shape, dtype):
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {{}}
    key = (depth, kind)
    found = buffers.get(key)
    if found is None or len(found) < count or (count and (found[0].shape != shape or found[0].dtype != dtype)):
        found = buffers[key] = [np.empty(shape, dtype) for _ in range(count)]
    return found


def _chunk_range(fn, start, stop, step):
    for r0 in range(start, stop, step):
        fn(r0, min(r0 + step, stop))


def _chunks(fn, rows, cols, dtype):
    """Run fn(r0, r1) over row chunks of about CHUNK_BYTES per array (on THREADS threads)."""
    global _pool
    step = max(1, CHUNK_BYTES // max(1, cols * dtype.itemsize))
    threads = max(1, min(int(THREADS), rows // step))
    if threads == 1 or dtype == object:
        _chunk_range(fn, 0, rows, step)
        return
    if _pool is None or _pool._max_workers != threads:
        _pool = ThreadPoolExecutor(threads)
    bounds = [rows * k // threads for k in range(threads + 1)]
    list(_pool.map(lambda k: _chunk_range(fn, bounds[k], bounds[k + 1], step), range(threads)))


def _one_level(A, B, C, depth, cutoff):
    """C = A @ B by one level of the scheme; dimensions divisible by the format."""
{body}


def _mul(A, B, C, depth, cutoff):
    """C = A @ B (C preallocated), with ``depth`` levels of the scheme."""
    N, K = A.shape
    P = B.shape[1]
    if depth <= 0 or N // {n} < cutoff or K // {m} < cutoff or P // {p} < cutoff:
        np.matmul(A, B, out=C)
        return
    N1, K1, P1 = N - N % {n}, K - K % {m}, P - P % {p}
    _one_level(A[:N1, :K1], B[:K1, :P1], C[:N1, :P1], depth, cutoff)
    if K1 < K:
        C[:N1, :P1] += A[:N1, K1:] @ B[K1:, :P1]
    if P1 < P:
        np.matmul(A[:N1], B[:, P1:], out=C[:N1, P1:])
    if N1 < N:
        np.matmul(A[N1:], B, out=C[N1:])


def matmul(A, B, levels=1, cutoff=DEFAULT_CUTOFF, out=None):
    """A @ B for 2-D arrays with ``levels`` recursion levels of the scheme.

    Parameters
    ----------
    A, B : array_like
        Shapes (N, K) and (K, P).
    levels : int
        Recursion levels (0 is plain ``A @ B``).
    cutoff : int
        Below this block size (in any dimension) blocks are multiplied with ``@``.
    out : numpy.ndarray, optional
        Preallocated (N, P) result of the result dtype.
    """
    A = np.asarray(A)
    B = np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"matmul needs (N, K) and (K, P) arrays, got {{A.shape}} and {{B.shape}}")
    dtype = np.result_type(A, B)
    if RATIONAL and dtype.kind in "biu":
        dtype = np.dtype(np.float64)
    A = A.astype(dtype, copy=False)
    B = B.astype(dtype, copy=False)
    if out is None:
        out = np.empty((A.shape[0], B.shape[1]), dtype)
    _mul(A, B, out, int(levels), int(cutoff))
    return out
'''


def generate_numpy(scheme: Scheme, program: Program, command: str, cutoff: int = 64) -> str:
    """Text of the numpy module for ``scheme`` (see module docstring)."""
    info = describe(scheme)
    n, m, p = scheme.format.dims
    body = "\n".join("    " + line for line in one_level_body(program))
    plan = plan_buffers(program, schedule(program, lazy=False))
    workspace = (plan.count["A"], plan.count["B"], plan.count["C"])
    return _TEMPLATE.format(
        title=f"Fast matrix multiplication: {info['name']} ({scheme.format}, rank {scheme.rank}), numpy.",
        fmt=scheme.format, n=n, m=m, p=p, rank=scheme.rank, naive=scheme.format.naive_rank,
        ring=info["ring"], source=info["source"], plain=program.plain_additions, adds=program.additions,
        command=command or "(library call)", cutoff=cutoff, rational=scheme.denominator != 1, body=body,
        workspace=workspace,
    )
