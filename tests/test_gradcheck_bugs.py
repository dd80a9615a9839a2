"""The gradient-check gate never misses a bug: backward-pass bugs planted in the real code, each caught
(``status = fail``, ``cause = unexplained``) on every cell it affects, and no false alarm on the others.

A bug is planted as a mutation of the source of ``Network.backward`` / ``Network._bn_backward`` (one
snippet replaced, compiled into a subclass) or of an activation's derivative, so the test exercises the
code the trainer runs, not a copy of it. Each snippet must occur exactly once: if the backward pass is
rewritten, this test fails loudly instead of silently planting nothing.

The cells: sigmoid and softmax outputs × ReLU, leaky ReLU and tanh × no regularization, L2, dropout and
batch norm, on a [3, 5, 5, n_out] network (W2 square, so that a transposed dW2 keeps its shape) with 16
examples, checked on every coordinate at the course's ε = 1e-7 by ``studies.gradcheck.check_row``, the
function the workflow's gate uses.
"""

from __future__ import annotations

import inspect
import itertools
import textwrap

import numpy as np
import pytest

from nnbench import network as network_module
from nnbench.activations import ACTIVATIONS, LEAKY_SLOPE, leaky_relu, relu
from nnbench.gradcheck import THRESHOLD
from nnbench.initializers import He
from nnbench.losses import targets
from nnbench.network import Network
from nnbench.studies import gradcheck

OUTPUTS = {"sigmoid": 1, "softmax": 3}
ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh")
REGS = {"none": {}, "l2": {"l2": 0.5}, "dropout": {"keep_prob": (0.8, 0.7)}, "batchnorm": {"batchnorm": True}}
CELLS = list(itertools.product(OUTPUTS, ACTIVATION_NAMES, REGS))


def everywhere(output, activation, reg):
    return True


# name -> (where, old snippet, new snippet, cells it affects). ``where`` is a Network method, or
# "activation:NAME" for a derivative replaced in the ACTIVATIONS registry (new = the wrong derivative).
BUGS = {
    "1/m scaling missing": ("backward", "grads.flat *= 1.0 / m", "pass", everywhere),
    "dW2 transposed": (
        "backward",
        'np.matmul(dZ, _t(A_prev), out=grads[f"W{l}"])',
        'np.matmul(dZ, _t(A_prev), out=grads[f"W{l}"])\n'
        "if l == 2:\n"
        '    grads[f"W{l}"][...] = _t(grads[f"W{l}"]).copy()',
        everywhere,
    ),
    "wrong sign of the output error (Y − A)": ("backward", "dZ -= Y", "dZ -= Y\ndZ *= -1", everywhere),
    "output gradient times σ'(z) again": (
        "backward",
        "dZ -= Y",
        "dZ -= Y\ndZ *= self.probabilities(Z_L) * (1 - self.probabilities(Z_L))",
        everywhere,
    ),
    "bias gradient summed over units too": (
        "backward",
        'np.add.reduce(dZ, axis=-1, keepdims=True, out=grads[f"b{l}"])',
        'grads[f"b{l}"][...] = dZ.sum(axis=(-2, -1), keepdims=True)',
        # with batch norm the only bias is the output layer's, one unit wide under a sigmoid: no change there
        lambda output, activation, reg: not (reg == "batchnorm" and output == "sigmoid"),
    ),
    "dropout mask missing in backward": (
        "backward",
        "dZ *= mask_prev\n",
        "",
        lambda output, activation, reg: reg == "dropout",
    ),
    "dropout not rescaled by keep_prob": (
        "backward",
        "dZ /= self.keep_prob[l - 2]",
        "pass",
        lambda output, activation, reg: reg == "dropout",
    ),
    "L2 term missing": (
        "backward",
        'grads[f"W{l}"] += (self.l2 * params[f"W{l}"]) / n',
        "pass",
        lambda output, activation, reg: reg == "l2",
    ),
    "L2 term doubled": (
        "backward",
        'grads[f"W{l}"] += (self.l2 * params[f"W{l}"]) / n',
        'grads[f"W{l}"] += (2 * self.l2 * params[f"W{l}"]) / n',
        lambda output, activation, reg: reg == "l2",
    ),
    "batch norm: mean term missing": (
        "_bn_backward",
        "- dZhat.sum(axis=-1, keepdims=True) ",
        "",
        lambda output, activation, reg: reg == "batchnorm",
    ),
    "batch norm: variance term missing": (
        "_bn_backward",
        "- Zhat * (dZhat * Zhat).sum(axis=-1, keepdims=True)",
        "",
        lambda output, activation, reg: reg == "batchnorm",
    ),
    "batch norm: dγ without Ẑ": (
        "_bn_backward",
        'np.sum(dZt * Zhat, axis=-1, keepdims=True, out=grads[f"gamma{l}"])',
        'np.sum(dZt, axis=-1, keepdims=True, out=grads[f"gamma{l}"])',
        lambda output, activation, reg: reg == "batchnorm",
    ),
    "batch norm: dβ times Ẑ": (
        "_bn_backward",
        'np.sum(dZt, axis=-1, keepdims=True, out=grads[f"beta{l}"])',
        'np.sum(dZt * Zhat, axis=-1, keepdims=True, out=grads[f"beta{l}"])',
        lambda output, activation, reg: reg == "batchnorm",
    ),
    "ReLU derivative 1 everywhere": (
        "activation:relu",
        None,
        lambda z, a: np.ones_like(z),
        lambda output, activation, reg: activation == "relu",
    ),
    "leaky ReLU derivative 0 below zero": (
        "activation:leaky_relu",
        None,
        lambda z, a: (z > 0).astype(float),
        lambda output, activation, reg: activation == "leaky_relu",
    ),
    "tanh derivative 1 − a": (
        "activation:tanh",
        None,
        lambda z, a: 1 - a,
        lambda output, activation, reg: activation == "tanh",
    ),
}


