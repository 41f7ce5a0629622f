"""The ``python`` target: a self-contained numpy module with ``matmul(A, B)``.

The generated one-level step splits A, B and C into views, evaluates the straight-line
program with in-place ufuncs into buffers that are planned by liveness and kept between
calls (``np.add(x, y, out=buf)``, ``np.matmul(x, y, out=buf)``), and writes the entries of
C into views of the output. Dimensions that the format does not divide are peeled: the
divisible part goes through the scheme, the rest through ``@``.

Dtypes: floats and complex run the program in their own dtype; integers and object arrays
run its integer rescaling (:func:`discover.integral.integral_program`) when it has
fractions, with an exact division by the common denominator after each level, in int64
when :func:`discover.integral.intermediate_bound` rules out overflow and with Python
integers otherwise. The generated module's docstring states the policy.
"""
from __future__ import annotations

import textwrap
from fractions import Fraction
from typing import Any

import numpy as np

from ..integral import integral_program, side_norms
from ..scheme import Scheme
from ..slp import Program, Step
from .header import describe, level_helpers
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

    Products recurse through ``_mul(..., exact)``, so that the exact integer variant of the
    program (:func:`discover.integral.integral_program`) stays exact all the way down.

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
            lines.append(f"_mul({full[prod.left]}, {full[prod.right]}, {full[prod.name]}, depth - 1, cutoff, exact)  # {prod.name}")
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
``cutoff`` in any dimension use ``A @ B``. With the default cutoff, A must have at least
{n}*{cutoff} rows and {m}*{cutoff} columns and B {p}*{cutoff} columns for the scheme to run:
pass ``cutoff=1`` to force it. ``applied_levels(N, K, P, levels, cutoff)`` says how many
levels a call applies. Work buffers are kept between calls per thread;
``clear_workspace()`` frees them. With numba installed, float and complex arrays run fused
multi-threaded kernels for the additions (``BACKEND = "fused"``); without it, or with
``BACKEND = "numpy"``, the numpy code below runs.

