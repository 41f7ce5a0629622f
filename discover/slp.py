"""Straight-line programs: a scheme compiled into steps, with fewer additions.

A :class:`Program` evaluates a scheme in three phases:

1. the A side: temporaries ``s1, s2, ...`` and the left operand of each product,
2. the B side: temporaries ``t1, t2, ...`` and the right operand of each product,
3. the products ``m1 ... mr`` and the C side: temporaries ``u1, ...`` and the entries of C.

Every step is a linear combination ``target = Σ coef·var`` of earlier variables. With
``eliminate=True`` the linear forms of each phase share subexpressions, found greedily: the
most frequent signed pair ``x + ρ·y`` (counted over all forms of the phase) becomes a new
temporary until no pair occurs twice. Winograd's variant of Strassen's scheme compiles from
24 additions to the known 15. Which of several equally frequent pairs goes first changes what
is left to share, so each phase is compiled ``tries`` times (the first try breaks ties by
variable order, the others at random with fixed seeds: the result is reproducible), and
``tries`` times more through its transpose (Tellegen's principle, :func:`transposed_elimination`:
the greedy pass on ``Mᵀ`` shares other pairs), and keeps its cheapest program. The phases are
independent, so the best of each is combined: for 4x5x5 r76 the eight direct tries turn 302
additions into 300, and the transposed ones into 297; 4x4x4 r49 163 → 159.

Every compiled program is checked exactly against its scheme (:func:`check_program`): it
is evaluated on unit vectors with exact integer arithmetic and the bilinear map it computes
must equal the scheme's tensor.
"""
from __future__ import annotations

import heapq
import math
import operator
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np

from .errors import SchemeError
from .formats import Format
from .names import entry_name
from .scheme import Scheme
from .tensor import reconstruct

Terms = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Step:
    """One step ``target = Σ coef·var`` of a straight-line program.

    Attributes
    ----------
    target : str
        Name of the variable defined.
    terms : tuple of (str, int | Fraction)
        Earlier variables and their exact coefficients; a term with a positive coefficient
        comes first whenever there is one, so evaluation starts without a negation.
    """

    target: str
    terms: Terms

    @property
    def additions(self) -> int:
        """Additions/subtractions of this step (terms − 1)."""
        return max(len(self.terms) - 1, 0)

    def text(self) -> str:
        """``s1 = a21 + a22``."""
        return f"{self.target} = {terms_text(self.terms)}"


@dataclass(frozen=True)
class Product:
    """``name = left · right``: one multiplication of the program."""

    name: str
    left: str
    right: str
    index: int  # 0-based index of the scheme's product