def mutant(method: str, old: str, new: str) -> type:
    """A subclass of Network whose ``method`` has ``old`` (occurring once) replaced by ``new`` (whose
    later lines are indented like the line ``old`` starts on)."""
    source = textwrap.dedent(inspect.getsource(getattr(Network, method)))
    assert source.count(old) == 1, f"{old!r} occurs {source.count(old)} times in Network.{method}"
    line = source[source.rindex("\n", 0, source.index(old)) + 1 :]
    new = new.replace("\n", "\n" + " " * (len(line) - len(line.lstrip())))
    namespace = dict(vars(network_module))
    exec(compile(source.replace(old, new), f"<mutant of Network.{method}>", "exec"), namespace)
    return type("Mutant", (Network,), {method: namespace[method]})


def check_cell(net_class, output, activation, reg) -> dict:
    rng = np.random.default_rng(7)
    m = 16
    net = net_class(sizes=(3, 5, 5, OUTPUTS[output]), activation=activation, **REGS[reg])
    params = net.init_params(He(), [rng])
    X = rng.standard_normal((1, 3, m))
    Y = targets(rng.integers(0, OUTPUTS[output] if output == "softmax" else 2, size=(1, m)), net.sizes[-1])
    masks = [rng.random(shape) < keep for shape, keep in net.dropout_shapes(1, m)] if net.has_dropout else None
    coords = gradcheck.choose_coords(net.shapes(), 10_000, rng)
    return gradcheck.check_row(net, params, X, Y, masks, coords, 1e-7, THRESHOLD)


def planted(bug, monkeypatch) -> type:
    where, old, new, _ = BUGS[bug]
    if where.startswith("activation:"):
        name = where.split(":", 1)[1]
        monkeypatch.setitem(ACTIVATIONS, name, (ACTIVATIONS[name][0], new))
        return Network
    return mutant(where, old, new)


def test_at_least_twelve_bugs_cover_every_part_of_the_backward_pass():
    assert len(BUGS) >= 12
    assert {where for where, *_ in BUGS.values()} >= {
        "backward",
        "_bn_backward",
        "activation:relu",
        "activation:leaky_relu",
    }


@pytest.mark.parametrize("output, activation, reg", CELLS)
def test_the_correct_backward_pass_passes_every_cell(output, activation, reg):
    row = check_cell(Network, output, activation, reg)
    assert row["status"] == "pass" or row["cause"] != "unexplained", row


@pytest.mark.parametrize("bug", list(BUGS))
def test_a_planted_bug_is_caught_on_the_cells_it_affects_and_only_there(bug, monkeypatch):
    net_class = planted(bug, monkeypatch)
    affects = BUGS[bug][3]
    caught, alarms = [], []
    for cell in CELLS:
        row = check_cell(net_class, *cell)
        failed = row["status"] == "fail" and row["cause"] == "unexplained"
        if affects(*cell):
            caught.append((cell, failed, row["difference"], row["difference_best"]))
        elif failed:
            alarms.append((cell, row["difference"]))
    assert caught, f"{bug}: affects no cell"
    missed = [c for c in caught if not c[1]]
    assert not missed, f"{bug}: missed on {missed}"
    assert not alarms, f"{bug}: failed on cells it does not affect: {alarms}"


def test_the_activation_derivatives_planted_above_really_differ():
    z = np.linspace(-2, 2, 9)
    assert not np.allclose(BUGS["ReLU derivative 1 everywhere"][2](z, relu(z)), ACTIVATIONS["relu"][1](z, relu(z)))
    wrong = BUGS["leaky ReLU derivative 0 below zero"][2](z, leaky_relu(z))
    assert np.allclose(ACTIVATIONS["leaky_relu"][1](z, leaky_relu(z)) - wrong, np.where(z > 0, 0, LEAKY_SLOPE))
