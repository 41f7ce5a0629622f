"""The Gauss–Newton algebra of the CP fit ||T − Σ_k U_k⊗V_k⊗W_k||², batched (torch).

Shared by :mod:`~discover.search.methods.lm` (the search) and
:mod:`~discover.search.methods._rational` (snap-and-refit over Q). Factors have shapes
``U (B, r, a)``, ``V (B, r, b)``, ``W (B, r, c)``; parameters are flattened as ``[U, V, W]``.
"""
from __future__ import annotations

from typing import Optional

import torch


def gauss_newton(U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """JᵀJ of the reconstruction (B, P, P) with P = r(a+b+c), from Gram matrices."""
    B, r, a = U.shape
    b, c = V.shape[2], W.shape[2]
    P = r * (a + b + c)
    Gu, Gv, Gw = (X @ X.transpose(1, 2) for X in (U, V, W))
    H = torch.zeros(B, P, P, dtype=U.dtype, device=U.device)
    o1, o2 = r * a, r * (a + b)

    def diag_block(G: torch.Tensor, off: int, d: int) -> None:
        # kron(G, I_d) written into the diagonal block through a strided view
        blk = H[:, off:off + r * d, off:off + r * d].view(B, r, d, r, d)
        blk.diagonal(dim1=2, dim2=4).copy_(G[:, :, :, None].expand(B, r, r, d))

    diag_block(Gv * Gw, 0, a)
    diag_block(Gu * Gw, o1, b)
    diag_block(Gu * Gv, o2, c)
    uv = torch.einsum("bkl,blx,bky->bkxly", Gw, U, V).reshape(B, r * a, r * b)
    uw = torch.einsum("bkl,blx,bkz->bkxlz", Gv, U, W).reshape(B, r * a, r * c)
    vw = torch.einsum("bkl,bly,bkz->bkylz", Gu, V, W).reshape(B, r * b, r * c)
    H[:, :o1, o1:o2] = uv
    H[:, o1:o2, :o1] = uv.transpose(1, 2)
    H[:, :o1, o2:] = uw
    H[:, o2:, :o1] = uw.transpose(1, 2)
    H[:, o1:o2, o2:] = vw
    H[:, o2:, o1:o2] = vw.transpose(1, 2)
    return H


def gradient(R: torch.Tensor, U: torch.Tensor, V: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """JᵀR flattened like the parameters (U, V, W): three Khatri–Rao products, one bmm each."""
    B, r, a = U.shape
    b, c = V.shape[2], W.shape[2]

    def kr(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return (X[:, :, :, None] * Y[:, :, None, :]).reshape(B, r, -1)

    gu = kr(V, W) @ R.reshape(B, a, b * c).transpose(1, 2)
    gv = kr(U, W) @ R.transpose(1, 2).reshape(B, b, a * c).transpose(1, 2)
    gw = kr(U, V) @ R.reshape(B, a * b, c)
    return torch.cat([g.flatten(1) for g in (gu, gv, gw)], dim=1)


def pcg(U: torch.Tensor, V: torch.Tensor, W: torch.Tensor, diag: torch.Tensor, g: torch.Tensor,
        free: Optional[torch.Tensor], iters: int, tol: float, shared: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Solve (JᵀJ + diag)·δ = −g for every member by preconditioned conjugate gradients.

    JᵀJ is applied matrix-free from the r×r Gram matrices: the U block of JᵀJ·d is
    (Gv∘Gw)·dU + ((V dVᵀ)∘Gw + Gv∘(W dWᵀ))·U, and cyclically for V and W. The three factors are
    stacked (zero-padded to a common width) so one product serves all three, and held transposed,
    (3, B, width, r): products with an r×r matrix on the right are two to three times faster in
    torch than the same products on the left. The preconditioner is block diagonal: for each
    column x of U the r×r matrix Gv∘Gw + diag(d_x) (one ALS solve per factor), factored once per
    step; ``shared`` uses one block per factor, with the columns' diagonals averaged, and applies
    its inverse as a product (a cheaper preconditioner, as good on 3x3x3 r23). ``free`` (B, P)
    masks entries held fixed. Returns δ and a mask of members whose solve stayed finite.
    """
    B, r, _ = U.shape
    sizes = (U.shape[2], V.shape[2], W.shape[2])
    parts = tuple(r * k for k in sizes)
    d = max(sizes)

    def stack(flat: torch.Tensor, pad: float = 0.0) -> torch.Tensor:
        out = flat.new_full((3, B, d, r), pad)
        for i, part in enumerate(torch.split(flat, parts, dim=1)):
            out[i, :, :sizes[i], :] = part.reshape(B, r, sizes[i]).transpose(1, 2)
        return out

    def unstack(X: torch.Tensor) -> torch.Tensor:
        return torch.cat([X[i, :, :k, :].transpose(1, 2).reshape(B, -1) for i, k in enumerate(sizes)], dim=1)

    St = stack(torch.cat([X.reshape(B, -1) for X in (U, V, W)], dim=1))
    G = St.transpose(-1, -2) @ St  # (3, B, r, r): Gu, Gv, Gw
    G1, G2 = G.roll(-1, 0), G.roll(-2, 0)
    P = G1 * G2
    Dg = stack(diag, 1.0)
    mask = None if free is None else stack(free)
    if shared:
        # one r×r block per factor: the columns' diagonals averaged (d times fewer factorisations)
        mean = torch.stack([part.reshape(B, r, k).mean(-1) for part, k in zip(torch.split(diag, parts, dim=1), sizes)])
        L, _ = torch.linalg.cholesky_ex(P + torch.diag_embed(mean))
        Pinv = torch.cholesky_inverse(L)  # one inverse, then a product per iteration (cheaper than solves)

        def precond(R: torch.Tensor) -> torch.Tensor:
            return R @ Pinv if mask is None else (R @ Pinv) * mask
    else:
        L, _ = torch.linalg.cholesky_ex(P.unsqueeze(2) + torch.diag_embed(Dg))

        def precond(R: torch.Tensor) -> torch.Tensor:
            Z = torch.cholesky_solve(R.unsqueeze(-1), L).squeeze(-1)
            return Z if mask is None else Z * mask

    def matvec(Z: torch.Tensor) -> torch.Tensor:
        M = Z.transpose(-1, -2) @ St  # (V dVᵀ)ᵀ per factor; the Gram matrices are symmetric
        out = Z @ P + St @ (M.roll(-1, 0) * G2 + G1 * M.roll(-2, 0)) + Dg * Z
        return out if mask is None else out * mask

    def dot(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return (X * Y).sum(dim=(0, 2, 3))

    res = -stack(g) if mask is None else -stack(g) * mask
    x = torch.zeros_like(res)
    z = precond(res)
    p = z
    rz = dot(res, z)
    g2 = dot(res, res).clamp(min=1e-300)
    for _ in range(iters):
        Hp = matvec(p)
        pHp = dot(p, Hp)
        step = torch.where(pHp > 0, rz / pHp.clamp(min=1e-300), 0.0)[None, :, None, None]
        x = x + step * p
        res = res - step * Hp
        if bool((dot(res, res) <= tol * tol * g2).all()):
            break
        z = precond(res)
        rz_new = dot(res, z)
        p = z + torch.where(rz > 0, rz_new / rz.clamp(min=1e-300), 0.0)[None, :, None, None] * p
        rz = rz_new
    delta = unstack(x)
    return delta, torch.isfinite(delta).all(1)
