"""Property-based tests of the trainer: whatever the small shape and valid hyper-parameters, a sane
learning rate never produces NaN, and full-batch descent at a tiny learning rate never raises the cost (every
step with a smooth activation; the whole descent with relu or leaky_relu, whose kinks a step can cross)."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from nnbench.activations import ACTIVATIONS
from nnbench.initializers import INITIALIZERS
from nnbench.losses import targets
from nnbench.network import Network
from nnbench.optimizers import OPTIMIZERS
from nnbench.registry import make
from nnbench.schedules import Constant
from nnbench.streams import Streams
from nnbench.trainer import fit

SANE_LR = {"sgd": 0.05, "momentum": 0.05, "nesterov": 0.05, "rmsprop": 0.005, "adam": 0.005, "adamw": 0.005}


@st.composite
def problems(draw):
    n_in = draw(st.integers(1, 5))
    hidden = draw(st.lists(st.integers(1, 8), min_size=0, max_size=3))
    n_out = draw(st.sampled_from([1, 3]))
    m = draw(st.integers(2, 40))
    runs = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    return n_in, tuple(hidden), n_out, m, runs, seed


def data(n_in, n_out, m, runs, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((runs, n_in, m))
    y = rng.integers(0, max(n_out, 2), size=(runs, m))
    return X, targets(y, n_out)


@settings(max_examples=60, deadline=None)
@given(
    problems(),
    st.sampled_from(sorted(OPTIMIZERS)),
    st.sampled_from(sorted(ACTIVATIONS)),
    st.sampled_from(sorted(set(INITIALIZERS) - {"large"})),
    st.booleans(),
    st.floats(0.5, 1.0),
    st.floats(0, 1),
    st.one_of(st.none(), st.integers(1, 16)),
)
def test_a_sane_learning_rate_never_produces_nan(problem, opt, activation, init, batchnorm, keep, l2, batch):
    n_in, hidden, n_out, m, runs, seed = problem
    X, Y = data(n_in, n_out, m, runs, seed)
    keep_prob = tuple(keep for _ in hidden)
    net = Network(
        (n_in, *hidden, n_out), activation=activation, keep_prob=keep_prob, batchnorm=batchnorm and m > 1, l2=l2
    )
    streams = Streams(range(seed, seed + runs))
    params = net.init_params(make(INITIALIZERS, "init", init), streams.init)
    out = fit(
        net,
        params,
        X,
        Y,
        optimizer=make(OPTIMIZERS, "optimizer", opt),
        schedule=Constant(SANE_LR[opt]),
        epochs=20,
        streams=streams,
        batch_size=batch,
        bn_state=net.init_bn_state(runs),
    )
    assert out.ok.all()
    assert np.isfinite(out.curve).all()
    assert all(np.isfinite(p).all() for p in params.values())


SMOOTH = ("sigmoid", "tanh")  # the cost is smooth in the weights; relu and leaky_relu have kinks


@settings(max_examples=60, deadline=None)
@given(problems(), st.sampled_from(sorted(ACTIVATIONS)), st.floats(0, 0.5))
# A kink: with leaky_relu and a last hidden layer of one unit, the step of epoch 18 moves that unit's
# pre-activation across 0 and the cost rises by 1.1e-4 (found by hypothesis; the same net with tanh descends).
@example((5, (7, 5, 1), 1, 5, 2, 15336), "leaky_relu", 0.0)
def test_full_batch_descent_at_a_tiny_learning_rate_never_raises_the_cost(problem, activation, l2):
    """Smooth activations: no step at a tiny learning rate raises the cost (the descent lemma). With a kinked
    activation a step that crosses a kink can, so there only the whole descent must lower it."""
    n_in, hidden, n_out, m, runs, seed = problem
    X, Y = data(n_in, n_out, m, runs, seed)
    net = Network((n_in, *hidden, n_out), activation=activation, l2=l2)
    streams = Streams(range(runs))
    params = net.init_params(INITIALIZERS["he"](), streams.init)
    out = fit(net, params, X, Y, optimizer=OPTIMIZERS["sgd"](), schedule=Constant(1e-3), epochs=30, streams=streams)
    if activation in SMOOTH:
        assert np.all(np.diff(out.curve, axis=1) <= 1e-12)
    else:
        assert np.all(out.curve[:, -1] <= out.curve[:, 0] + 1e-12)
