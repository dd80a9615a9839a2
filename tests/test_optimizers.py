"""Tests of the optimizers (nnbench.optimizers): hand-computed steps, state, run independence,
convergence on a quadratic and on Rosenbrock, and validation of the hyper-parameters.

Every expected value is written out from the formula in the module docstring on the literal numbers
below, with plain NumPy (never through the implementation's helpers).
"""

import copy

import numpy as np
import pytest

from nnbench.optimizers import OPTIMIZERS
from nnbench.registry import SpecError, make

ALL = ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"]

# Literal parameters with the leading run axis: 2 runs, a 3x2 weight matrix and a 3x1 bias each.
W0 = np.array([[[0.5, -1.0], [2.0, 0.0], [-0.3, 0.7]], [[1.5, 0.2], [-2.0, 1.0], [0.1, -0.4]]])
B0 = np.array([[[0.1], [-0.2], [0.3]], [[0.0], [0.5], [-0.5]]])
# Gradients of step 1 and step 2.
GW1 = np.array([[[1.0, -2.0], [0.5, 0.0], [3.0, -0.25]], [[-1.0, 4.0], [0.2, -0.6], [1.0, 2.0]]])
GB1 = np.array([[[0.4], [-1.0], [2.0]], [[1.0], [0.0], [-3.0]]])
GW2 = np.array([[[-1.0, -1.0], [0.5, 2.0], [1.0, 0.75]], [[2.0, 1.0], [-0.2, 0.6], [-1.0, 0.5]]])
GB2 = np.array([[[0.4], [1.0], [-2.0]], [[0.5], [1.0], [1.0]]])
LR1, LR2 = 0.1, 0.05  # a different learning rate per step, as a schedule would give


def fresh():
    return {"W1": W0.copy(), "b1": B0.copy()}


def grads1():
    return {"W1": GW1.copy(), "b1": GB1.copy()}


def grads2():
    return {"W1": GW2.copy(), "b1": GB2.copy()}


def run_steps(name, n, options=None, params=None):
    """Take n (1 or 2) steps of optimizer ``name``; return (params, state)."""
    opt = make(OPTIMIZERS, "optimizer", name, options or {})
    params = fresh() if params is None else params
    state = opt.init(params)
    assert opt.update(params, grads1(), state, LR1) is None
    if n == 2:
        assert opt.update(params, grads2(), state, LR2) is None
    return params, state


