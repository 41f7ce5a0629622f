"""The ``c`` target: a C99 file with one level of the scheme and a recursive driver, for
double, float and int64_t matrices.

``int NAME(int N, int K, int P, const double *A, int lda, const double *B, int ldb,
double *C, int ldc, int levels, int cutoff)`` computes C = A·B for row-major matrices with
leading dimensions; ``NAME_f32`` does the same on ``float`` and ``NAME_i64`` on
``int64_t``. Dimensions the format does not divide are peeled, blocks below ``cutoff`` use
a plain loop. Each returns 0, or -1 when a work buffer cannot be allocated.

The int64 variant is exact: its additions and products run in unsigned 64-bit arithmetic
(defined wrap-around), so an integer scheme gives ``A·B`` modulo 2^64, i.e. exactly ``A·B``
whenever that fits. A scheme with fractions runs the integer rescaling of its program
(:func:`discover.integral.integral_program`) with an exact division after each level; it
first bounds every intermediate value (:func:`discover.integral.intermediate_bound`) and
returns -2, computing nothing, when the bound exceeds 2^62. There is no complex variant.
Compiles cleanly with ``gcc -O2 -Wall -Werror``.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from ..integral import integral_program, side_norms
from ..scheme import Scheme
from ..slp import Program, Step
from .header import describe
from .plan import plan_buffers, schedule

#: (function-name suffix, C type, helper suffix) of each variant.
VARIANTS = (("", "double", "f64"), ("_f32", "float", "f32"), ("_i64", "int64_t", "i64"))


def _literal_f64(c: Any) -> str:
    f = Fraction(c)
    return f"{int(f)}.0" if f.denominator == 1 else f"({f.numerator}.0 / {f.denominator}.0)"


def _literal_f32(c: Any) -> str:
    f = Fraction(c)
    return f"{int(f)}.0f" if f.denominator == 1 else f"({f.numerator}.0f / {f.denominator}.0f)"


def _literal_i64(c: Any) -> str:
    f = Fraction(c)
    if f.denominator != 1:
        raise ValueError("the int64 variant needs an integer program")
    return f"INT64_C({int(f)})"


_LITERALS: dict[str, Callable[[Any], str]] = {"f64": _literal_f64, "f32": _literal_f32, "i64": _literal_i64}


def function_name(scheme: Scheme) -> str:
    """``mm_2x2x2_r7``: the driver's name (of the double variant; the others add a suffix)."""
    n, m, p = scheme.format.dims
    return f"mm_{n}x{m}x{p}_r{scheme.rank}"


