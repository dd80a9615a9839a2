"""A fully connected network: forward and backward passes with dropout, batch norm and L2.

Shapes follow the course, with a leading axis over R independent runs trained together:
X is (R, n_0, m); W{l} is (R, n_l, n_{l−1}); b{l}, gamma{l}, beta{l} are (R, n_l, 1).
Layer l computes Z = W A_prev + b (or, with batch norm, Z = γ·(W A_prev − μ)/√(σ² + ε) + β, no bias),
then A = g(Z) on hidden layers (with inverted dropout A = (A·D)/keep_prob in training), and on the last
layer the output σ (one unit, two classes) or softmax (C units).
Backpropagation starts from dZ_L = A_L − Y, follows the chain rule layer by layer, and scales each
parameter's gradient by 1/m at the end (dW = (1/m)·dZ·A_prevᵀ, as the course's code writes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from .activations import ACTIVATIONS
from .losses import OUTPUTS

ROLES = ("weight", "bias", "scale", "shift")  # what a parameter is to an optimizer (Network.layout)


class Params(dict):
    """Parameters (or gradients) by name, ``{"W1": (R, n_1, n_0), "b1": ..., ...}``, all views into one
    buffer ``flat`` (R, P): see :meth:`Network.allocate`."""

    def __init__(self, views: dict, flat: np.ndarray):
        super().__init__(views)
        self.flat = flat


def _t(a: np.ndarray) -> np.ndarray:
    """Transpose of each run's matrix (swap the last two axes)."""
    return a.swapaxes(-1, -2)


