"""Matrix products inside torch models computed by a verified scheme, applied blockwise and recursively.

:class:`SchemeMatmul` multiplies ``a (..., N, M) @ b (..., M, P)`` by splitting the operands
into the scheme's n×m and m×p block grids and running the scheme's straight-line program
(:func:`discover.slp.compile_scheme`) on the blocks, ``levels`` deep. Sizes that do not divide
are handled by peeling (the divisible core goes through the scheme, the leftover rows and
columns through plain products) or by zero padding. :class:`SchemeLinear` is ``nn.Linear``
with its product ``x @ weight.T`` computed that way.

The scheme's U, V, W are float64 buffers: moved by ``.to()``, saved in the ``state_dict``,
never trained. Loading a ``state_dict`` recompiles the program from the loaded buffers and
verifies the scheme exactly first.

Dtypes: operands are promoted with ``torch.promote_types``; floating and complex tensors run
the program in their dtype. Integer tensors give exactly ``a @ b``: a scheme with fractions
runs the integer rescaling of its program (:func:`discover.integral.integral_program`) in
int64 with an exact division after each level, refused with :class:`IntegerOverflowError`
when :func:`discover.integral.intermediate_bound` cannot rule out an overflow. Booleans are
refused (:class:`DtypeError`).
"""
from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from ..errors import DtypeError, FormatError, IntegerOverflowError, SchemeError
from ..formats import Format
from ..integral import INT64_MAX, integral_program, intermediate_bound, side_norms
from ..limits import check_scheme_size
from ..scheme import Scheme
from ..slp import Program, compile_scheme
from ..verify import verify_exact
from .ops import register_counter

BOUNDARIES = ("peel", "pad")


def resolve_scheme(scheme: Scheme | str | Format) -> Scheme:
    """A verified scheme: a Scheme as given, a scheme file, the catalog's best scheme for a format
    such as ``"2x2x2"`` (from ``STRASSEN_CATALOG`` when set), or any scheme source (``"strassen"``,
    ``"catalog:3x3x3"``, ``"naive:2x2x2"``).

    Raises
    ------
    SchemeError
        When the scheme, whatever its source, is not exact (a tampered file, an unverified
        ``Scheme`` object).
    """
    if not isinstance(scheme, Scheme):
        if isinstance(scheme, (str, os.PathLike)) and Path(scheme).is_file():
            from ..jsonio import load_scheme

            scheme = load_scheme(scheme)
        else:
            from ..catalog import best

            try:
                fmt = Format.parse(scheme)
            except FormatError:
                from ..sources import read_source

                fmt, scheme = None, read_source(str(scheme))
            if fmt is not None:
                scheme = best(fmt)
    report = verify_exact(scheme)
    if not report.valid:
        raise SchemeError(f"refusing an inexact scheme for a layer: {report.summary()}")
    return scheme


def _scheme_from_tensors(U: Any, V: Any, W: Any) -> Scheme:
    """The exact scheme held by float tensors U, V, W, verified; checked before any conversion.

    Raises
    ------
    SchemeError
        When the tensors are not finite, not shaped like a scheme, or not a valid scheme.
    """
    tensors = []
    for name, t in zip("UVW", (U, V, W)):
        if not isinstance(t, torch.Tensor) or t.dim() != 3:
            raise SchemeError(f"buffer {name} must be a 3-dimensional tensor, got {type(t).__name__} {tuple(getattr(t, 'shape', ()))}")
        tensors.append(t.detach().cpu().double())
    r, n, m = tensors[0].shape
    check_scheme_size((n, m, tensors[1].shape[2]), r, "buffers")
    for name, t in zip("UVW", tensors):
        if not bool(torch.isfinite(t).all()):
            raise SchemeError(f"buffer {name} holds NaN or infinite values")
    scheme = Scheme.from_arrays(*(_exact_from_float(t.numpy()) for t in tensors))
    report = verify_exact(scheme)
    if not report.valid:
        raise SchemeError(f"the U, V, W buffers do not hold a valid scheme: {report.summary()}")
    return scheme


def _exact_from_float(values: np.ndarray) -> np.ndarray:
    """Float coefficients back to exact ints/Fractions (buffers hold small rationals exactly enough)."""
    out = np.empty(values.shape, dtype=object)
    for idx, v in np.ndenumerate(values):
        f = Fraction(float(v)).limit_denominator(1 << 20)
        out[idx] = int(f) if f.denominator == 1 else f
    return out


def _check_incoming(state_dict: Any, prefix: str) -> None:
    """Verify the U, V, W a state dict brings for the SchemeMatmul at ``prefix`` (when it brings all three)."""
    incoming = [state_dict.get(prefix + name) for name in "UVW"]
    if all(t is not None for t in incoming):
        _scheme_from_tensors(*incoming)