def _one_level(program: Program, name: str, ctype: str, h: str) -> list[str]:
    """The C function running one level of ``program`` on ``ctype`` blocks (helpers suffixed ``h``)."""
    literal = _LITERALS[h]
    n, m, p = program.scheme_format.dims
    ops = schedule(program)
    plan = plan_buffers(program, ops, chunked=False)
    ref: dict[str, tuple[str, str, str]] = {}  # var -> (pointer, leading dim, shape kind)
    for i in range(n):
        for j in range(m):
            ref[program.a_inputs[i * m + j]] = (f"(A + (size_t){i} * h * lda + (size_t){j} * w)", "lda", "A")
    for j in range(m):
        for l in range(p):
            ref[program.b_inputs[j * p + l]] = (f"(B + (size_t){j} * w * ldb + (size_t){l} * q)", "ldb", "B")
    outputs = {}
    for i in range(n):
        for l in range(p):
            outputs[program.outputs[i * p + l]] = (f"(C + (size_t){i} * h * ldc + (size_t){l} * q)", "ldc", "C")
    dims = {"A": ("h", "w"), "B": ("w", "q"), "C": ("h", "q")}
    counts = {k: max(v, 1) for k, v in plan.count.items()}
    body = [
        f"int {name}_one_level(int h, int w, int q, const {ctype} *A, int lda, const {ctype} *B, int ldb,",
        f"        {ctype} *C, int ldc, int levels, int cutoff)",
        "{",
        f"    {ctype} *wA[{counts['A']}] = {{0}}, *wB[{counts['B']}] = {{0}}, *wC[{counts['C']}] = {{0}};",
        "    int ok = 1, k;",
        "#ifdef STRASSEN_TRACE",
        f"    STRASSEN_TRACE(\"{name}_one_level\");  /* instrumentation hook, off unless defined */",
        "#endif",
    ]
    for kind in "ABC":
        r, c = dims[kind]
        body.append(
            f"    for (k = 0; k < {plan.count[kind]}; k++) {{ w{kind}[k] = ({ctype} *)malloc(sizeof({ctype}) * (size_t){r} * (size_t){c}); ok = ok && w{kind}[k]; }}"
        )
    body.append("    if (ok) {")

    def where(var: str) -> tuple[str, str, str]:
        if var in outputs:
            return outputs[var]
        kind, idx = plan.slot[var]
        return (f"w{kind}[{idx}]", dims[kind][1], kind)

    def emit(step: Step) -> None:
        ptr, ld, kind = where(step.target)
        r, c = dims[kind]
        terms = [(ref[v], coef) for v, coef in step.terms]
        (x0, c0), rest = terms[0], terms[1:]
        body.append(f"        /* {step.text()} */")
        if rest:
            (x1, c1), rest = rest[0], rest[1:]
            body.append(f"        lin2_{h}({r}, {c}, {ptr}, {ld}, {x0[0]}, {x0[1]}, {literal(c0)}, {x1[0]}, {x1[1]}, {literal(c1)});")
        else:
            body.append(f"        lin2_{h}({r}, {c}, {ptr}, {ld}, {x0[0]}, {x0[1]}, {literal(c0)}, 0, 0, {literal(0)});")
        for (x, ldx, _), coef in rest:
            body.append(f"        axpy_{h}({r}, {c}, {ptr}, {ld}, {x}, {ldx}, {literal(coef)});")
        ref[step.target] = (ptr, ld, kind)

    for op in ops:
        for step in op.steps:
            emit(step)
        if op.product is not None:
            prod = op.product
            ptr, ld, kind = where(prod.name)
            (lp, lld, _), (rp, rld, _) = ref[prod.left], ref[prod.right]
            body.append(f"        if (ok) ok = {name}_rec(h, w, q, {lp}, {lld}, {rp}, {rld}, {ptr}, {ld}, levels - 1, cutoff) == 0;  /* {prod.name} */")
            ref[prod.name] = (ptr, ld, kind)
    body.append("    }")
    for kind in "ABC":
        body.append(f"    for (k = 0; k < {plan.count[kind]}; k++) free(w{kind}[k]);")
    body += ["    return ok ? 0 : -1;", "}"]
    return body


_HEAD = '''/*
 * {title}
 *
 * Format {fmt}, rank {rank} (naive {naive}), ring {ring}, source: {source}.
 * Additions per level: {plain} written plainly, {adds} after common-subexpression elimination.
 *
 * Generated by strassen-discover with: {command}
 *
 * int {name}(int N, int K, int P, const double *A, int lda, const double *B, int ldb,
 *            double *C, int ldc, int levels, int cutoff);
 * computes C = A*B (row-major, leading dimensions lda, ldb, ldc) with `levels` levels of
 * the scheme, peeling dimensions that {n}, {m}, {p} do not divide; blocks smaller than
 * `cutoff` use a plain loop (cutoff 1 forces the scheme down to single entries).
 * {name}_f32 does the same on float, {name}_i64 on int64_t; {name}*_one_level(...) is
 * one level on divisible blocks. They return 0, or -1 when a work buffer cannot be allocated.
 *
 * {name}_i64 is exact: additions and products wrap around in unsigned 64-bit arithmetic,
 * so the result is A*B modulo 2^64 (exactly A*B whenever it fits in int64).
 * {int_note}
 * There is no complex variant. Defining the macro STRASSEN_TRACE(name) at compile time
 * calls it on entry to every one-level step (instrumentation; tests count calls with it).
 *
 * BLAS leaves: compiled with -DSTRASSEN_BLAS, the double and float variants multiply the
 * blocks below the last level with cblas_dgemm / cblas_sgemm (row-major, leading dimensions,
 * beta = 1 where a peeled product accumulates) instead of the plain loop. The symbol names and
 * the BLAS integer type can be changed for prefixed or 64-bit-integer builds of OpenBLAS:
 * -DSTRASSEN_DGEMM=scipy_cblas_dgemm -DSTRASSEN_SGEMM=... -DSTRASSEN_BLAS_INT="long long".
 * discover.codegen.cbuild.build_shared (strassen export --to c --build) does all of this.
 */
#include <stdint.h>
#include <stdlib.h>

#ifdef STRASSEN_BLAS
#ifndef STRASSEN_BLAS_INT
#define STRASSEN_BLAS_INT int
#endif
#ifndef STRASSEN_DGEMM
#define STRASSEN_DGEMM cblas_dgemm
#endif
#ifndef STRASSEN_SGEMM
#define STRASSEN_SGEMM cblas_sgemm
#endif
/* CBLAS: order 101 = row-major, transpose 111 = none */
void STRASSEN_DGEMM(int order, int transa, int transb, STRASSEN_BLAS_INT m, STRASSEN_BLAS_INT n,
                    STRASSEN_BLAS_INT k, double alpha, const double *a, STRASSEN_BLAS_INT lda, const double *b,
                    STRASSEN_BLAS_INT ldb, double beta, double *c, STRASSEN_BLAS_INT ldc);
void STRASSEN_SGEMM(int order, int transa, int transb, STRASSEN_BLAS_INT m, STRASSEN_BLAS_INT n,
                    STRASSEN_BLAS_INT k, float alpha, const float *a, STRASSEN_BLAS_INT lda, const float *b,
                    STRASSEN_BLAS_INT ldb, float beta, float *c, STRASSEN_BLAS_INT ldc);
#endif

'''