@dataclass(frozen=True)
class Program:
    """A scheme as a straight-line program (see module docstring).

    Attributes
    ----------
    scheme_format : Format
        The format of the compiled scheme.
    rank : int
        The scheme's rank (products whose three factors are all nonzero are computed).
    a_inputs, b_inputs : tuple of str
        Names of the blocks of A (n·m) and B (m·p), row-major.
    a_steps, b_steps, c_steps : tuple of Step
        Steps of the three phases in order; ``c_steps`` ends with the entries of C.
    products : tuple of Product
        The multiplications, between the B and the C phase.
    outputs : tuple of str
        Names of the entries of C (n·p), row-major; each is the target of a step.
    plain_additions : int
        The scheme's additions written plainly (:attr:`Scheme.additions`).
    eliminated : bool
        Whether common subexpressions were shared.
    """

    scheme_format: Format
    rank: int
    a_inputs: tuple[str, ...]
    b_inputs: tuple[str, ...]
    a_steps: tuple[Step, ...]
    b_steps: tuple[Step, ...]
    products: tuple[Product, ...]
    c_steps: tuple[Step, ...]
    outputs: tuple[str, ...]
    plain_additions: int
    eliminated: bool

    @property
    def steps(self) -> tuple[Step, ...]:
        """All linear steps, A side, B side, then C side."""
        return self.a_steps + self.b_steps + self.c_steps

    @property
    def additions(self) -> int:
        """Additions/subtractions the program performs."""
        return sum(s.additions for s in self.steps)

    @property
    def multiplications(self) -> int:
        """Products actually computed (≤ rank; products with a zero factor are dropped)."""
        return len(self.products)

    @property
    def scalar_multiplications(self) -> int:
        """Terms whose coefficient is not ±1 (each costs one scalar multiplication)."""
        return sum(1 for s in self.steps for _, c in s.terms if abs(c) != 1)

    def lines(self) -> list[str]:
        """The program as text, one step or product per line."""
        out = [s.text() for s in self.a_steps + self.b_steps]
        out += [f"{p.name} = {p.left} * {p.right}" for p in self.products]
        out += [s.text() for s in self.c_steps]
        return out

    def evaluate(self, a_blocks: Sequence[Any], b_blocks: Sequence[Any], multiply: Callable[[Any, Any], Any]) -> list[Any]:
        """Run the program on blocks.

        Parameters
        ----------
        a_blocks, b_blocks : sequence
            The n·m blocks of A and the m·p blocks of B, row-major. Any objects with
            ``+``, ``-``, unary ``-`` and multiplication by a scalar (numpy arrays, torch
            tensors, Python ints or Fractions).
        multiply : callable
            ``multiply(x, y)`` computes one product (``x @ y`` for blocks, ``x * y`` for scalars).

        Returns
        -------
        list
            The n·p blocks of C, row-major. Coefficients ±1 are applied as additions and
            subtractions; other coefficients as scalar multiplications, exact for Python
            numbers and object arrays, as floats otherwise.
        """
        n, m, p = self.scheme_format.dims
        if len(a_blocks) != n * m or len(b_blocks) != m * p:
            raise SchemeError(
                f"a {self.scheme_format} program takes {n * m} blocks of A and {m * p} of B, "
                f"got {len(a_blocks)} and {len(b_blocks)}"
            )
        env: dict[str, Any] = dict(zip(self.a_inputs, a_blocks))
        env.update(zip(self.b_inputs, b_blocks))
        for step in self.a_steps + self.b_steps:
            env[step.target] = combine(step.terms, env)
        for prod in self.products:
            env[prod.name] = multiply(env[prod.left], env[prod.right])
        for step in self.c_steps:
            env[step.target] = combine(step.terms, env)
        return [env[name] for name in self.outputs]


# ---------------------------------------------------------------------- evaluation helpers
def _exact_operand(x: Any) -> bool:
    return isinstance(x, (int, Fraction)) or (isinstance(x, np.ndarray) and x.dtype == object)


def scalar_for(x: Any, c: Any) -> Any:
    """The coefficient ``c`` as the scalar to multiply ``x`` by: exact for exact operands, else float."""
    c = Fraction(c)
    if c.denominator == 1:
        return int(c)
    return c if _exact_operand(x) else float(c)


def _scaled(x: Any, c: Any) -> Any:
    if c == 1:
        return x
    if c == -1:
        return -x
    return scalar_for(x, c) * x


def combine(terms: Terms, env: Mapping[str, Any]) -> Any:
    """Evaluate ``Σ coef·env[var]`` with ±1 as plain additions/subtractions."""
    (v0, c0), rest = terms[0], terms[1:]
    acc = _scaled(env[v0], c0)
    for var, c in rest:
        x = env[var]
        if c > 0:
            acc = acc + _scaled(x, c)
        else:
            acc = acc - _scaled(x, -c)
    return acc


def terms_text(terms: Terms) -> str:
    """``a11 - a21 + 2*s1`` for a list of terms."""
    parts = []
    for k, (var, c) in enumerate(terms):
        mag = abs(c)
        body = var if mag == 1 else f"{mag}*{var}"
        if k == 0:
            parts.append(("-" if c < 0 else "") + body)
        else:
            parts.append(("- " if c < 0 else "+ ") + body)
    return " ".join(parts)


# ---------------------------------------------------------------------- compilation
def _exact(value: Any) -> Any:
    f = Fraction(value)
    return int(f) if f.denominator == 1 else f


def _ordered(form: Mapping[str, Any], order: Mapping[str, int]) -> Terms:
    """Terms sorted by variable order, with the first positive term moved to the front."""
    items = sorted(form.items(), key=lambda kv: order[kv[0]])
    for k, (_, c) in enumerate(items):
        if c > 0:
            items.insert(0, items.pop(k))
            break
    return tuple(items)


