"""The compiled engine: one training step's forward pass, loss and backward pass as two Numba-compiled calls.

``engine: numba`` in a run's spec trains with :class:`CompiledStep` instead of :class:`~nnbench.network.
Network`'s NumPy passes. It computes the same formulas as ``network.py`` (read them there), in loops over the
examples that the compiler vectorizes, for every network without batch norm: any depth and width, every
activation, a sigmoid or softmax output, dropout and L2. A tiny network's step is then a few microseconds of
arithmetic instead of some thirty NumPy calls of 1–2 µs dispatch each (``docs/benchmarks.md``). Between the
two calls, a sigmoid output's exp and log1p are four NumPy calls on every run's outputs at once: NumPy's
are vectorized (SIMD), the compiler's are scalar calls, a third of the step.

NumPy stays the reference: the course reproductions and the gradient checks run on it. The compiled step
agrees with it to rounding (sums are reassociated so that they vectorize: ``tests/test_kernels.py`` bounds the
difference), not bit for bit; a run on either engine is bit-for-bit reproducible on its own. No flag lets the
compiler assume finite numbers, so a diverging run turns NaN or inf exactly as on NumPy.

Layout: the parameters of run r are ``theta[r]``, the buffer of ``Network.allocate`` (``Network.offsets``).
Layer l's activations are rows ``row[l] .. row[l] + n_l`` (layer 0: the batch's inputs) of run r's work
array ``work[r]`` (3, rows, batch rounded up to 8), whose rows start on 64-byte boundaries; its units'
dropout masks are the same rows of the epoch's mask array.
"""

from __future__ import annotations

import numpy as np

from .activations import LEAKY_SLOPE
from .losses import exp_neg_abs

try:
    import numba
except ImportError:  # the engine is optional: `pip install 'nnbench[fast]'`
    numba = None

ACTIVATION_CODES = {"relu": 0, "leaky_relu": 1, "tanh": 2, "sigmoid": 3}
# Reassociation (so that sums over the examples vectorize) and fused multiply-add; never "nnan"/"ninf" (the
# compiler must keep NaN and inf: divergence is detected from them) nor "arcp" (x / k stays a division).
FASTMATH = {"reassoc", "contract", "nsz"}


def _jit(fn):
    return numba.njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)(fn) if numba is not None else fn


@_jit
def _layout(meta):
    """meta (int64): [L, activation code, softmax?, sizes n_0..n_L, W offsets 1..L, b offsets 1..L, rows 0..L]."""
    L = meta[0]
    return (
        L,
        meta[1],
        meta[2],
        meta[3 : 4 + L],
        meta[4 + L : 4 + 2 * L],
        meta[4 + 2 * L : 4 + 3 * L],
        meta[4 + 3 * L : 5 + 4 * L],
    )


@_jit
def _forward(theta, X, lo, hi, masks, use_masks, meta, fmeta, work):
    """The forward pass of every run r on examples [lo, hi) of X (R, n_0, m), into work[r] (3, rows, ≥ batch):
    activations as the next layer reads them (after dropout), activations before dropout (dropout only), and
    (in :func:`_backward`) dA/dZ. fmeta: [l2, n, keep_1, ..., keep_{L−1}]."""
    L, code, softmax, sizes, w_off, b_off, row = _layout(meta)
    m = hi - lo
    for r in range(theta.shape[0]):
        A, G = work[r, 0], work[r, 1]  # indexed [row, example]: no views in the loops, so they vectorize
        for k in range(sizes[0]):  # the batch's inputs, as layer 0's activations
            for i in range(m):
                A[k, i] = X[r, k, lo + i]
        # -- forward: Z = W A_prev + b; A = g(Z), then inverted dropout on hidden layers --------------------
        for l in range(1, L + 1):
            n, p, rz, ra = sizes[l], sizes[l - 1], row[l], row[l - 1]
            for j in range(n):
                b, w = theta[r, b_off[l - 1] + j], theta[r, w_off[l - 1] + j * p]
                for i in range(m):
                    A[rz + j, i] = b + w * A[ra, i]
                for k in range(1, p):
                    w = theta[r, w_off[l - 1] + j * p + k]
                    for i in range(m):
                        A[rz + j, i] += w * A[ra + k, i]
                if l == L:
                    continue
                if code == 0:
                    for i in range(m):
                        if A[rz + j, i] < 0.0:  # NaN stays NaN, as in np.maximum
                            A[rz + j, i] = 0.0
                elif code == 1:
                    for i in range(m):
                        if not A[rz + j, i] > 0.0:
                            A[rz + j, i] *= LEAKY_SLOPE
                elif code == 2:
                    for i in range(m):
                        A[rz + j, i] = np.tanh(A[rz + j, i])
                else:
                    for i in range(m):
                        A[rz + j, i] = 1.0 / (1.0 + np.exp(-A[rz + j, i]))
                if use_masks:
                    keep = fmeta[2 + l - 1]
                    for i in range(m):
                        G[rz + j, i] = A[rz + j, i]
                        A[rz + j, i] = (A[rz + j, i] * (1.0 if masks[r, rz + j, lo + i] else 0.0)) / keep