_FLOAT_HELPERS = '''/* out = cx*x + cy*y (y may be null) */
static inline void lin2_{h}(int r, int c, {t} *out, int ldo, const {t} *x, int ldx, {t} cx,
                          const {t} *y, int ldy, {t} cy)
{{
    int i, j;
    for (i = 0; i < r; i++) {{
        {t} *o = out + (size_t)i * ldo;
        const {t} *xi = x + (size_t)i * ldx;
        if (y) {{
            const {t} *yi = y + (size_t)i * ldy;
            for (j = 0; j < c; j++) o[j] = cx * xi[j] + cy * yi[j];
        }} else {{
            for (j = 0; j < c; j++) o[j] = cx * xi[j];
        }}
    }}
}}

/* out += cx*x */
static inline void axpy_{h}(int r, int c, {t} *out, int ldo, const {t} *x, int ldx, {t} cx)
{{
    int i, j;
    for (i = 0; i < r; i++) {{
        {t} *o = out + (size_t)i * ldo;
        const {t} *xi = x + (size_t)i * ldx;
        for (j = 0; j < c; j++) o[j] += cx * xi[j];
    }}
}}

/* C = A*B (accumulate = 0) or C += A*B (accumulate = 1), plain loops */
static inline void plain_mm_{h}(int N, int K, int P, const {t} *A, int lda, const {t} *B, int ldb,
                              {t} *C, int ldc, int accumulate)
{{
    int i, k, l;
#ifdef STRASSEN_BLAS
    if (N > 0 && K > 0 && P > 0) {{
        {gemm}(101, 111, 111, N, P, K, 1, A, lda, B, ldb, accumulate ? 1 : 0, C, ldc);
        return;
    }}
#endif
    for (i = 0; i < N; i++) {{
        {t} *ci = C + (size_t)i * ldc;
        if (!accumulate)
            for (l = 0; l < P; l++) ci[l] = 0;
        for (k = 0; k < K; k++) {{
            const {t} a = A[(size_t)i * lda + k];
            const {t} *bk = B + (size_t)k * ldb;
            for (l = 0; l < P; l++) ci[l] += a * bk[l];
        }}
    }}
}}

'''