def _ratio(cx: Any, cy: Any) -> Any:
    """The exact ratio ``cy / cx`` as a cheap dictionary key: an int when it divides, else the
    reduced ``(numerator, denominator)`` with a positive denominator (Fractions hash and compare
    slowly, and dense integer forms make millions of these)."""
    if type(cx) is int and type(cy) is int:
        if cy % cx == 0:
            return cy // cx
        g = math.gcd(cx, cy) * (1 if cx > 0 else -1)
        return (cy // g, cx // g)
    f = Fraction(cy) / cx
    return int(f) if f.denominator == 1 else (f.numerator, f.denominator)


def _value(rho: Any) -> Any:
    """The exact number behind a :func:`_ratio` key (int or Fraction)."""
    return Fraction(*rho) if type(rho) is tuple else rho


def _pairs(form: Mapping[str, Any], order: Mapping[str, int]) -> Iterable[tuple[str, str, Any]]:
    items = sorted(form.items(), key=lambda kv: order[kv[0]])
    for i in range(len(items)):
        x, cx = items[i]
        for j in range(i + 1, len(items)):
            y, cy = items[j]
            yield (x, y, _ratio(cx, cy))


def _pair(order: Mapping[str, int], u: str, cu: Any, v: str, cv: Any) -> tuple[str, str, Any]:
    """The key of the pair of ``u`` and ``v`` as :func:`_pairs` writes it (earlier variable first)."""
    return (u, v, _ratio(cu, cv)) if order[u] < order[v] else (v, u, _ratio(cv, cu))


#: Tries per phase and orientation of :func:`compile_scheme` (see the module docstring). Eight
#: keep most of what 64 find on the catalog's schemes (measured with eight direct tries: 3x4x4
#: r38 139 → 136, 4x4x4 r49 166 → 163, 4x5x5 r76 302 → 300; 64 found one more only on 4x5x5
#: r76 and 5x5x5 r93). With the eight transposed tries beside them the catalog's schemes count
#: 46,804 additions in all instead of 47,217; four of each gave 46,933 (6x6x6 r159 689, not 686).
CSE_TRIES = 8


def eliminate_common(
    forms: list[dict[str, Any]], order: dict[str, int], prefix: str, rng: Optional[random.Random] = None
) -> tuple[list[Step], list[dict[str, Any]]]:
    """Greedy common-subexpression elimination over linear forms.

    Repeatedly takes the signed pair ``x + ρ·y`` that occurs in most forms (ties: the
    earliest variables, then the smallest ρ; or at random with ``rng``) and replaces it in
    every form holding it by a new temporary ``{prefix}{k}``, while some pair occurs at
    least twice.

    Parameters
    ----------
    forms : list of dict
        Linear forms ``{var: coef}``; modified in place.
    order : dict
        Position of every variable (new temporaries are appended).
    prefix : str
        Name prefix of the temporaries (``s``, ``t``, ``u``).
    rng : random.Random, optional
        Breaks ties between equally frequent pairs at random (a fixed priority per pair, drawn
        when the pair first appears, so a seeded generator gives a reproducible program).

    Returns
    -------
    (steps, forms)
        The temporaries' steps in order, and the forms rewritten over them.
    """
    counts: dict[tuple, int] = {}
    where: dict[tuple, set[int]] = {}
    # The most frequent pair comes from a heap with lazy deletion: a rise of a count pushes
    # the pair again; a fall pushes nothing, and an entry found above its pair's count is
    # pushed back at the current count (so each pair keeps an entry at or above its count).
    # An entry below its pair's count is stale and skipped.
    # Dense integer forms (a 2x6x6 r59 with coefficients up to 12) have tens of thousands of
    # pairs, and scanning them all for each temporary took most of the compile time.
    heap: list[tuple] = []
    priority: dict[tuple, float] = {}

    def tie(key: tuple) -> tuple:
        if rng is not None:
            if key not in priority:
                priority[key] = rng.random()
            return (priority[key], 0, 0)
        rho = key[2]  # ordered by value (int / int is correctly rounded)
        return (order[key[0]], order[key[1]], rho[0] / rho[1] if type(rho) is tuple else rho)

    def bump(key: tuple, idx: int, delta: int) -> None:
        count = counts.get(key, 0) + delta
        if delta > 0:
            where.setdefault(key, set()).add(idx)
        else:
            where[key].discard(idx)
        if count:
            counts[key] = count
            if delta > 0:
                heapq.heappush(heap, (-count, *tie(key), key))
        else:
            del counts[key]

    for idx, form in enumerate(forms):
        for key in _pairs(form, order):
            bump(key, idx, 1)
    steps: list[Step] = []
    while heap:
        negative, t1, t2, t3, key = heapq.heappop(heap)
        count = counts.get(key, 0)
        if count != -negative:
            if 0 < count < -negative:  # the count fell since the push: queue it at its count
                heapq.heappush(heap, (-count, t1, t2, t3, key))
            continue
        if -negative < 2:
            break
        x, y, rho = key
        name = f"{prefix}{len(steps) + 1}"
        order[name] = len(order)
        steps.append(Step(name, _ordered({x: 1, y: _value(rho)}, order)))
        for idx in sorted(where.get(key, ())):
            form = forms[idx]
            if x not in form or y not in form or _ratio(form[x], form[y]) != rho:
                continue
            # Only the pairs with x or y change: x + ρ·y becomes the newest variable.
            cx, cy = form.pop(x), form.pop(y)
            bump(key, idx, -1)
            for z, cz in form.items():
                bump(_pair(order, x, cx, z, cz), idx, -1)
                bump(_pair(order, y, cy, z, cz), idx, -1)
                bump((z, name, _ratio(cz, cx)), idx, 1)
            form[name] = cx
    return steps, forms


def _form(coeffs: np.ndarray, names: Sequence[str]) -> dict[str, Any]:
    return {names[i]: _exact(c) for i, c in enumerate(coeffs.ravel()) if c != 0}


def _operands(
    forms: list[dict[str, Any]], inputs: Sequence[str], prefix: str, final: str, eliminate: bool, live: Sequence[int],
    tries: int = 1,
) -> tuple[list[Step], list[str], list[int]]:
    """Steps of one side, the variable holding each product's operand and its sign.

    An operand whose terms are all negative is computed negated (sign −1): the caller
    moves the sign into W, where it costs nothing (a subtraction instead of an addition).
    With ``eliminate``, the cheapest of ``tries`` eliminations is kept (see :func:`_eliminations`).
    """

    def finish(steps: list[Step], todo: list[dict[str, Any]], order: dict[str, int]) -> tuple[list[Step], list[str], list[int]]:
        operand: list[str] = []
        signs: list[int] = []
        seen: dict[Terms, str] = {}
        for k, form in zip(live, todo):
            sign = -1 if all(c < 0 for c in form.values()) else 1
            signs.append(sign)
            terms = _ordered({v: sign * c for v, c in form.items()}, order)
            if len(terms) == 1 and terms[0][1] == 1:
                operand.append(terms[0][0])
            elif eliminate and terms in seen:  # the same operand twice: computed once
                operand.append(seen[terms])
            else:
                name = f"{final}{k + 1}"
                steps.append(Step(name, terms))
                seen[terms] = name
                operand.append(name)
        return steps, operand, signs

    # min() keeps the first of equally cheap programs: the variable-order try wins ties
    return min((finish(*tried) for tried in _eliminations(forms, inputs, prefix, tries if eliminate else 0)),
               key=lambda built: _cost(built[0]))


def _eliminations(forms: list[dict[str, Any]], inputs: Sequence[str], prefix: str,
                  tries: int) -> Iterator[tuple[list[Step], list[dict[str, Any]], dict[str, int]]]:
    """``(steps, forms rewritten, variable order)`` of each of ``tries`` eliminations of a phase
    (ties broken by variable order first, then at random with seeds 1, 2, ...), then of the same
    ``tries`` eliminations of the transposed phase (:func:`transposed_elimination`); ``tries=0``
    gives the forms as they are, without elimination. ``forms`` is left unchanged."""
    if tries == 0:
        yield [], [dict(f) for f in forms], {name: k for k, name in enumerate(inputs)}
        return
    for t in range(tries):
        order = {name: k for k, name in enumerate(inputs)}
        todo = [dict(f) for f in forms]
        yield (*eliminate_common(todo, order, prefix, random.Random(t) if t else None), order)
    for t in range(tries):
        yield transposed_elimination(forms, inputs, prefix, random.Random(t) if t else None)


def _add_scaled(total: dict[str, Any], form: Mapping[str, Any], c: Any) -> None:
    """``total += c · form``, dropping the terms that cancel."""
    for v, cv in form.items():
        value = total.get(v, 0) + c * cv
        if value:
            total[v] = value
        else:
            total.pop(v, None)


def transposed_elimination(
    forms: list[dict[str, Any]], inputs: Sequence[str], prefix: str, rng: Optional[random.Random] = None
) -> tuple[list[Step], list[dict[str, Any]], dict[str, int]]:
    """One elimination of a phase through its transpose (Tellegen's principle).

    The phase is the linear map ``y = M x`` (a row of ``M`` per form, a column per input). The
    greedy elimination of :func:`eliminate_common` runs on the forms of ``Mᵀ`` (one per input,
    over one variable per form), and that program is then transposed: every edge is reversed,
    so a variable used ``k`` times in it becomes a sum of ``k`` terms. A program for ``Mᵀ`` with
    ``a`` additions gives one for ``M`` with ``a − rows + columns`` (every row and column of
    ``M`` nonzero). The greedy pass finds other shared pairs on the two sides (4x4x4 r49: 44
    additions for the A side directly, 42 through the transpose).

    Parameters
    ----------
    forms : list of dict
        The phase's nonzero linear forms ``{input: coef}``; left unchanged.
    inputs : sequence of str
        The input variables, in order.
    prefix : str
        Name prefix of the temporaries.
    rng : random.Random, optional
        Tie-breaks of the elimination of ``Mᵀ`` (as in :func:`eliminate_common`).

    Returns
    -------
    (steps, forms, order)
        As one elimination of :func:`_eliminations`: the temporaries' steps, the forms
        rewritten over inputs and temporaries, and the variables' order.
    """
    rows = [f"#{i}" for i in range(len(forms))]
    used = [x for x in inputs if any(x in f for f in forms)]
    dual = [{rows[i]: f[x] for i, f in enumerate(forms) if x in f} for x in used]
    dual_order = {name: k for k, name in enumerate(rows)}
    dual_steps, dual_forms = eliminate_common(dual, dual_order, "#t", rng)
    # users[u]: the (consumer, coefficient) pairs of the dual variable u; a consumer is a
    # dual step or an input's form ("=x"), the nodes whose transposed values come first.
    users: dict[str, list[tuple[str, Any]]] = {}
    for step in dual_steps:
        for u, c in step.terms:
            users.setdefault(u, []).append((step.target, c))
    for x, form in zip(used, dual_forms):
        for u, c in form.items():
            users.setdefault(u, []).append((f"={x}", c))
    order = {name: k for k, name in enumerate(inputs)}
    value: dict[str, dict[str, Any]] = {f"={x}": {x: 1} for x in used}
    steps: list[Step] = []

    def transposed(u: str) -> dict[str, Any]:
        total: dict[str, Any] = {}
        for consumer, c in users.get(u, ()):
            _add_scaled(total, value[consumer], c)
        return total

    for step in reversed(dual_steps):
        total = transposed(step.target)
        if len(total) > 1:  # a sum: a temporary of its own; one scaled term is free
            name = f"{prefix}{len(steps) + 1}"
            order[name] = len(order)
            steps.append(Step(name, _ordered(total, order)))
            total = {name: 1}
        value[step.target] = total
    return steps, [transposed(row) for row in rows], order


def _cost(steps: Sequence[Step]) -> int:
    return sum(s.additions for s in steps)


def compile_scheme(scheme: Scheme, eliminate: bool = True, check: bool = True, tries: int = CSE_TRIES) -> Program:
    """Compile a scheme into a straight-line program.

    Parameters
    ----------
    scheme : Scheme
        Any scheme over Z or Q (mod-2 schemes are refused: they are no algorithm over Q).
    eliminate : bool
        Share common subexpressions (greedy signed-pair elimination); ``False`` gives the
        plain program, whose additions equal ``scheme.additions``.
    check : bool
        Check the program exactly against the scheme (on by default; see :func:`check_program`).
    tries : int
        Eliminations per phase and orientation, the cheapest of the ``2·tries`` kept (the first
        of each orientation breaks ties by variable order, the others at random with seeds 1,
        2, ...; the program is reproducible). 1 is the plain greedy on the phase and on its
        transpose, about ``tries`` times faster.

    Returns
    -------
    Program

    Raises
    ------
    SchemeError
        For a mod-2 scheme, or if the compiled program does not compute the scheme's
        bilinear map (a bug, never expected).
    """
    if scheme.mod2:
        raise SchemeError("a mod-2 scheme cannot be compiled: it is not an algorithm over the integers")
    fmt = scheme.format
    n, m, p = fmt.dims
    a_names = [entry_name("a", i, j, fmt) for i in range(n) for j in range(m)]
    b_names = [entry_name("b", j, l, fmt) for j in range(m) for l in range(p)]
    c_names = [entry_name("c", i, l, fmt) for i in range(n) for l in range(p)]
    W = np.array(scheme.W, dtype=object).reshape(scheme.rank, int(np.prod(scheme.W.shape[1:])))
    live, a_forms, b_forms = [], [], []
    for k in range(scheme.rank):
        fa, fb = _form(scheme.U[k], a_names), _form(scheme.V[k], b_names)
        if not fa or not fb or not any(w != 0 for w in W[k]):
            continue
        live.append(k)
        a_forms.append(fa)
        b_forms.append(fb)
    if tries < 1:
        raise ValueError(f"tries must be at least 1, got {tries}")
    a_steps, left, a_signs = _operands(a_forms, a_names, "s", "l", eliminate, live, tries)
    b_steps, right, b_signs = _operands(b_forms, b_names, "t", "r", eliminate, live, tries)
    for k, sa, sb in zip(live, a_signs, b_signs):
        W[k] = W[k] * (sa * sb)
    products = tuple(Product(f"m{k + 1}", lf, rt, k) for k, lf, rt in zip(live, left, right))
    m_names = [f"m{k + 1}" for k in live]
    c_forms = [{f"m{k + 1}": _exact(W[k, e]) for k in live if W[k, e] != 0} for e in range(n * p)]
    for name, form in zip(c_names, c_forms):
        if not form:
            raise SchemeError(f"entry {name} of C receives no product: the scheme cannot be exact")
    c_steps = min(([*steps, *(Step(name, _ordered(form, order)) for name, form in zip(c_names, todo))]
                   for steps, todo, order in _eliminations(c_forms, m_names, "u", tries if eliminate else 0)),
                  key=_cost)
    program = Program(
        scheme_format=fmt,
        rank=scheme.rank,
        a_inputs=tuple(a_names),
        b_inputs=tuple(b_names),
        a_steps=tuple(a_steps),
        b_steps=tuple(b_steps),
        products=products,
        c_steps=tuple(c_steps),
        outputs=tuple(c_names),
        plain_additions=scheme.additions,
        eliminated=eliminate,
    )
    if check:
        check_program(program, scheme)
    return program


def program_tensor(program: Program) -> np.ndarray:
    """The bilinear map a program computes, as an exact tensor of shape (n·m, m·p, n·p).

    The program runs on unit vectors with exact arithmetic (object arrays) and outer
    products as multiplication, so entry [x, y, c] is the coefficient of a_x·b_y in C_c.
    """
    n, m, p = program.scheme_format.dims
    eye_a = np.eye(n * m, dtype=np.int64).astype(object)
    eye_b = np.eye(m * p, dtype=np.int64).astype(object)
    blocks = program.evaluate(list(eye_a), list(eye_b), np.multiply.outer)
    return np.stack([np.asarray(b, dtype=object) for b in blocks], axis=-1)


def check_program(program: Program, scheme: Scheme) -> None:
    """Raise :class:`SchemeError` unless ``program`` computes exactly the scheme's bilinear map.

    The program's tensor (:func:`program_tensor`) must equal the scheme's reconstructed
    tensor entry by entry, in exact rational arithmetic, and the program may not use more
    multiplications than the scheme's rank.
    """
    if program.scheme_format != scheme.format:
        raise SchemeError(f"program for {program.scheme_format} checked against a {scheme.format} scheme")
    if program.multiplications > scheme.rank:
        raise SchemeError(f"program uses {program.multiplications} products, the scheme has rank {scheme.rank}")
    numerator, denominator = reconstruct(scheme)
    got = program_tensor(program) * denominator
    if got.shape != numerator.shape or not bool(np.all(got == np.asarray(numerator, dtype=object))):
        raise SchemeError("the compiled program does not compute the scheme's bilinear map")


def evaluate_scalars(program: Program, A: Sequence[Sequence[Any]], B: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Run a program on small matrices of Python numbers (exact); returns C as nested lists."""
    n, m, p = program.scheme_format.dims
    flat_a = [A[i][j] for i in range(n) for j in range(m)]
    flat_b = [B[j][l] for j in range(m) for l in range(p)]
    flat_c = program.evaluate(flat_a, flat_b, operator.mul)
    return [flat_c[i * p:(i + 1) * p] for i in range(n)]


def additions_summary(scheme: Scheme, program: Optional[Program] = None) -> dict[str, int]:
    """``{"plain": .., "eliminated": .., "saved": ..}`` for reports."""
    program = program or compile_scheme(scheme, eliminate=True)
    return {
        "plain": scheme.additions,
        "eliminated": program.additions,
        "saved": scheme.additions - program.additions,
    }
