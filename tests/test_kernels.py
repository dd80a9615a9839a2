"""The compiled engine (nnbench.kernels) against the NumPy reference and against two-sided differences."""

import numpy as np
import pytest

pytest.importorskip("numba")

from nnbench.kernels import CompiledStep, pack_masks
from nnbench.losses import targets
from nnbench.network import Network
from nnbench.optimizers import OPTIMIZERS
from nnbench.registry import make
from nnbench.schedules import SCHEDULES
from nnbench.spec import RunSpec
from nnbench.streams import Streams
from nnbench.trainer import _NumpyStep, fit, run

ACTIVATIONS = ["relu", "leaky_relu", "tanh", "sigmoid"]


def problem(activation="relu", n_out=1, keep=1.0, l2=0.0, runs=3, m=37, sizes=(4, 6, 5)):
    """A network, its parameters (perturbed so that no bias is zero), inputs, targets and masks."""
    rng = np.random.default_rng(1)
    net = Network(sizes=(*sizes, n_out), activation=activation, keep_prob=(keep,) * (len(sizes) - 1), l2=l2)
    streams = Streams(range(runs))
    params = net.init_params(lambda g, shape: g.standard_normal(shape), streams.init)
    params.flat[:] += 0.1 * rng.standard_normal(params.flat.shape)
    X = rng.standard_normal((runs, sizes[0], m))
    Y = targets(rng.integers(0, max(n_out, 2), (runs, m)), n_out)
    masks = streams.dropout_masks(net.dropout_shapes(runs, m)) if net.has_dropout else None
    return net, params, X, Y, masks


def step_outputs(step, net, params, X, Y, masks, lo, hi, n_train):
    grads = net.allocate(X.shape[0])
    loss, penalty = np.zeros(X.shape[0]), np.zeros(X.shape[0])
    with np.errstate(all="ignore"):
        step(params, grads, X, Y, lo, hi, step.masks(masks), loss, penalty if net.l2 else None, n_train)
    return grads.flat, loss, penalty


@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("keep", [1.0, 0.7])
@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_step_equals_numpy_step(activation, n_out, keep, l2):
    """Loss, L2 penalty and every gradient of a batch [lo, hi) of three runs, as NumPy computes them."""
    net, params, X, Y, masks = problem(activation, n_out, keep, l2)
    lo, hi, m = 5, 30, X.shape[-1]
    reference = step_outputs(_NumpyStep(net, None), net, params, X, Y, masks, lo, hi, m)
    compiled = step_outputs(CompiledStep(net, X.shape[0], hi - lo), net, params, X, Y, masks, lo, hi, m)
    for ours, theirs in zip(compiled, reference):
        scale = np.abs(theirs).max() or 1.0
        assert np.abs(ours - theirs).max() <= 1e-14 * scale
    assert np.any(reference[0] != 0)


@pytest.mark.parametrize("n_out", [1, 4])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_gradients_match_two_sided_differences(activation, n_out):
    """Each gradient of the compiled step against (J(θ + ε) − J(θ − ε)) / 2ε of its own cost
    J = loss / m + L2 penalty, with dropout masks held fixed."""
    net, params, X, Y, masks = problem(activation, n_out, keep=0.8, l2=0.2, runs=1, m=12, sizes=(3, 5, 4))
    m, eps = X.shape[-1], 1e-6
    step = CompiledStep(net, 1, m)
    grads, _, _ = step_outputs(step, net, params, X, Y, masks, 0, m, m)

    def cost(theta):
        probe = net.allocate(1)
        probe.flat[:] = theta
        _, loss, penalty = step_outputs(step, net, probe, X, Y, masks, 0, m, m)
        return loss[0] / m + penalty[0]

    theta = params.flat.copy()
    numeric = np.empty_like(theta)
    for q in range(theta.shape[1]):
        plus, minus = theta.copy(), theta.copy()
        plus[0, q] += eps
        minus[0, q] -= eps
        numeric[0, q] = (cost(plus) - cost(minus)) / (2 * eps)
    difference = np.linalg.norm(grads - numeric) / (np.linalg.norm(grads) + np.linalg.norm(numeric))
    assert difference < 1e-7, difference