_INT_HELPERS = '''/* int64 helpers: unsigned arithmetic, so that overflow wraps (defined) instead of being undefined */
#define U64(x) ((uint64_t)(x))

/* out = cx*x + cy*y (y may be null) */
static inline void lin2_i64(int r, int c, int64_t *out, int ldo, const int64_t *x, int ldx, int64_t cx,
                            const int64_t *y, int ldy, int64_t cy)
{
    int i, j;
    for (i = 0; i < r; i++) {
        int64_t *o = out + (size_t)i * ldo;
        const int64_t *xi = x + (size_t)i * ldx;
        if (y) {
            const int64_t *yi = y + (size_t)i * ldy;
            for (j = 0; j < c; j++) o[j] = (int64_t)(U64(cx) * U64(xi[j]) + U64(cy) * U64(yi[j]));
        } else {
            for (j = 0; j < c; j++) o[j] = (int64_t)(U64(cx) * U64(xi[j]));
        }
    }
}

/* out += cx*x */
static inline void axpy_i64(int r, int c, int64_t *out, int ldo, const int64_t *x, int ldx, int64_t cx)
{
    int i, j;
    for (i = 0; i < r; i++) {
        int64_t *o = out + (size_t)i * ldo;
        const int64_t *xi = x + (size_t)i * ldx;
        for (j = 0; j < c; j++) o[j] = (int64_t)(U64(o[j]) + U64(cx) * U64(xi[j]));
    }
}

/* C = A*B (accumulate = 0) or C += A*B (accumulate = 1), plain loops */
static inline void plain_mm_i64(int N, int K, int P, const int64_t *A, int lda, const int64_t *B, int ldb,
                                int64_t *C, int ldc, int accumulate)
{
    int i, k, l;
    for (i = 0; i < N; i++) {
        int64_t *ci = C + (size_t)i * ldc;
        if (!accumulate)
            for (l = 0; l < P; l++) ci[l] = 0;
        for (k = 0; k < K; k++) {
            const uint64_t a = U64(A[(size_t)i * lda + k]);
            const int64_t *bk = B + (size_t)k * ldb;
            for (l = 0; l < P; l++) ci[l] = (int64_t)(U64(ci[l]) + a * U64(bk[l]));
        }
    }
}

/* C /= d for an N x P block whose entries are multiples of d (exact) */
static inline void divide_i64(int N, int P, int64_t *C, int ldc, int64_t d)
{
    int i, l;
    for (i = 0; i < N; i++)
        for (l = 0; l < P; l++) C[(size_t)i * ldc + l] /= d;
}

/* Largest |entry| of an N x K matrix, as a double (no overflow for INT64_MIN) */
static inline double max_abs_i64(int N, int K, const int64_t *A, int lda)
{
    double best = 0.0, v;
    int i, j;
    for (i = 0; i < N; i++)
        for (j = 0; j < K; j++) {
            v = (double)A[(size_t)i * lda + j];
            if (v < 0) v = -v;
            if (v > best) best = v;
        }
    return best;
}

'''

_PROTOTYPES = '''int {name}(int N, int K, int P, const {t} *A, int lda, const {t} *B, int ldb,
        {t} *C, int ldc, int levels, int cutoff);
/* One level: C = A*B for an ({n}h x {m}w) A and a ({m}w x {p}q) B; products recurse. */
int {name}_one_level(int h, int w, int q, const {t} *A, int lda, const {t} *B, int ldb,
        {t} *C, int ldc, int levels, int cutoff);
static int {name}_rec(int N, int K, int P, const {t} *A, int lda, const {t} *B, int ldb,
        {t} *C, int ldc, int levels, int cutoff);

'''

# The fringe of a product whose sizes are not multiples of the block: plain products of the rows,
# columns and inner slice left over (shared with the alternative-basis driver of altbasis.py).
FRINGE = '''    if (K1 < K)
        plain_mm_{h}(N1, K - K1, P1, A + K1, lda, B + (size_t)K1 * ldb, ldb, C, ldc, 1);
    if (P1 < P)
        plain_mm_{h}(N1, K, P - P1, A, lda, B + P1, ldb, C + P1, ldc, 0);
    if (N1 < N)
        plain_mm_{h}(N - N1, K, P, A + (size_t)N1 * lda, lda, B, ldb, C + (size_t)N1 * ldc, ldc, 0);
'''