Dtypes: the result has the dtype of ``A @ B`` (numpy's promotion, ``np.result_type``).
* Integers: exactly ``A @ B``, its wrap-around on overflow included.
  {int_note}
* float16, float32, float64, complex: computed in that dtype (rounding errors grow with
  the levels; ``strassen export`` reports the measured growth).
* Object arrays (Python ints, Fractions): exact.
* Booleans and other dtypes: refused with a TypeError.
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
#: Whether the program has fractions (integer and object inputs then run its integer rescaling).
RATIONAL = {rational}
#: The integer rescaling's outputs are DENOMINATOR times the blocks of C.
DENOMINATOR = {denominator}
#: Growth of the integer program's A side, B side and C side (bounds its intermediate values).
GROWTH = {growth}
DEFAULT_CUTOFF = {cutoff}
#: Bytes per array and row chunk in the linear phases (fits the chunk's arrays in cache).
CHUNK_BYTES = 1 << 17
#: Threads for the additions (numpy ufuncs release the GIL); the products use BLAS threads.
THREADS = 1

_INT64_MAX = (1 << 63) - 1
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


def _one_level(A, B, C, depth, cutoff, exact):
    """C = A @ B by one level of the scheme; dimensions divisible by the format."""
{body}


{exact_body}

def _divide_object(x):
    return x // DENOMINATOR if isinstance(x, (int, np.integer)) else x / DENOMINATOR


def _divide(C):
    """C /= DENOMINATOR in place, exactly (every entry is a multiple of it)."""
    if C.dtype == object:
        C[...] = np.frompyfunc(_divide_object, 1, 1)(C)
    else:
        np.floor_divide(C, DENOMINATOR, out=C)

# ---------------------------------------------------------------- optional fused backend (numba)
#: Nonzero coefficients per product: (block rows, block columns, values) of U[k] and of V[k].
_LEFT = {left}
_RIGHT = {right}
#: The C side in CSR form over the blocks of C (row-major): ptr, product index, coefficient.
_C_PTR, _C_K, _C_COEF = {cside}
#: "fused" when numba is installed: one multi-threaded pass per operand sum and one for all of C,
#: BLAS products (float and complex arrays); "numpy" otherwise. Set to "numpy" to force the fallback.
BACKEND = "numpy"
#: The fused kernels run for blocks of at least this many entries (numba compiles them on first use).
FUSED_MIN_BLOCK = 1 << 14
try:
    import numba as _nb
except ImportError:  # the numpy-only fallback
    _nb = None
else:
    BACKEND = "fused"

    @_nb.njit(parallel=True, nogil=True, cache=False)
    def _combine(X, rows, cols, bi, bj, coef, out):
        for r in _nb.prange(rows):
            r0 = bi[0] * rows + r
            c0 = bj[0] * cols
            a = coef[0]
            for c in range(cols):
                out[r, c] = a * X[r0, c0 + c]
            for t in range(1, coef.shape[0]):
                rt = bi[t] * rows + r
                ct = bj[t] * cols
                a = coef[t]
                for c in range(cols):
                    out[r, c] += a * X[rt, ct + c]

    @_nb.njit(parallel=True, nogil=True, cache=False)
    def _gather(M, C, rows, cols, nbp, ptr, ks, coef):
        for idx in _nb.prange((ptr.shape[0] - 1) * rows):
            b = idx // rows
            r = idx - b * rows
            i = b // nbp
            cr = i * rows + r
            cc = (b - i * nbp) * cols
            if ptr[b] == ptr[b + 1]:
                for c in range(cols):
                    C[cr, cc + c] = 0
                continue
            k = ks[ptr[b]]
            a = coef[ptr[b]]
            for c in range(cols):
                C[cr, cc + c] = a * M[k, r, c]
            for t in range(ptr[b] + 1, ptr[b + 1]):
                k = ks[t]
                a = coef[t]
                for c in range(cols):
                    C[cr, cc + c] += a * M[k, r, c]


def _tables(dtype):
    key = ("tables", dtype.str)
    found = _work_tables.get(key)
    if found is None:
        side = lambda s: [(np.array(bi, np.int64), np.array(bj, np.int64), np.array(c, dtype)) for bi, bj, c in s]
        found = _work_tables[key] = (side(_LEFT), side(_RIGHT), np.array(_C_PTR, np.int64),
                                     np.array(_C_K, np.int64), np.array(_C_COEF, dtype))
    return found


_work_tables = {{}}


def _operand(X, side, rows, cols, work):
    bi, bj, coef = side
    if len(coef) == 1 and coef[0] == 1:  # a single block: the product reads it in place
        i, j = int(bi[0]), int(bj[0])
        return X[i * rows:(i + 1) * rows, j * cols:(j + 1) * cols]
    _combine(X, rows, cols, bi, bj, coef, work)
    return work


def _fused_one_level(A, B, C, depth, cutoff):
    """One level with fused kernels: S_k and T_k in one pass each, C in one pass."""
    h, w, q = A.shape[0] // {n}, A.shape[1] // {m}, B.shape[1] // {p}
    left, right, ptr, ks, coef = _tables(C.dtype)
    S = _work(depth, "S", 1, (h, w), C.dtype)[0]
    T = _work(depth, "T", 1, (w, q), C.dtype)[0]
    M = _work(depth, "M", 1, ({rank}, h, q), C.dtype)[0]
    for k in range({rank}):
        _mul(_operand(A, left[k], h, w, S), _operand(B, right[k], w, q, T), M[k], depth - 1, cutoff)
    _gather(M, C, h, q, {p}, ptr, ks, coef)


def _mul(A, B, C, depth, cutoff, exact=False):
    """C = A @ B (C preallocated) with ``depth`` levels of the scheme; ``exact``: its integer program."""
    N, K = A.shape
    P = B.shape[1]
    if depth <= 0 or N // {n} < cutoff or K // {m} < cutoff or P // {p} < cutoff:
        np.matmul(A, B, out=C)
        return
    N1, K1, P1 = N - N % {n}, K - K % {m}, P - P % {p}
    if exact:
        _one_level_exact(A[:N1, :K1], B[:K1, :P1], C[:N1, :P1], depth, cutoff, exact)
        if DENOMINATOR != 1:
            _divide(C[:N1, :P1])
    elif BACKEND == "fused" and C.dtype.kind in "fc" and (N // {n}) * (P // {p}) >= FUSED_MIN_BLOCK:
        _fused_one_level(A[:N1, :K1], B[:K1, :P1], C[:N1, :P1], depth, cutoff)
    else:
        _one_level(A[:N1, :K1], B[:K1, :P1], C[:N1, :P1], depth, cutoff, exact)
    if K1 < K:
        C[:N1, :P1] += A[:N1, K1:] @ B[K1:, :P1]
    if P1 < P:
        np.matmul(A[:N1], B[:, P1:], out=C[:N1, P1:])
    if N1 < N:
        np.matmul(A[N1:], B, out=C[N1:])


{level_helpers}

def _wrap(C, dtype):
    """Python integers reduced the way a fixed-width integer dtype wraps them."""
    bits = 8 * dtype.itemsize
    if dtype.kind == "u":
        return C % (1 << bits)
    half = 1 << (bits - 1)
    return (C + half) % (1 << bits) - half


def matmul(A, B, levels=1, cutoff=DEFAULT_CUTOFF, out=None):
    """A @ B for 2-D arrays with ``levels`` recursion levels of the scheme.

    Parameters
    ----------
    A, B : array_like
        Shapes (N, K) and (K, P).
    levels : int
        Recursion levels (0 is plain ``A @ B``).
    cutoff : int
        Below this block size (in any dimension) blocks are multiplied with ``@``; 1 forces
        the scheme down to single entries.
    out : numpy.ndarray, optional
        Preallocated (N, P) result of the result dtype.

    Returns
    -------
    numpy.ndarray
        ``A @ B`` in the dtype ``np.result_type(A, B)`` (see the module docstring).
    """
    A = np.asarray(A)
    B = np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"matmul needs (N, K) and (K, P) arrays, got {{A.shape}} and {{B.shape}}")
    dtype = np.result_type(A, B)
    if dtype.kind not in "iufcO":
        raise TypeError(f"matmul multiplies integer, floating, complex or object arrays, not {{dtype}}")
    shape = (A.shape[0], B.shape[1])
    if out is None:
        out = np.empty(shape, dtype)
    elif out.shape != shape or out.dtype != dtype:
        raise ValueError(f"out must be a {{shape}} array of dtype {{dtype}}, got {{out.shape}} {{out.dtype}}")
    levels, cutoff = int(levels), max(1, int(cutoff))
    exact = RATIONAL and dtype.kind in "iuO"
    if exact and DENOMINATOR != 1 and dtype.kind in "iu" and A.size and B.size and levels > 0:
        # Integer rescaling with exact divisions: int64 when nothing can overflow, else Python ints.
        alpha = max(int(A.max()), -int(A.min()))
        beta = max(int(B.max()), -int(B.min()))
        work = np.int64 if intermediate_bound(alpha, beta, A.shape[1], levels) <= _INT64_MAX else object
        C = np.empty(shape, work)
        _mul(A.astype(work), B.astype(work), C, levels, cutoff, True)
        out[...] = (_wrap(C, dtype) if work is object else C).astype(dtype)
        return out
    _mul(A.astype(dtype, copy=False), B.astype(dtype, copy=False), out, levels, cutoff, exact)
    return out
'''


def generate_numpy(scheme: Scheme, program: Program, command: str, cutoff: int = 64) -> str:
    """Text of the numpy module for ``scheme`` (see module docstring)."""
    info = describe(scheme)
    n, m, p = scheme.format.dims
    body = "\n".join("    " + line for line in one_level_body(program))
    exact, denominator = integral_program(program)
    rational = exact is not program
    if rational:
        exact_body = "\n".join(
            ["def _one_level_exact(A, B, C, depth, cutoff, exact):",
             '    """One level of the integer program (outputs DENOMINATOR times the blocks of C)."""']
            + ["    " + line for line in one_level_body(exact)]
        ) + "\n"
        int_note = (f"The scheme has fractions: integer inputs run an integer rescaling of the program whose "
                    f"outputs are {denominator} times the blocks of C, divided exactly at each level, in int64 "
                    f"when ``intermediate_bound`` shows that nothing can overflow, else with Python integers.")
        if denominator == 1:
            int_note = "The scheme has fractions: integer inputs run an integer rescaling of the program."
    else:
        exact_body = "_one_level_exact = _one_level  # integer coefficients: one program serves every dtype\n"
        int_note = "The scheme has integer coefficients: integers run it in their own dtype."
    plan = plan_buffers(program, schedule(program, lazy=False))
    workspace = (plan.count["A"], plan.count["B"], plan.count["C"])
    left, right, cside = _fused_tables(scheme)
    return _TEMPLATE.format(
        title=f"Fast matrix multiplication: {info['name']} ({scheme.format}, rank {scheme.rank}), numpy.",
        fmt=scheme.format, n=n, m=m, p=p, rank=scheme.rank, naive=scheme.format.naive_rank,
        ring=info["ring"], source=info["source"], plain=program.plain_additions, adds=program.additions,
        command=command or "(library call)", cutoff=cutoff, rational=rational, body=body,
        workspace=workspace, exact_body=exact_body, denominator=denominator, growth=side_norms(exact),
        int_note="\n  ".join(textwrap.wrap(int_note, 86)),
        left=left, right=right, cside=cside,
   
        level_helpers=level_helpers(n, m, p),
    )


def _fused_tables(scheme: Scheme) -> tuple[str, str, str]:
    """Python literals of the fused backend's coefficient tables (floats: exact for the schemes' dyadic
    and small-denominator coefficients as far as the dtype allows, like the numpy code's literals)."""
    U, V, W = (np.asarray(f, dtype=object) for f in scheme.factors)
    n, m, p = scheme.format.dims

    def side(F: np.ndarray) -> str:
        rows = []
        for k in range(scheme.rank):
            bi, bj = np.nonzero(F[k] != 0)
            rows.append((bi.tolist(), bj.tolist(), [float(Fraction(F[k][i, j])) for i, j in zip(bi, bj)]))
        return repr(rows)

    ptr, ks, coef = [0], [], []
    for i in range(n):
        for l in range(p):
            for k in range(scheme.rank):
                if W[k, i, l] != 0:
                    ks.append(k)
                    coef.append(float(Fraction(W[k, i, l])))
            ptr.append(len(ks))
    return side(U), side(V), repr((ptr, ks, coef))