def _side_costs(program: Program) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(additions, scalar multiplications) of the A, B and C phases, counted in whole blocks."""
    def cost(steps) -> tuple[int, int]:
        return sum(s.additions for s in steps), sum(1 for s in steps for _, c in s.terms if abs(c) != 1)

    return cost(program.a_steps), cost(program.b_steps), cost(program.c_steps)


class SchemeMatmul(nn.Module):
    """``a @ b`` through a matrix-multiplication scheme applied blockwise, ``levels`` deep.

    Parameters
    ----------
    scheme : Scheme or str
        A verified scheme over Z or Q, or a format such as ``"2x2x2"`` looked up in the
        catalog (:func:`discover.catalog.best`).
    levels : int
        Recursion depth (0 is a plain ``torch.matmul``).
    boundary : {"peel", "pad"}
        How sizes that are not multiples of the block grid are handled at each level.
    min_size : int
        Below this many rows, inner or output columns per block the recursion stops and a
        plain product is used (tiny blocks cost more in Python overhead than they save).
    dispatch : bool
        Opt-in tuned dispatch for float inputs: each product runs the scheme and level count
        that the tune table (``strassen tune --backend torch``) measured fastest for its size
        class and dtype, or a plain ``torch.matmul`` where no scheme beat it (and when there
        is no table). Integer inputs keep this layer's own scheme and levels.
    table : dict or path, optional
        The tune table for ``dispatch`` (default :func:`discover.tunetable.default_path`).
    """

    def __init__(self, scheme: Scheme | str | Format, levels: int = 1, boundary: str = "peel", min_size: int = 1,
                 dispatch: bool = False, table: Any = None) -> None:
        super().__init__()
        self.dispatch, self.table = bool(dispatch), table
        self._dispatched: dict[tuple[str, int], "SchemeMatmul"] = {}
        if levels < 0:
            raise ValueError("levels must be ≥ 0")
        if boundary not in BOUNDARIES:
            raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
        scheme = resolve_scheme(scheme)
        if scheme.mod2:
            raise SchemeError("a mod-2 scheme is no algorithm over the reals; SchemeMatmul needs one over Z or Q")
        self.levels, self.boundary, self.min_size = levels, boundary, max(1, min_size)
        U, V, W = (torch.from_numpy(np.array(arr, dtype=np.float64)) for arr in (scheme.U, scheme.V, scheme.W))
        self.register_buffer("U", U)
        self.register_buffer("V", V)
        self.register_buffer("W", W)
        self._set_scheme(scheme)
        self.register_load_state_dict_post_hook(SchemeMatmul._reload_hook)

    # ------------------------------------------------------------------ scheme and program
    def _set_scheme(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.program = compile_scheme(scheme, eliminate=True)
        # Integer inputs run this program: D times the product, with integer coefficients.
        self.exact_program, self.denominator = integral_program(self.program)
        self.growth = side_norms(self.exact_program)

    def scheme_from_buffers(self) -> Scheme:
        """The exact scheme held by the U, V, W buffers, verified exactly.

        Raises
        ------
        SchemeError
            When the buffers do not hold a valid scheme of this format.
        """
        return _scheme_from_tensors(self.U, self.V, self.W)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):  # type: ignore[no-untyped-def]
        # Verify the incoming U, V, W before torch copies them: a rejected state dict leaves
        # this module as it was.
        _check_incoming(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    @staticmethod
    def _reload_hook(module: nn.Module, incompatible_keys: Any) -> None:
        module._set_scheme(module.scheme_from_buffers())  # type: ignore[operator]

    # ------------------------------------------------------------------ evaluation
    def _dispatch(self, a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """The tuned choice for this product (see ``dispatch``)."""
        from ..tunetable import choose, load_table

        table = self.table if isinstance(self.table, dict) else load_table(self.table)
        picked = choose(table, "torch", str(dtype).replace("torch.", ""), (a.shape[-2], a.shape[-1], b.shape[-1]))
        if picked is None:
            return torch.matmul(a, b)
        if picked not in self._dispatched:  # a plain dict: tuned helpers are not part of the state
            self._dispatched[picked] = SchemeMatmul(picked[0], picked[1], self.boundary, self.min_size)
        return self._dispatched[picked].to(a.device)(a, b)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``a @ b`` for ``a`` (..., N, M) and ``b`` (..., M, P), leading dims broadcast.

        The result has dtype ``torch.promote_types(a.dtype, b.dtype)``; integers are exact
        (see the module docstring).

        Raises
        ------
        DtypeError
            For boolean tensors.
        IntegerOverflowError
            For integer tensors of a scheme with fractions whose int64 evaluation could overflow.
        """
        if a.shape[-1] != b.shape[-2]:
            raise ValueError(f"inner dimensions differ: {tuple(a.shape)} @ {tuple(b.shape)}")
        dtype = torch.promote_types(a.dtype, b.dtype)
        if dtype == torch.bool:
            raise DtypeError("SchemeMatmul multiplies integer, floating or complex tensors, not booleans")
        a, b = a.to(dtype), b.to(dtype)
        if dtype.is_floating_point or dtype.is_complex:
            if self.dispatch:
                return self._dispatch(a, b, dtype)
            return self._matmul(a, b, self.levels)
        if self.denominator == 1 or self.levels == 0 or a.numel() == 0 or b.numel() == 0:
            return self._matmul(a, b, self.levels, exact=True)  # integer arithmetic in the dtype is exact
        alpha = max(int(a.max()), -int(a.min()))
        beta = max(int(b.max()), -int(b.min()))
        bound = intermediate_bound(self.growth, self.program.scheme_format.dims[1], alpha, beta, a.shape[-1],
                                   self.levels)
        if bound > INT64_MAX:
            raise IntegerOverflowError(
                f"the exact integer evaluation of this {self.scheme.format} scheme with fractions could reach "
                f"{bound:.3e}, beyond int64; use fewer levels or smaller entries")
        return self._matmul(a.to(torch.int64), b.to(torch.int64), self.levels, exact=True).to(dtype)

    def _matmul(self, a: torch.Tensor, b: torch.Tensor, level: int, exact: bool = False) -> torch.Tensor:
        n, m, p = self.program.scheme_format.dims
        N, M, P = a.shape[-2], a.shape[-1], b.shape[-1]
        if level == 0 or min(N // n, M // m, P // p) < self.min_size:
            return torch.matmul(a, b)
        if self.boundary == "pad":
            Np, Mp, Pp = (-(-N // n)) * n, (-(-M // m)) * m, (-(-P // p)) * p
            if (Np, Mp, Pp) != (N, M, P):
                a = nn.functional.pad(a, (0, Mp - M, 0, Np - N))
                b = nn.functional.pad(b, (0, Pp - P, 0, Mp - M))
                return self._blocks(a, b, level, exact)[..., :N, :P]
            return self._blocks(a, b, level, exact)
        N0, M0, P0 = N // n * n, M // m * m, P // p * p
        core = self._blocks(a[..., :N0, :M0], b[..., :M0, :P0], level, exact)
        if M0 < M:  # leftover inner columns: a rank-(M-M0) correction
            core = core + torch.matmul(a[..., :N0, M0:], b[..., M0:, :P0])
        if P0 < P:
            core = torch.cat([core, torch.matmul(a[..., :N0, :], b[..., :, P0:])], dim=-1)
        if N0 < N:
            core = torch.cat([core, torch.matmul(a[..., N0:, :], b)], dim=-2)
        return core

    def _blocks(self, a: torch.Tensor, b: torch.Tensor, level: int, exact: bool = False) -> torch.Tensor:
        """Sizes divisible by the grid: run the program (``exact``: its integer rescaling) on the blocks."""
        n, m, p = self.program.scheme_format.dims
        bn, bm, bp = a.shape[-2] // n, a.shape[-1] // m, b.shape[-1] // p
        # Blocks are views (copying them into a contiguous block layout measured slower).
        a_blocks = [a[..., i * bn:(i + 1) * bn, j * bm:(j + 1) * bm] for i in range(n) for j in range(m)]
        b_blocks = [b[..., j * bm:(j + 1) * bm, l * bp:(l + 1) * bp] for j in range(m) for l in range(p)]
        program = self.exact_program if exact else self.program
        c_blocks = program.evaluate(a_blocks, b_blocks, lambda x, y: self._matmul(x, y, level - 1, exact))
        if exact and self.denominator != 1:
            c_blocks = [torch.div(c, self.denominator, rounding_mode="floor") for c in c_blocks]  # no remainder
        # One copy of each C block into the result (two nested torch.cat calls copy twice).
        lead = c_blocks[0].shape[:-2]
        out = c_blocks[0].new_empty(*lead, n, bn, p, bp)
        for index, block in enumerate(c_blocks):
            out[..., index // p, :, index % p, :] = block
        return out.reshape(*lead, n * bn, p * bp)

    # ------------------------------------------------------------------ cost
    def cost(self, N: int, M: int, P: int, level: Optional[int] = None) -> tuple[int, int]:
        """(multiplications, additions) of one ``(N×M) @ (M×P)`` product as this module computes it."""
        level = self.levels if level is None else level
        n, m, p = self.program.scheme_format.dims
        if level == 0 or min(N // n, M // m, P // p) < self.min_size:
            return N * M * P, N * max(M - 1, 0) * P
        if self.boundary == "pad":
            Np, Mp, Pp = (-(-N // n)) * n, (-(-M // m)) * m, (-(-P // p)) * p
            return self._block_cost(Np, Mp, Pp, level)
        N0, M0, P0 = N // n * n, M // m * m, P // p * p
        mults, adds = self._block_cost(N0, M0, P0, level)
        if M0 < M:
            mults, adds = mults + N0 * (M - M0) * P0, adds + N0 * (M - M0) * P0  # (M-M0-1)+1 per entry
        mults, adds = mults + N0 * M * (P - P0), adds + N0 * max(M - 1, 0) * (P - P0)
        mults, adds = mults + (N - N0) * M * P, adds + (N - N0) * max(M - 1, 0) * P
        return mults, adds

    def _block_cost(self, N: int, M: int, P: int, level: int) -> tuple[int, int]:
        n, m, p = self.program.scheme_format.dims
        bn, bm, bp = N // n, M // m, P // p
        sub_mults, sub_adds = self.cost(bn, bm, bp, level - 1)
        (aa, am), (ba, bmul), (ca, cm) = _side_costs(self.program)
        k = self.program.multiplications
        mults = k * sub_mults + am * bn * bm + bmul * bm * bp + cm * bn * bp
        adds = k * sub_adds + aa * bn * bm + ba * bm * bp + ca * bn * bp
        return mults, adds

    def extra_repr(self) -> str:
        s = self.scheme
        return (
            f"format={s.format}, rank={s.rank}, ring={s.ring}, levels={self.levels}, "
            f"boundary={self.boundary}, additions={self.program.additions}"
        )


class SchemeLinear(nn.Module):
    """``nn.Linear`` whose product ``x @ weight.T`` is computed by :class:`SchemeMatmul`.

    Parameters
    ----------
    in_features, out_features : int
        As for ``nn.Linear``.
    scheme : Scheme or str
        The scheme, or a format looked up in the catalog. The flattened input (rows, in)
        is the scheme's A, ``weight.T`` (in, out) its B.
    levels, boundary, min_size, dispatch, table
        As for :class:`SchemeMatmul` (``dispatch=True``: the tuned dispatch of ``strassen tune``).
    bias : bool
        Whether to add a learned bias.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        scheme: Scheme | str | Format = "2x2x2",
        levels: int = 1,
        bias: bool = True,
        boundary: str = "peel",
        min_size: int = 1,
        device: Any = None,
        dtype: Any = None,
        dispatch: bool = False,
        table: Any = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(torch.empty(out_features, in_features, device=device, dtype=dtype))
        self.bias = nn.Parameter(torch.empty(out_features, device=device, dtype=dtype)) if bias else None
        self.matmul = SchemeMatmul(scheme, levels, boundary, min_size, dispatch, table)
        self.reset_parameters()
        self._register_load_state_dict_pre_hook(self._keep_scheme_for_linear_state)

    def _keep_scheme_for_linear_state(self, state_dict: dict, prefix: str, *args: Any) -> None:
        # An nn.Linear state dict (weight, bias) has no scheme buffers: keep this layer's scheme.
        if prefix + "weight" in state_dict and not any(k.startswith(prefix + "matmul.") for k in state_dict):
            for key, value in self.matmul.state_dict().items():
                state_dict[prefix + "matmul." + key] = value

    def reset_parameters(self) -> None:
        """The initialisation of ``nn.Linear``."""
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            nn.init.uniform_(self.bias, -bound, bound)

    @classmethod
    def from_linear(cls, linear: nn.Linear, scheme: Scheme | str | Format = "2x2x2", **kwargs: Any) -> "SchemeLinear":
        """A SchemeLinear with a copy of ``linear``'s weight and bias."""
        layer = cls(linear.in_features, linear.out_features, scheme, bias=linear.bias is not None,
                    device=linear.weight.device, dtype=linear.weight.dtype, **kwargs)
        with torch.no_grad():
            layer.weight.copy_(linear.weight)
            if linear.bias is not None:
                layer.bias.copy_(linear.bias)  # type: ignore[union-attr]
        return layer

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs):  # type: ignore[no-untyped-def]
        # torch loads this module's weight before its SchemeMatmul child: check the child's
        # scheme first, so that a rejected state dict changes nothing here either.
        _check_incoming(state_dict, prefix + "matmul.")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        y = self.matmul(x.reshape(-1, self.in_features), self.weight.t())
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*lead, self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _scheme_linear_ops(module: SchemeLinear, inp: torch.Tensor, out: torch.Tensor) -> tuple[int, int]:
    rows = inp.numel() // module.in_features
    mults, adds = module.matmul.cost(rows, module.in_features, module.out_features)
    return mults, adds + (out.numel() if module.bias is not None else 0)


register_counter(SchemeLinear, _scheme_linear_ops)  # type: ignore[arg-type]