_DRIVER = '''
static int {name}_rec(int N, int K, int P, const {t} *A, int lda, const {t} *B, int ldb,
        {t} *C, int ldc, int levels, int cutoff)
{{
    int N1, K1, P1;
    if (cutoff < 1)
        cutoff = 1;
    if (levels <= 0 || N / {n} < cutoff || K / {m} < cutoff || P / {p} < cutoff) {{
        plain_mm_{h}(N, K, P, A, lda, B, ldb, C, ldc, 0);
        return 0;
    }}
    N1 = N - N % {n};
    K1 = K - K % {m};
    P1 = P - P % {p};
    if ({name}_one_level(N1 / {n}, K1 / {m}, P1 / {p}, A, lda, B, ldb, C, ldc, levels, cutoff) != 0)
        return -1;
{divide}{fringe}    return 0;
}}

int {name}(int N, int K, int P, const {t} *A, int lda, const {t} *B, int ldb,
        {t} *C, int ldc, int levels, int cutoff)
{{
{check}    return {name}_rec(N, K, P, A, lda, B, ldb, C, ldc, levels, cutoff);
}}
'''

_BOUND = '''/* Bound on every value of the integer program (discover.integral.intermediate_bound), in doubles */
static double {name}_bound(double alpha, double beta, int K, int levels)
{{
    const double la = {la}.0, lb = {lb}.0, gc = {gc}.0;
    double best = (double)K * alpha * beta, t;
    while (levels-- > 0 && K / {m} >= 1) {{
        t = gc * (double)(K / {m}) * la * alpha * lb * beta;
        if (t > best) best = t;
        if (la * alpha > best) best = la * alpha;
        if (lb * beta > best) best = lb * beta;
        alpha *= la;
        beta *= lb;
        K /= {m};
        t = (double)K * alpha * beta;
        if (t > best) best = t;
    }}
    return best;
}}

'''

_CHECK = '''    if (N > 0 && K > 0 && P > 0 && levels > 0
        && {name}_bound(max_abs_i64(N, K, A, lda), max_abs_i64(K, P, B, ldb), K, levels) > 4611686018427387904.0)
        return -2;  /* the integer evaluation could overflow int64 (bound above 2^62) */
'''


def generate_c(scheme: Scheme, program: Program, command: str) -> str:
    """Text of the C99 file for ``scheme``: double, float and int64_t variants."""
    info = describe(scheme)
    n, m, p = scheme.format.dims
    name = function_name(scheme)
    exact, denominator = integral_program(program)
    if denominator != 1:
        int_note = (f"The scheme has fractions: {name}_i64 runs an integer rescaling of the program whose outputs are "
                    f"{denominator} times the blocks of C, divided exactly after each level, and returns -2 "
                    "(computing nothing) when a bound on its intermediate values exceeds 2^62.")
    elif exact is not program:
        int_note = f"The scheme has fractions: {name}_i64 runs an integer rescaling of its program."
    else:
        int_note = "The scheme has integer coefficients: every variant runs the same program."
    fields = dict(
        title=f"Fast matrix multiplication: {info['name']} ({scheme.format}, rank {scheme.rank}), C99.",
        fmt=scheme.format, n=n, m=m, p=p, rank=scheme.rank, naive=scheme.format.naive_rank, ring=info["ring"],
        source=info["source"].replace("*/", "* /"), plain=program.plain_additions, adds=program.additions,
        command=(command or "(library call)").replace("*/", "* /"), name=name,
        int_note="\n * ".join(_wrap(int_note, 88)),
    )
    parts = [_HEAD.format(**fields)]
    for suffix, ctype, h in VARIANTS:
        gemm = "STRASSEN_DGEMM" if h == "f64" else "STRASSEN_SGEMM"
        parts.append(_FLOAT_HELPERS.format(h=h, t=ctype, gemm=gemm) if h != "i64" else _INT_HELPERS)
    for suffix, ctype, h in VARIANTS:
        parts.append(_PROTOTYPES.format(name=name + suffix, t=ctype, n=n, m=m, p=p))
    for suffix, ctype, h in VARIANTS:
        variant = name + suffix
        prog = exact if h == "i64" else program
        parts.append("\n".join(_one_level(prog, variant, ctype, h)) + "\n")
        divide = check = ""
        if h == "i64" and denominator != 1:
            la, lb, gc = side_norms(exact)
            parts.append(_BOUND.format(name=variant, la=la, lb=lb, gc=gc, m=m))
            divide = f"    divide_i64(N1, P1, C, ldc, INT64_C({denominator}));\n"
            check = _CHECK.format(name=variant)
        parts.append(_DRIVER.format(name=variant, t=ctype, h=h, n=n, m=m, p=p, divide=divide, check=check,
                                     fringe=FRINGE.format(h=h)))
    return "".join(parts)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)