@_jit
def _backward(theta, grad, Y, lo, hi, masks, use_masks, meta, fmeta, work, loss, penalty, want_penalty):
    """Loss and backward pass of every run r after :func:`_forward`: loss[r] += run r's summed loss over
    examples [lo, hi) of Y (R, n_L, m); grad[r] = its gradients (1/batch and L2 included, as
    ``Network.backward``); penalty[r] = its L2 penalty λ/(2n)·Σ‖W‖² when ``want_penalty``. A sigmoid output
    reads e = exp(−|z|) and log1p(e) from the output's rows of work[r, 1], which ``CompiledStep`` fills with
    NumPy for all runs at once (SIMD; scalar calls here would cost a third of the step)."""
    L, code, softmax, sizes, w_off, b_off, row = _layout(meta)
    l2, n_train = fmeta[0], fmeta[1]
    m = hi - lo
    inv_m = 1.0 / m
    for r in range(theta.shape[0]):
        A, G, D = work[r, 0], work[r, 1], work[r, 2]
        # -- output: loss and dZ_L = A_L − Y -----------------------------------------------------------------
        nL, o = sizes[L], row[L]
        total = 0.0
        if softmax:  # per example: max, Σ e^(z − max) and Σ y·z in the output's unused G rows
            for i in range(m):
                G[o, i] = A[o, i]
                G[o + 1, i] = 0.0
                G[o + 2, i] = 0.0
            for j in range(1, nL):
                for i in range(m):
                    G[o, i] = max(G[o, i], A[o + j, i])
            for j in range(nL):
                for i in range(m):
                    e = np.exp(A[o + j, i] - G[o, i])
                    D[o + j, i] = e
                    G[o + 1, i] += e
                    G[o + 2, i] += Y[r, j, lo + i] * A[o + j, i]
            for i in range(m):
                total += np.log(G[o + 1, i]) + G[o, i] - G[o + 2, i]
            for j in range(nL):
                for i in range(m):
                    D[o + j, i] = D[o + j, i] / G[o + 1, i] - Y[r, j, lo + i]
        else:
            for i in range(m):
                z, e = A[o, i], G[o, i]  # log(1 + e^z) = max(z, 0) + log1p(e^(−|z|)), as losses.py
                total += max(z, 0.0) + G[o + 1, i] - Y[r, 0, lo + i] * z
                sig = 1.0 / (1.0 + e)
                D[o, i] = (sig if z >= 0.0 else e * sig) - Y[r, 0, lo + i]
        loss[r] += total
        # -- backward: db = Σ dZ / m, dW = dZ A_prevᵀ / m (+ λW/n), dA_prev = Wᵀ dZ, dZ_prev = dA_prev·g′ ------
        for l in range(L, 0, -1):
            n, p, rz, ra = sizes[l], sizes[l - 1], row[l], row[l - 1]
            for j in range(n):
                acc = 0.0
                for i in range(m):
                    acc += D[rz + j, i]
                grad[r, b_off[l - 1] + j] = acc * inv_m
                for k in range(p):
                    acc = 0.0
                    for i in range(m):
                        acc += D[rz + j, i] * A[ra + k, i]
                    q = w_off[l - 1] + j * p + k
                    grad[r, q] = acc * inv_m
                    if l2 != 0.0:
                        grad[r, q] += (l2 * theta[r, q]) / n_train
            if l == 1:
                break
            H = G if use_masks else A  # the activations before dropout
            keep = fmeta[2 + l - 2]
            for k in range(p):
                w = theta[r, w_off[l - 1] + k]
                for i in range(m):
                    D[ra + k, i] = w * D[rz, i]
                for j in range(1, n):
                    w = theta[r, w_off[l - 1] + j * p + k]
                    for i in range(m):
                        D[ra + k, i] += w * D[rz + j, i]
                if use_masks:
                    for i in range(m):
                        D[ra + k, i] = (D[ra + k, i] * (1.0 if masks[r, ra + k, lo + i] else 0.0)) / keep
                if code == 0:
                    for i in range(m):
                        D[ra + k, i] *= 1.0 if H[ra + k, i] > 0.0 else 0.0
                elif code == 1:
                    for i in range(m):
                        D[ra + k, i] *= 1.0 if H[ra + k, i] > 0.0 else LEAKY_SLOPE
                elif code == 2:
                    for i in range(m):
                        D[ra + k, i] *= 1.0 - H[ra + k, i] * H[ra + k, i]
                else:
                    for i in range(m):
                        D[ra + k, i] *= H[ra + k, i] * (1.0 - H[ra + k, i])
        if want_penalty:
            sq = 0.0
            for q in range(b_off[0]):
                sq += theta[r, q] * theta[r, q]
            penalty[r] = l2 / (2.0 * n_train) * sq