def train(engine, optimizer="adam", keep=0.8, l2=0.1, batch_size=16, scales=(1.0, 1.0, 1.0), lr=0.01, epochs=30):
    net, params, X, Y, _ = problem("relu", 1, keep, l2, runs=len(scales), m=64)
    for r, scale in enumerate(scales):
        params.flat[r] *= scale
    outcome = fit(
        net,
        params,
        X,
        Y,
        optimizer=make(OPTIMIZERS, "optimizer", optimizer, {}),
        schedule=make(SCHEDULES, "schedule", "constant", {"lr0": lr}),
        epochs=epochs,
        streams=Streams(range(len(scales))),
        batch_size=batch_size,
        engine=engine,
    )
    return outcome, params


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adamw"])
def test_training_follows_numpy(optimizer):
    """Thirty epochs of mini-batches with dropout and L2: the same curves and weights up to rounding."""
    (ours, ours_params), (ref, ref_params) = train("numba", optimizer), train("numpy", optimizer)
    assert np.allclose(ours.curve, ref.curve, rtol=1e-10, atol=0)
    assert np.allclose(ours_params.flat, ref_params.flat, rtol=1e-9, atol=1e-12)
    assert (ours.diverged_epoch == -1).all() and (ours.epochs_run == 30).all()


def test_divergence_is_recorded_as_on_numpy():
    """A run whose weights overflow turns NaN and is marked diverged at the same epoch; the others go on."""
    kwargs = dict(optimizer="sgd", keep=1.0, l2=0.0, batch_size=None, scales=(1.0, 1e150, 1.0), lr=1.0)
    (ours, _), (ref, _) = train("numba", **kwargs), train("numpy", **kwargs)
    assert ref.diverged_epoch[1] >= 0 and (ref.diverged_epoch[[0, 2]] == -1).all()
    assert np.array_equal(ours.diverged_epoch, ref.diverged_epoch)
    assert np.array_equal(np.isnan(ours.curve), np.isnan(ref.curve))


def test_nan_is_not_clipped_by_relu():
    """NaN in a hidden layer reaches the loss (np.maximum keeps NaN; so must the compiled ReLU)."""
    net, params, X, Y, _ = problem("relu", 1, runs=1)
    params["W1"][0, 0, 0] = np.nan
    _, loss, _ = step_outputs(CompiledStep(net, 1, X.shape[-1]), net, params, X, Y, None, 0, X.shape[-1], 1)
    assert np.isnan(loss[0])


def test_pack_masks_puts_each_layer_in_its_rows():
    sizes = (3, 4, 2, 1)
    d1 = np.zeros((2, 4, 5), dtype=bool)
    d1[:, 1] = True
    packed = pack_masks(sizes, [d1, None])
    assert packed.shape == (2, 3 + 4 + 2 + 1, 5)
    assert packed[:, :3].all() and packed[:, 7:].all()  # inputs, the undropped layer and the output: kept
    assert np.array_equal(packed[:, 3:7], d1)
    assert pack_masks(sizes, [None, None]) is None


def test_batchnorm_and_unknown_engine_are_refused():
    with pytest.raises(ValueError, match="batch norm"):
        CompiledStep(Network(sizes=(2, 3, 1), batchnorm=True), 1, 10)
    net, params, X, Y, _ = problem()
    with pytest.raises(ValueError, match="unknown engine 'jax'"):
        fit(
            net,
            params,
            X,
            Y,
            optimizer=make(OPTIMIZERS, "optimizer", "sgd", {}),
            schedule=make(SCHEDULES, "schedule", "constant", {"lr0": 0.1}),
            epochs=1,
            streams=Streams(range(3)),
            engine="jax",
        )


def test_a_run_records_its_engine_and_scores_like_numpy():
    spec = RunSpec(
        dataset="moons",
        dataset_options={"n_samples": 200},
        hidden=(8, 4),
        optimizer="adam",
        batch_size=32,
        epochs=20,
        keep_prob=0.9,
        l2=0.01,
    )
    ours = run(spec.replace(engine="numba"), seeds=[0, 1])
    ref = run(spec, seeds=[0, 1])
    for a, b in zip(ours, ref):
        assert a["spec"]["engine"] == "numba" and b["spec"]["engine"] == "numpy"
        assert a["test_accuracy"] == b["test_accuracy"] and a["train_accuracy"] == b["train_accuracy"]
        assert np.allclose(a["cost_curve"], b["cost_curve"], rtol=1e-10, atol=0)