def assert_params(params, W, b):
    assert set(params) == {"W1", "b1"}
    assert params["W1"].shape == (2, 3, 2) and params["b1"].shape == (2, 3, 1)
    np.testing.assert_allclose(params["W1"], W, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(params["b1"], b, rtol=1e-13, atol=1e-15)


def test_registry_has_every_optimizer():
    assert set(OPTIMIZERS) == set(ALL)


# ----------------------------------------------------------------------------- sgd


def test_sgd_one_and_two_steps():
    p, state = run_steps("sgd", 1)
    assert_params(p, W0 - 0.1 * GW1, B0 - 0.1 * GB1)
    assert set(state) == {"scratch"}  # work arrays only: plain SGD keeps no moments
    p, _ = run_steps("sgd", 2)
    assert_params(p, W0 - 0.1 * GW1 - 0.05 * GW2, B0 - 0.1 * GB1 - 0.05 * GB2)
    # one entry fully by hand: 0.5 - 0.1*1.0 - 0.05*(-1.0) = 0.45
    assert p["W1"][0, 0, 0] == pytest.approx(0.45, abs=1e-15)


def test_update_is_in_place():
    for name in ALL:
        params = fresh()
        W_obj, b_obj = params["W1"], params["b1"]
        opt = make(OPTIMIZERS, "optimizer", name, {})
        state = opt.init(params)
        opt.update(params, grads1(), state, LR1)
        assert params["W1"] is W_obj and params["b1"] is b_obj, name
        assert not np.array_equal(W_obj, W0), name


# ----------------------------------------------------------------------------- momentum


@pytest.mark.parametrize("beta", [0.9, 0.5])
def test_momentum_one_and_two_steps(beta):
    p, state = run_steps("momentum", 1, {"beta": beta})
    vW = beta * 0.0 + (1 - beta) * GW1
    vb = beta * 0.0 + (1 - beta) * GB1
    assert_params(p, W0 - 0.1 * vW, B0 - 0.1 * vb)
    np.testing.assert_allclose(state["v"]["W1"], vW, rtol=1e-13)
    np.testing.assert_allclose(state["v"]["b1"], vb, rtol=1e-13)

    p, state = run_steps("momentum", 2, {"beta": beta})
    vW2 = beta * vW + (1 - beta) * GW2
    vb2 = beta * vb + (1 - beta) * GB2
    assert_params(p, W0 - 0.1 * vW - 0.05 * vW2, B0 - 0.1 * vb - 0.05 * vb2)
    np.testing.assert_allclose(state["v"]["W1"], vW2, rtol=1e-13, atol=1e-15)


def test_momentum_default_beta_scalar_by_hand():
    # β = 0.9, W = 0.5, g1 = 1, g2 = -1: v1 = 0.1, W = 0.5 - 0.1*0.1 = 0.49;
    # v2 = 0.09 - 0.1 = -0.01, W = 0.49 - 0.05*(-0.01) = 0.4905
    p, _ = run_steps("momentum", 1)
    assert p["W1"][0, 0, 0] == pytest.approx(0.49, abs=1e-14)
    p, state = run_steps("momentum", 2)
    assert state["v"]["W1"][0, 0, 0] == pytest.approx(-0.01, abs=1e-14)
    assert p["W1"][0, 0, 0] == pytest.approx(0.4905, abs=1e-14)


# ----------------------------------------------------------------------------- nesterov


@pytest.mark.parametrize("beta", [0.9, 0.5])
def test_nesterov_one_and_two_steps(beta):
    p, state = run_steps("nesterov", 1, {"beta": beta})
    vW = (1 - beta) * GW1
    vb = (1 - beta) * GB1
    stepW1 = beta * vW + (1 - beta) * GW1
    stepb1 = beta * vb + (1 - beta) * GB1
    assert_params(p, W0 - 0.1 * stepW1, B0 - 0.1 * stepb1)
    np.testing.assert_allclose(state["v"]["W1"], vW, rtol=1e-13)

    p, state = run_steps("nesterov", 2, {"beta": beta})
    vW2 = beta * vW + (1 - beta) * GW2
    vb2 = beta * vb + (1 - beta) * GB2
    stepW2 = beta * vW2 + (1 - beta) * GW2
    stepb2 = beta * vb2 + (1 - beta) * GB2
    assert_params(p, W0 - 0.1 * stepW1 - 0.05 * stepW2, B0 - 0.1 * stepb1 - 0.05 * stepb2)
    np.testing.assert_allclose(state["v"]["W1"], vW2, rtol=1e-13, atol=1e-15)


def test_nesterov_differs_from_momentum_by_hand():
    # β = 0.9, W = 0.5, g1 = 1: v1 = 0.1; step = 0.9*0.1 + 0.1*1 = 0.19; W = 0.5 - 0.1*0.19 = 0.481
    p, _ = run_steps("nesterov", 1)
    assert p["W1"][0, 0, 0] == pytest.approx(0.481, abs=1e-14)
    q, _ = run_steps("momentum", 1)
    assert not np.allclose(p["W1"], q["W1"])


# ----------------------------------------------------------------------------- rmsprop


@pytest.mark.parametrize("beta,eps", [(0.9, 1e-8), (0.99, 0.1)])
def test_rmsprop_one_and_two_steps(beta, eps):
    p, state = run_steps("rmsprop", 1, {"beta": beta, "eps": eps})
    sW = (1 - beta) * GW1**2
    sb = (1 - beta) * GB1**2
    W1 = W0 - 0.1 * GW1 / (np.sqrt(sW) + eps)
    b1 = B0 - 0.1 * GB1 / (np.sqrt(sb) + eps)
    assert_params(p, W1, b1)
    np.testing.assert_allclose(state["s"]["W1"], sW, rtol=1e-13)

    p, state = run_steps("rmsprop", 2, {"beta": beta, "eps": eps})
    sW2 = beta * sW + (1 - beta) * GW2**2
    sb2 = beta * sb + (1 - beta) * GB2**2
    assert_params(p, W1 - 0.05 * GW2 / (np.sqrt(sW2) + eps), b1 - 0.05 * GB2 / (np.sqrt(sb2) + eps))
    np.testing.assert_allclose(state["s"]["W1"], sW2, rtol=1e-13)


def test_rmsprop_eps_outside_the_root():
    # β = 0.9, eps = 0.1, g = 1: s = 0.1, step = 0.1 * 1 / (sqrt(0.1) + 0.1) = 0.24025307...
    # (eps inside the root would give 0.1 / sqrt(0.2) = 0.2236...)
    p, _ = run_steps("rmsprop", 1, {"beta": 0.9, "eps": 0.1})
    assert p["W1"][0, 0, 0] == pytest.approx(0.5 - 0.1 / (0.31622776601683794 + 0.1), abs=1e-14)
    assert p["W1"][0, 0, 0] == pytest.approx(0.5 - 0.24025307335204213, abs=1e-12)


# ----------------------------------------------------------------------------- adam


def adam_expected(W, g1, g2, b1=0.9, b2=0.999, eps=1e-8, n=2):
    """Adam by hand for t = 1 and t = 2, from the docstring's formula."""
    v = (1 - b1) * g1
    s = (1 - b2) * g1**2
    vhat, shat = v / (1 - b1**1), s / (1 - b2**1)
    W = W - 0.1 * vhat / (np.sqrt(shat) + eps)
    if n == 1:
        return W, v, s
    v = b1 * v + (1 - b1) * g2
    s = b2 * s + (1 - b2) * g2**2
    vhat, shat = v / (1 - b1**2), s / (1 - b2**2)
    W = W - 0.05 * vhat / (np.sqrt(shat) + eps)
    return W, v, s


@pytest.mark.parametrize("b1,b2,eps", [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3)])
def test_adam_one_and_two_steps(b1, b2, eps):
    opts = {"beta1": b1, "beta2": b2, "eps": eps}
    p, state = run_steps("adam", 1, opts)
    W1, vW, sW = adam_expected(W0, GW1, GW2, b1, b2, eps, n=1)
    bias1, vb, sb = adam_expected(B0, GB1, GB2, b1, b2, eps, n=1)
    assert_params(p, W1, bias1)
    assert state["t"] == 1
    np.testing.assert_allclose(state["v"]["W1"], vW, rtol=1e-13)
    np.testing.assert_allclose(state["s"]["b1"], sb, rtol=1e-13)

    p, state = run_steps("adam", 2, opts)
    W2, vW, sW = adam_expected(W0, GW1, GW2, b1, b2, eps)
    bias2, vb, sb = adam_expected(B0, GB1, GB2, b1, b2, eps)
    assert_params(p, W2, bias2)
    assert state["t"] == 2
    np.testing.assert_allclose(state["v"]["W1"], vW, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(state["s"]["W1"], sW, rtol=1e-13)


def test_adam_bias_correction_scalars_by_hand():
    # t = 1: v̂ = g, ŝ = g², so every parameter moves by lr·g/(|g| + eps) ≈ lr·sign(g).
    p, _ = run_steps("adam", 1)
    sign = np.sign(GW1)
    np.testing.assert_allclose(p["W1"], W0 - 0.1 * sign, atol=1e-8)
    # where g == 0 the parameter stays put
    assert p["W1"][0, 1, 1] == 0.0
    # t = 2 at W1[0,0,0]: g1 = 1, g2 = -1: v = 0.09 - 0.1 = -0.01, v̂ = -0.01/0.19;
    # s = 0.000999 + 0.001 = 0.001999, ŝ = 0.001999/0.001999 = 1.
    p, state = run_steps("adam", 2)
    assert state["v"]["W1"][0, 0, 0] == pytest.approx(-0.01, abs=1e-15)
    assert state["s"]["W1"][0, 0, 0] == pytest.approx(0.001999, abs=1e-15)
    expected = 0.5 - 0.1 * 1.0 / (1.0 + 1e-8) - 0.05 * (-0.01 / 0.19) / (1.0 + 1e-8)
    assert p["W1"][0, 0, 0] == pytest.approx(expected, abs=1e-12)
    assert p["W1"][0, 0, 0] == pytest.approx(0.4026315799, abs=1e-9)


# ----------------------------------------------------------------------------- adamw


@pytest.mark.parametrize("wd", [0.01, 0.5])
def test_adamw_decays_weights_only(wd):
    params = {"W1": W0.copy(), "b1": B0.copy(), "gamma1": B0.copy() + 1.0, "beta1": B0.copy() - 1.0}
    grads_a = {"W1": GW1, "b1": GB1, "gamma1": GB1 * 2, "beta1": GB1 * -1}
    grads_b = {"W1": GW2, "b1": GB2, "gamma1": GB2 * 2, "beta1": GB2 * -1}
    opt = make(OPTIMIZERS, "optimizer", "adamw", {"weight_decay": wd})
    roles = {"W1": "weight", "b1": "bias", "gamma1": "scale", "beta1": "shift"}  # as Network.roles declares them
    state = opt.init(params, opt.mask(roles))
    opt.update(params, {k: v.copy() for k, v in grads_a.items()}, state, LR1)
    opt.update(params, {k: v.copy() for k, v in grads_b.items()}, state, LR2)

    # W: decay first (W ← W − α λ W), then the Adam step, at each of the two steps.
    W = W0.copy()
    v = (1 - 0.9) * GW1
    s = (1 - 0.999) * GW1**2
    W = W - 0.1 * wd * W
    W = W - 0.1 * (v / (1 - 0.9)) / (np.sqrt(s / (1 - 0.999)) + 1e-8)
    v = 0.9 * v + (1 - 0.9) * GW2
    s = 0.999 * s + (1 - 0.999) * GW2**2
    W = W - 0.05 * wd * W
    W = W - 0.05 * (v / (1 - 0.9**2)) / (np.sqrt(s / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(params["W1"], W, rtol=1e-13)

    # b, gamma, beta: plain Adam, no decay.
    for key, start in (("b1", B0), ("gamma1", B0 + 1.0), ("beta1", B0 - 1.0)):
        expected, _, _ = adam_expected(start, grads_a[key], grads_b[key])
        np.testing.assert_allclose(params[key], expected, rtol=1e-13, atol=1e-15, err_msg=key)


def test_adamw_without_mask_decays_every_parameter():
    """As optax's ``adamw`` without a mask: init(params) alone decays every key."""
    opt = make(OPTIMIZERS, "optimizer", "adamw", {"weight_decay": 0.5})
    params = fresh()
    state = opt.init(params)
    opt.update(params, {"W1": np.zeros_like(W0), "b1": np.zeros_like(B0)}, state, 0.1)
    np.testing.assert_allclose(params["b1"], B0 * 0.95, rtol=1e-15)


def test_network_declares_roles_and_groups_by_mask():
    from nnbench.network import Network
    from nnbench.optimizers import weights_only

    net = Network((2, 3, 1), batchnorm=True)
    assert net.roles() == {"W1": "weight", "gamma1": "scale", "beta1": "shift", "W2": "weight", "b2": "bias"}
    flat = net.allocate(2).flat
    groups = net.groups(flat, weights_only(net.roles()))
    assert groups["masked"].shape == (2, 2 * 3 + 3 * 1) and groups["rest"].shape == (2, 3 + 3 + 1)
    assert net.groups(flat)["all"] is flat
    with pytest.raises(ValueError, match="leading parameters"):
        net.groups(flat, {"W1": False, "gamma1": True, "beta1": False, "W2": False, "b2": False})


def test_adamw_zero_decay_is_adam():
    p, _ = run_steps("adamw", 2, {"weight_decay": 0.0})
    q, _ = run_steps("adam", 2)
    np.testing.assert_array_equal(p["W1"], q["W1"])
    np.testing.assert_array_equal(p["b1"], q["b1"])


def test_adamw_decay_with_zero_gradient_by_hand():
    # g = 0: the Adam step is 0, so only the decay acts: W ← W (1 − α λ) = 0.5 * (1 - 0.1*0.5) = 0.475
    params = fresh()
    opt = make(OPTIMIZERS, "optimizer", "adamw", {"weight_decay": 0.5})
    state = opt.init(params, opt.mask({"W1": "weight", "b1": "bias"}))
    opt.update(params, {"W1": np.zeros_like(W0), "b1": np.zeros_like(B0)}, state, 0.1)
    assert params["W1"][0, 0, 0] == pytest.approx(0.475, abs=1e-15)
    np.testing.assert_allclose(params["W1"], W0 * 0.95, rtol=1e-15)
    np.testing.assert_array_equal(params["b1"], B0)


# ----------------------------------------------------------------------------- state


STATE_KEYS = {
    "sgd": set(),
    "momentum": {"v"},
    "nesterov": {"v"},
    "rmsprop": {"s"},
    "adam": {"t", "v", "s"},
    "adamw": {"t", "v", "s", "decay"},
}


@pytest.mark.parametrize("name", ALL)
def test_state_shapes_and_start(name):
    opt = make(OPTIMIZERS, "optimizer", name, {})
    params = fresh()
    state = opt.init(params)
    assert set(state) - {"scratch"} == STATE_KEYS[name]  # "scratch": work arrays, no state
    for key in STATE_KEYS[name] - {"t", "decay"}:
        assert set(state[key]) == {"W1", "b1"}
        for k in ("W1", "b1"):
            assert state[key][k].shape == params[k].shape
            assert state[key][k].dtype == np.float64
            assert not np.any(state[key][k])
            assert state[key][k] is not params[k]
    if "t" in state:
        assert state["t"] == 0
    # init does not touch the parameters
    np.testing.assert_array_equal(params["W1"], W0)
    np.testing.assert_array_equal(params["b1"], B0)


# ----------------------------------------------------------------------------- runs are independent


@pytest.mark.parametrize("name", ALL)
def test_runs_do_not_interact(name):
    """Two runs stepped together equal each run stepped alone (leading axis = run)."""
    together, _ = run_steps(name, 2)
    for r in range(2):
        opt = make(OPTIMIZERS, "optimizer", name, {})
        alone = {"W1": W0[r : r + 1].copy(), "b1": B0[r : r + 1].copy()}
        state = opt.init(alone)
        opt.update(alone, {"W1": GW1[r : r + 1].copy(), "b1": GB1[r : r + 1].copy()}, state, LR1)
        opt.update(alone, {"W1": GW2[r : r + 1].copy(), "b1": GB2[r : r + 1].copy()}, state, LR2)
        np.testing.assert_allclose(together["W1"][r], alone["W1"][0], rtol=1e-15, atol=0)
        np.testing.assert_allclose(together["b1"][r], alone["b1"][0], rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", ALL)
def test_gradient_of_run_0_leaves_run_1(name):
    """Only run 0 has a gradient: run 1 is unchanged (AdamW: only decayed)."""
    opt = make(OPTIMIZERS, "optimizer", name, {})
    params = fresh()
    state = opt.init(params, {"W1": True, "b1": False})  # the mask of an optimizer that has one (AdamW's decay)
    g = grads1()
    g["W1"][1] = 0.0
    g["b1"][1] = 0.0
    opt.update(params, g, state, LR1)
    opt.update(params, copy.deepcopy(g), state, LR2)
    expected_W1 = W0[1] * (1 - 0.1 * 0.01) * (1 - 0.05 * 0.01) if name == "adamw" else W0[1]
    np.testing.assert_allclose(params["W1"][1], expected_W1, rtol=1e-15)
    np.testing.assert_array_equal(params["b1"][1], B0[1])
    assert not np.allclose(params["W1"][0], W0[0])
    if name == "sgd":
        np.testing.assert_array_equal(params["W1"][1], W0[1])


# ----------------------------------------------------------------------------- convergence (optax alias_test style)

TARGET = np.array([[[1.0], [-2.0], [0.5]], [[3.0], [0.0], [-1.5]]])  # w*, one per run

CONVERGE = [  # name, options, lr, step budget
    ("sgd", {}, 0.1, 200),
    ("momentum", {}, 0.1, 200),
    ("nesterov", {}, 0.1, 250),
    ("rmsprop", {}, 0.01, 800),
    ("adam", {}, 0.01, 2000),
    ("adamw", {"weight_decay": 0.0}, 0.01, 2000),
]


def minimize_quadratic(name, options, lr, steps):
    opt = make(OPTIMIZERS, "optimizer", name, options)
    params = {"W1": np.zeros_like(TARGET)}
    state = opt.init(params)
    for step in range(1, steps + 1):
        opt.update(params, {"W1": params["W1"] - TARGET}, state, lr)  # ∇ ½‖w − w*‖² = w − w*
        if np.abs(params["W1"] - TARGET).max() < 1e-3:
            return params["W1"], step
    return params["W1"], None


@pytest.mark.parametrize("name,options,lr,steps", CONVERGE)
def test_minimizes_quadratic(name, options, lr, steps):
    W, step = minimize_quadratic(name, options, lr, steps)
    assert step is not None, f"{name} did not reach 1e-3 in {steps} steps: {W.ravel()}"
    f = 0.5 * np.sum((W - TARGET) ** 2, axis=(1, 2))
    assert np.all(f < 1e-6)


def test_adamw_with_decay_stops_short_of_the_minimum_towards_zero():
    opt = make(OPTIMIZERS, "optimizer", "adamw", {"weight_decay": 0.1})
    params = {"W1": np.zeros_like(TARGET)}
    state = opt.init(params)
    for _ in range(3000):
        opt.update(params, {"W1": params["W1"] - TARGET}, state, 0.01)
    W = params["W1"]
    nonzero = TARGET != 0
    # shrunk towards 0: 0 < W/w* < 1 where w* != 0, and close to w* (within λ|w*|)
    ratio = W[nonzero] / TARGET[nonzero]
    assert np.all(ratio < 1) and np.all(ratio > 0.9)
    np.testing.assert_allclose(W[~nonzero], 0.0, atol=1e-6)


def test_adam_minimizes_rosenbrock():
    # f(x, y) = (1 − x)² + 100 (y − x²)², minimum at (1, 1); two runs from different starts.
    opt = make(OPTIMIZERS, "optimizer", "adam", {})
    params = {"W1": np.array([[[-1.2]], [[0.0]]]), "W2": np.array([[[1.0]], [[0.0]]])}
    state = opt.init(params)
    reached = None
    for step in range(1, 8001):
        x, y = params["W1"], params["W2"]
        grads = {"W1": -2 * (1 - x) - 400 * x * (y - x**2), "W2": 200 * (y - x**2)}
        opt.update(params, grads, state, 0.01)
        if max(np.abs(params["W1"] - 1).max(), np.abs(params["W2"] - 1).max()) < 1e-3:
            reached = step
            break
    assert reached is not None, (params["W1"].ravel(), params["W2"].ravel())
    x, y = params["W1"], params["W2"]
    assert np.all((1 - x) ** 2 + 100 * (y - x**2) ** 2 < 1e-3)


# ----------------------------------------------------------------------------- validation

BAD = [
    ("momentum", "beta", -0.1),
    ("momentum", "beta", 1.0),
    ("momentum", "beta", 1.5),
    ("nesterov", "beta", -0.5),
    ("nesterov", "beta", 1.0),
    ("rmsprop", "beta", -0.01),
    ("rmsprop", "beta", 1.0),
    ("rmsprop", "eps", 0.0),
    ("rmsprop", "eps", -1e-8),
    ("adam", "beta1", -0.1),
    ("adam", "beta1", 1.0),
    ("adam", "beta2", 1.0),
    ("adam", "beta2", 2.0),
    ("adam", "eps", 0.0),
    ("adam", "eps", -1.0),
    ("adamw", "beta1", 1.0),
    ("adamw", "beta2", -0.001),
    ("adamw", "eps", 0),
    ("adamw", "weight_decay", -0.01),
    ("adamw", "weight_decay", "high"),
    ("adam", "beta1", float("nan")),
    ("momentum", "beta", True),
]


@pytest.mark.parametrize("name,option,value", BAD)
def test_bad_option_values_raise(name, option, value):
    with pytest.raises(SpecError) as info:
        make(OPTIMIZERS, "optimizer", name, {option: value})
    assert option in str(info.value)
    assert info.value.field == f"optimizer_options.{option}"
    assert info.value.value is value or info.value.value == value


@pytest.mark.parametrize(
    "name,option,value",
    [("momentum", "beta", 0.0), ("adam", "beta1", 0.0), ("adamw", "weight_decay", 0.0), ("rmsprop", "beta", 0.999)],
)
def test_boundary_values_accepted(name, option, value):
    opt = make(OPTIMIZERS, "optimizer", name, {option: value})
    assert getattr(opt, option) == value


@pytest.mark.parametrize(
    "name,option",
    [("sgd", "beta"), ("momentum", "beta1"), ("adam", "weight_decay"), ("rmsprop", "lr"), ("nesterov", "momentum")],
)
def test_unknown_option_raises(name, option):
    with pytest.raises(SpecError) as info:
        make(OPTIMIZERS, "optimizer", name, {option: 0.5})
    assert option in str(info.value)
    assert name in str(info.value)


@pytest.mark.parametrize("name", ["lbfgs", "Adam", "", None, 3])
def test_unknown_optimizer_raises(name):
    with pytest.raises(SpecError) as info:
        make(OPTIMIZERS, "optimizer", name, {})
    assert info.value.field == "optimizer"
    assert "optimizer" in str(info.value)
    assert repr(name) in str(info.value)