class CompiledStep:  # a trainer.TrainingStep
    """A training step of ``net`` on the compiled engine (:func:`_forward`, the sigmoid output's exp and log1p
    in NumPy, :func:`_backward`), with the buffers it reuses from step to step.

    ``step(params, grads, X, Y, lo, hi, masks, loss, penalty, n_train)`` (buffers from ``Network.allocate``)
    adds each run's summed loss over examples [lo, hi) to ``loss`` (R,), writes the gradients into ``grads``
    and, if ``penalty`` is given, the L2 penalty into it: what the NumPy step of ``trainer.fit`` does with
    ``Network.forward``, ``loss_sum``, ``l2_penalty`` and ``backward``.
    """

    def __init__(self, net, runs: int, batch: int):
        if numba is None:
            raise RuntimeError("engine 'numba' needs the numba package: pip install 'nnbench[fast]'")
        if net.batchnorm:
            raise ValueError("engine 'numba' does not support batch norm; use engine 'numpy'")
        L, sizes, offsets = net.n_layers, net.sizes, net.offsets()
        rows = np.cumsum((0,) + sizes)[:-1]  # first work row of layers 0..L
        self.meta = np.array(
            [
                L,
                ACTIVATION_CODES[net.activation],
                net.output == "softmax",
                *sizes,
                *(offsets[f"W{l}"] for l in range(1, L + 1)),
                *(offsets[f"b{l}"] for l in range(1, L + 1)),
                *rows,
            ],
            dtype=np.int64,
        )
        self.fmeta = np.array([net.l2, 1.0, *net.keep_prob], dtype=np.float64)
        self.sizes = sizes
        # per run: three rows more for the softmax's per-example max, sum and dot (in the unused G rows)
        self.work = _aligned_zeros((runs, 3, int(sum(sizes)) + 3, -(-batch // 8) * 8))
        self.no_masks = np.zeros((runs, 1, 1), dtype=bool)
        self.output_row = None if net.output == "softmax" else int(rows[-1])

    def masks(self, masks):
        """The epoch's per-layer dropout masks as one array in the work rows (see :func:`pack_masks`)."""
        return pack_masks(self.sizes, masks)

    def __call__(self, params, grads, X, Y, lo, hi, masks, loss, penalty, n_train):
        self.fmeta[1] = n_train
        use_masks, masks = masks is not None, self.no_masks if masks is None else masks
        _forward(params.flat, X, lo, hi, masks, use_masks, self.meta, self.fmeta, self.work)
        if self.output_row is not None:  # e = exp(−|z|) and log1p(e) of every run's outputs, for _backward
            o, m = self.output_row, hi - lo
            z, e, log1p_e = self.work[:, 0, o, :m], self.work[:, 1, o, :m], self.work[:, 1, o + 1, :m]
            np.log1p(exp_neg_abs(z, out=e), out=log1p_e)  # the loss's terms, as losses.py computes them
        _backward(
            params.flat,
            grads.flat,
            Y,
            lo,
            hi,
            masks,
            use_masks,
            self.meta,
            self.fmeta,
            self.work,
            loss,
            loss if penalty is None else penalty,
            penalty is not None,
        )


def _aligned_zeros(shape) -> np.ndarray:
    """Zeros whose rows start on 64-byte boundaries (a whole number of 8 doubles per row, from an aligned
    base), so that no vector load of a row straddles two cache lines: the step's time otherwise depends on
    where the allocator happened to put the array (up to 1.25× on the tiny network)."""
    size = int(np.prod(shape))
    raw = np.zeros(size + 8)
    start = (-raw.ctypes.data % 64) // 8
    return raw[start : start + size].reshape(shape)


def pack_masks(sizes, masks) -> np.ndarray | None:
    """Per-layer dropout masks (None for a layer without dropout) as one array (R, rows, m), layer l's units
    in its rows of the work array (all True for layers without dropout and for the inputs' rows)."""
    if masks is None or all(d is None for d in masks):
        return None
    first = next(d for d in masks if d is not None)
    out = np.ones((first.shape[0], sum(sizes), first.shape[-1]), dtype=bool)
    row = sizes[0]
    for l, d in enumerate(masks, start=1):
        if d is not None:
            out[:, row : row + sizes[l]] = d
        row += sizes[l]
    return out