@dataclass(frozen=True)
class Network:
    """The architecture and its regularizers (no parameters: those live in a dict).

    sizes: (n_0, n_1, ..., n_L); n_L = 1 means a sigmoid output, n_L ≥ 2 a softmax.
    keep_prob: inverted-dropout keep probability per hidden layer (length L − 1); 1.0 means none.
    batchnorm: normalize every hidden layer's pre-activations with batch statistics in training and running
      averages at evaluation: running ← ρ·running + (1 − ρ)·batch, ρ = bn_momentum, the variance unbiased
      (m/(m−1)) as PyTorch keeps it.
    l2: λ; the cost gains λ/(2·n) Σ_l ‖W_l‖²_F and each dW_l gains λ·W_l / n, n = the training-set size.
    """

    sizes: tuple[int, ...]
    activation: str = "relu"
    keep_prob: tuple[float, ...] = ()
    batchnorm: bool = False
    l2: float = 0.0
    bn_momentum: float = 0.9
    bn_eps: float = 1e-5
    output: str = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(int(n) for n in self.sizes))
        keep = tuple(float(k) for k in self.keep_prob) or (1.0,) * (len(self.sizes) - 2)
        object.__setattr__(self, "keep_prob", keep)
        object.__setattr__(self, "output", "sigmoid" if self.sizes[-1] == 1 else "softmax")
        if len(keep) != len(self.sizes) - 2:
            raise ValueError(f"keep_prob has {len(keep)} entries for {len(self.sizes) - 2} hidden layers")

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def has_dropout(self) -> bool:
        return any(k < 1.0 for k in self.keep_prob)

    def _bn(self, layer: int) -> bool:
        return self.batchnorm and layer < self.n_layers

    # -- parameters ---------------------------------------------------------------------------------------
    def layout(self) -> dict[str, tuple[tuple[int, int], str]]:
        """Each parameter's per-run shape and role, in the course's order W1, b1, W2, b2, ... (γ, β replace the
        bias of a normalized layer). The roles (:data:`ROLES`) are declared here, where the parameters are made:
        ``W`` a "weight", ``b`` a "bias", ``gamma`` a norm "scale", ``beta`` a norm "shift"."""
        layout = {}
        for l in range(1, self.n_layers + 1):
            layout[f"W{l}"] = ((self.sizes[l], self.sizes[l - 1]), "weight")
            for name, role in (("gamma", "scale"), ("beta", "shift")) if self._bn(l) else (("b", "bias"),):
                layout[f"{name}{l}"] = ((self.sizes[l], 1), role)
        return layout

    def shapes(self) -> dict[str, tuple[int, int]]:
        """Each parameter's per-run shape (:meth:`layout`)."""
        return {k: shape for k, (shape, _) in self.layout().items()}

    def roles(self) -> dict[str, str]:
        """Each parameter's role (:meth:`layout`): what an optimizer that treats parameters apart reads."""
        return {k: role for k, (_, role) in self.layout().items()}

    def offsets(self) -> dict[str, int]:
        """Where each parameter starts in a run's row of the :meth:`allocate` buffer: the weight matrices
        first (W1, W2, ...), then the rest, each row-major."""
        shapes, roles = self.shapes(), self.roles()
        order = [k for k in shapes if roles[k] == "weight"] + [k for k in shapes if roles[k] != "weight"]
        starts = np.cumsum([0] + [shapes[k][0] * shapes[k][1] for k in order])
        return {k: int(start) for k, start in zip(order, starts)}

    def allocate(self, runs: int) -> Params:
        """Every parameter as a named view into one zeroed buffer (R, P) laid out as :meth:`offsets` says
        (``.flat``). An optimizer then updates all parameters with a few whole-buffer operations (see
        :meth:`groups`), and backward scales all gradients by 1/m with one, where a dict of separate arrays
        would cost a few operations per array."""
        shapes, offsets = self.shapes(), self.offsets()
        flat = np.zeros((runs, sum(a * b for a, b in shapes.values())))
        return Params(
            {k: flat[:, offsets[k] : offsets[k] + a * b].reshape(runs, a, b) for k, (a, b) in shapes.items()}, flat
        )

    def groups(self, flat: np.ndarray, mask: Mapping[str, bool] | None = None) -> dict[str, np.ndarray]:
        """The buffer of :meth:`allocate` as the fewest views an optimizer needs: ``{"all": flat}`` without a
        ``mask``; with one (``{name: bool}``, an optimizer's mask over :meth:`roles`), ``{"masked": the
        parameters it selects, "rest": the others}``, each one view, as the buffer holds the selected ones first.
        A mask that selects anything but a leading run of :meth:`offsets`' order (the weights) is refused."""
        if mask is None:
            return {"all": flat}
        shapes, offsets = self.shapes(), self.offsets()
        order = sorted(shapes, key=offsets.get)
        n_masked = sum(bool(mask[k]) for k in order)
        if any(bool(mask[k]) != (i < n_masked) for i, k in enumerate(order)):
            raise ValueError(f"mask {dict(mask)} does not select the leading parameters of the buffer {order}")
        split = sum(a * b for k, (a, b) in shapes.items() if mask[k])
        return {"masked": flat[:, :split], "rest": flat[:, split:]}

    def init_params(self, initializer, rngs, out: dict | None = None) -> dict[str, np.ndarray]:
        """Draw W_1, ..., W_L in order from each run's generator (biases and β zero, γ one), into ``out``
        (views from :meth:`allocate`) or into a new buffer."""
        params = out if out is not None else self.allocate(len(rngs))
        for key, (shape, role) in self.layout().items():
            if role == "weight":
                for r, rng in enumerate(rngs):
                    params[key][r] = initializer(rng, shape)
            else:
                params[key][...] = 1.0 if role == "scale" else 0.0
        return params

    def init_bn_state(self, runs: int) -> dict[str, np.ndarray]:
        """Running mean (0) and variance (1) of each normalized layer."""
        state = {}
        for l in range(1, self.n_layers):
            if self.batchnorm:
                state[f"mean{l}"] = np.zeros((runs, self.sizes[l], 1))
                state[f"var{l}"] = np.ones((runs, self.sizes[l], 1))
        return state

    def dropout_shapes(self, runs: int, m: int) -> list[tuple[tuple[int, int, int], float]]:
        """(mask shape, keep_prob) of each hidden layer, in order."""
        return [((runs, self.sizes[l], m), self.keep_prob[l - 1]) for l in range(1, self.n_layers)]

    # -- forward ----------------------------------------------------------------------------------------
    def forward(self, params, X, *, train=False, masks=None, bn_state=None):
        """Return the output logits Z_L and the cache that :meth:`backward` needs.

        masks: one boolean array (or None) per hidden layer; given in training when keep_prob < 1.
        bn_state: running statistics, updated in place in training, used at evaluation.
        """
        g = ACTIVATIONS[self.activation][0]
        A = X
        cache = []
        L = self.n_layers
        for l in range(1, L + 1):
            A_prev = A
            Z = params[f"W{l}"] @ A_prev
            bn = None
            if self.batchnorm and l < L:
                Z, bn = self._bn_forward(l, Z, params, train, bn_state)
            else:
                Z += params[f"b{l}"]
            if l == L:
                cache.append((A_prev, Z, None, None, bn))
                return Z, cache
            A = g(Z)
            mask = masks[l - 1] if masks is not None else None
            cache.append((A_prev, Z, A, mask, bn))
            if mask is not None:
                A = (A * mask) / self.keep_prob[l - 1]
        raise AssertionError("unreachable")

    def _bn_forward(self, l, Z, params, train, bn_state):
        if train:
            mu = Z.mean(axis=-1, keepdims=True)
            var = Z.var(axis=-1, keepdims=True)
            if bn_state is not None:
                m, rho = Z.shape[-1], self.bn_momentum
                bn_state[f"mean{l}"] = rho * bn_state[f"mean{l}"] + (1 - rho) * mu
                unbiased = var * (m / (m - 1)) if m > 1 else var
                bn_state[f"var{l}"] = rho * bn_state[f"var{l}"] + (1 - rho) * unbiased
        else:
            mu, var = bn_state[f"mean{l}"], bn_state[f"var{l}"]
        inv = 1.0 / np.sqrt(var + self.bn_eps)
        Zhat = (Z - mu) * inv
        return params[f"gamma{l}"] * Zhat + params[f"beta{l}"], (Zhat, inv, train)

    # -- cost -------------------------------------------------------------------------------------------
    def probabilities(self, Z):
        return OUTPUTS[self.output][0](Z)

    def loss_sum(self, Z, Y) -> np.ndarray:
        """Per run, the sum over the batch of the per-example losses, shape (R,)."""
        return OUTPUTS[self.output][1](Z, Y)

    def l2_penalty(self, params, n: int) -> np.ndarray:
        """λ/(2n) Σ_l ‖W_l‖²_F per run, shape (R,)."""
        if not self.l2:
            return 0.0
        total = sum(np.square(params[f"W{l}"]).sum(axis=(-2, -1)) for l in range(1, self.n_layers + 1))
        return self.l2 / (2 * n) * total

    def cost_of(self, Z, Y, params, n: int | None) -> np.ndarray:
        """The cost per run from the output layer's Z: J = (1/m) Σ loss + λ/(2n) Σ_l ‖W_l‖²_F, m = the examples
        in Y; without ``n`` (None or 0), the mean loss alone."""
        cost = self.loss_sum(Z, Y) / Y.shape[-1]
        return cost + self.l2_penalty(params, n) if n else cost

    def cost(self, params, X, Y, *, train=False, masks=None, bn_state=None, n=None) -> np.ndarray:
        """Mean loss over the examples plus the L2 penalty (over ``n``, default the m examples), per run."""
        Z, _ = self.forward(params, X, train=train, masks=masks, bn_state=bn_state)
        return self.cost_of(Z, Y, params, n or X.shape[-1])

    # -- backward ---------------------------------------------------------------------------------------
    def backward(self, params, cache, Z_L, Y, n=None, out: Params | None = None) -> Params:
        """Gradients of the cost (mean loss over the batch + L2 with training-set size n) for every
        parameter, keyed like ``params``; written into ``out`` (from :meth:`allocate`) when given."""
        g_prime = ACTIVATIONS[self.activation][1]
        m = Y.shape[-1]
        n = n or m
        grads = out if out is not None else self.allocate(Z_L.shape[0])
        dZ = self.probabilities(Z_L)
        dZ -= Y  # m times the gradient of the mean loss: the 1/m is applied to each parameter's gradient
        for l in range(self.n_layers, 0, -1):
            A_prev, Z, A, mask, bn = cache[l - 1]
            if bn is not None:
                dZ = self._bn_backward(l, dZ, params, bn, grads)
            else:
                np.add.reduce(dZ, axis=-1, keepdims=True, out=grads[f"b{l}"])  # db = Σ_examples dZ
            np.matmul(dZ, _t(A_prev), out=grads[f"W{l}"])
            if l > 1:
                dZ = _t(params[f"W{l}"]) @ dZ  # dA of the layer below, turned into its dZ in place:
                _, Z_prev, A_act, mask_prev, _ = cache[l - 2]
                if mask_prev is not None:  # dA = dA·D / keep_prob
                    dZ *= mask_prev
                    dZ /= self.keep_prob[l - 2]
                dZ *= g_prime(Z_prev, A_act)  # dZ = dA * g'(Z)
        grads.flat *= 1.0 / m  # dW = (1/m)·dZ·A_prevᵀ (+ λ·W/n), as the course writes it
        if self.l2:
            for l in range(1, self.n_layers + 1):
                grads[f"W{l}"] += (self.l2 * params[f"W{l}"]) / n
        return grads

    def _bn_backward(self, l, dZt, params, bn, grads):
        """Through Z̃ = γ·Ẑ + β, Ẑ = (Z − μ)·inv. With batch statistics (μ, inv depend on Z):
        dZ = inv/m·(m·dẐ − Σ dẐ − Ẑ·Σ(dẐ·Ẑ)); with running statistics (constants): dZ = dẐ·inv."""
        Zhat, inv, batch_stats = bn
        m = Zhat.shape[-1]
        np.sum(dZt * Zhat, axis=-1, keepdims=True, out=grads[f"gamma{l}"])
        np.sum(dZt, axis=-1, keepdims=True, out=grads[f"beta{l}"])
        dZhat = dZt * params[f"gamma{l}"]
        if not batch_stats:
            return dZhat * inv
        return (inv / m) * (
            m * dZhat - dZhat.sum(axis=-1, keepdims=True) - Zhat * (dZhat * Zhat).sum(axis=-1, keepdims=True)
        )

    # -- evaluation -------------------------------------------------------------------------------------
    def predict(self, params, X, bn_state=None) -> np.ndarray:
        """Class labels (R, m): σ(z) > 0.5 for one output unit, argmax of the softmax otherwise."""
        Z, _ = self.forward(params, X, bn_state=bn_state)
        if self.output == "sigmoid":
            return (self.probabilities(Z)[:, 0, :] > 0.5).astype(np.int64)
        return Z.argmax(axis=-2)
