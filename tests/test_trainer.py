"""The training loop and a whole run: reproducibility, divergence, batching, run independence."""

import json

import numpy as np
import pytest

from nnbench.initializers import He
from nnbench.losses import targets
from nnbench.network import Network
from nnbench.optimizers import SGD
from nnbench.schedules import Constant
from nnbench.spec import RunSpec
from nnbench.streams import Streams
from nnbench.trainer import batch_bounds, fit, numba_installed, run

FAST = dict(dataset="circles", dataset_options={"n_samples": 120}, hidden=(6, 4), epochs=30)


def test_batch_bounds_consecutive_slices_last_smaller():
    assert batch_bounds(300, 64) == [(0, 64), (64, 128), (128, 192), (192, 256), (256, 300)]
    assert batch_bounds(10, None) == [(0, 10)]
    assert batch_bounds(10, 50) == [(0, 10)]


@pytest.mark.parametrize(
    "engine", ["numpy", pytest.param("numba", marks=pytest.mark.skipif(not numba_installed(), reason="needs numba"))]
)
def test_same_run_twice_is_bit_identical(engine):
    spec = RunSpec(
        **FAST, optimizer="adam", lr=0.01, batch_size=16, keep_prob=0.8, batchnorm=engine == "numpy", engine=engine
    )
    a, b = run(spec, [3, 4]), run(spec, [3, 4])
    for x, y in zip(a, b):
        x.pop("seconds"), y.pop("seconds")
        assert json.dumps(x) == json.dumps(y)


@pytest.mark.parametrize(
    "engine", ["numpy", pytest.param("numba", marks=pytest.mark.skipif(not numba_installed(), reason="needs numba"))]
)
def test_seeds_trained_together_equal_seeds_trained_alone(engine):
    spec = RunSpec(**FAST, optimizer="momentum", lr=0.1, batch_size=32, keep_prob=0.9, l2=0.1, engine=engine)
    together = run(spec, [0, 1, 2])
    for r in together:
        alone = run(spec, [r["seed"]])[0]
        assert alone["cost_curve"] == r["cost_curve"]
        assert alone["test_accuracy"] == r["test_accuracy"]


def test_changing_the_optimizer_keeps_the_initial_weights_and_split():
    s1 = Streams([7])
    s2 = Streams([7])
    net = Network((2, 5, 1))
    w1 = net.init_params(He(), s1.init)["W1"]
    s2.shuffle[0].random(100)  # another purpose's stream consumed first changes nothing
    w2 = net.init_params(He(), s2.init)["W1"]
    np.testing.assert_array_equal(w1, w2)
    one_epoch = {**FAST, "epochs": 1}
    a = run(RunSpec(**one_epoch, optimizer="sgd"), [7])[0]
    b = run(RunSpec(**one_epoch, optimizer="adam"), [7])[0]
    assert a["cost_curve"][0] == b["cost_curve"][0]  # the first cost is computed before any update


def test_different_seeds_give_different_runs():
    a, b = run(RunSpec(**FAST, optimizer="adam", batch_size=16), [0, 1])
    assert a["cost_curve"] != b["cost_curve"]


def test_learning_rate_10_diverges_without_raising_and_keeps_its_partial_curve():
    spec = RunSpec(dataset="circles", hidden=(10, 5), activation="leaky_relu", init="large", lr=10.0, epochs=200)
    results = run(spec, [0, 1])
    for r in results:
        assert r["status"] == "diverged"
        assert 0 <= r["diverged_epoch"] < 200
        assert r["epochs_run"] == r["diverged_epoch"] + 1
        assert r["train_accuracy"] is None and r["test_accuracy"] is None
        assert len(r["cost_curve"]) == r["diverged_epoch"]
        assert all(np.isfinite(r["cost_curve"]))
        json.dumps(r, allow_nan=False)


def test_one_diverging_run_does_not_disturb_the_others():
    """Runs share arrays, not values: a run blown up to inf leaves its neighbours' numbers unchanged."""
    net = Network((2, 4, 1), activation="leaky_relu")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 2, 20))
    Y = targets(rng.integers(0, 2, (2, 20)), 1)
    params = net.init_params(He(), [np.random.default_rng(1), np.random.default_rng(2)])
    alone = {k: v[1:].copy() for k, v in params.items()}
    params["W1"][0, 0, 0] = np.inf
    out = fit(net, params, X, Y, optimizer=SGD(), schedule=Constant(0.1), epochs=5, streams=Streams([1, 2]))
    ref = fit(net, alone, X[1:], Y[1:], optimizer=SGD(), schedule=Constant(0.1), epochs=5, streams=Streams([2]))
    assert list(out.diverged_epoch) == [0, -1]
    np.testing.assert_array_equal(out.curve[1], ref.curve[0])
    np.testing.assert_array_equal(params["W2"][1], alone["W2"][0])


@pytest.mark.parametrize("every", [1, 3, 50])
@pytest.mark.parametrize(("lr", "statuses"), [(0.6, {"ok", "diverged"}), (10.0, {"diverged"})])
def test_divergence_found_in_the_loss_log_equals_an_every_epoch_check(monkeypatch, every, lr, statuses):
    """The loop looks for non-finite costs only every DIVERGENCE_CHECK_EVERY epochs; whatever the interval,
    the diverged epochs, epochs run, curves and final weights are those of a check after every epoch."""
    import nnbench.trainer as trainer

    spec = RunSpec(
        dataset="circles",
        dataset_options={"n_samples": 120},
        hidden=(10, 5),
        activation="leaky_relu",
        init="large",
        lr=lr,
        epochs=120,
        curve_every=2,
    )
    seeds = list(range(8))

    def outcome():
        records = run(spec, seeds)
        for r in records:
            r.pop("seconds")
        return records

    monkeypatch.setattr(trainer, "DIVERGENCE_CHECK_EVERY", 1)
    reference = outcome()
    assert {r["status"] for r in reference} == statuses  # some runs diverge (lr 0.6), or all (lr 10)
    assert any(r["diverged_epoch"] > 3 for r in reference if r["status"] == "diverged")
    monkeypatch.setattr(trainer, "DIVERGENCE_CHECK_EVERY", every)
    assert json.dumps(outcome()) == json.dumps(reference)


def test_full_batch_cost_never_increases_at_a_small_learning_rate():
    spec = RunSpec(**{**FAST, "epochs": 100}, optimizer="sgd", lr=0.05)
    curve = np.array(run(spec, [0])[0]["cost_curve"])
    assert curve.shape == (100,)
    assert np.all(np.diff(curve) <= 1e-12)


def test_he_adam_on_circles_reaches_high_accuracy():
    spec = RunSpec(dataset="circles", hidden=(10, 5), optimizer="adam", lr=0.01, batch_size=64, epochs=150)
    accs = [r["test_accuracy"] for r in run(spec, [0, 1, 2])]
    assert min(accs) >= 0.95


def test_zeros_initialization_fails_to_break_symmetry():
    spec = RunSpec(**FAST, init="zeros", optimizer="adam", lr=0.01, batch_size=32)
    r = run(spec, [0])[0]
    assert r["train_accuracy"] <= 0.6


def test_softmax_digits_with_every_regularizer_runs_and_records_everything():
    spec = RunSpec(
        dataset="digits",
        hidden=(32,),
        optimizer="adamw",
        lr=0.01,
        batch_size=128,
        epochs=5,
        keep_prob=0.9,
        l2=0.01,
        batchnorm=True,
        schedule="exponential",
        schedule_options={"gamma": 0.9},
        curve_every=2,
        dataset_options={"val_fraction": 0.1},
    )
    r = run(spec, [0])[0]
    assert r["status"] == "ok" and r["train_accuracy"] > 0.8
    assert 0 <= r["val_accuracy"] <= 1 and 0 <= r["test_accuracy"] <= 1
    assert len(r["cost_curve"]) == 3  # epochs 0, 2, 4
    assert r["boundary"] is None
    assert set(r["versions"]) >= {"nnbench", "numpy", "python"}
    assert RunSpec.from_dict(r["spec"]) == spec.replace(seed=0)


def test_two_d_runs_record_a_decision_boundary():
    r = run(RunSpec(**FAST), [0])[0]
    prob = np.array(r["boundary"]["prob"])
    assert prob.shape == (len(r["boundary"]["y"]), len(r["boundary"]["x"]))
    assert np.all((prob >= 0) & (prob <= 1))


def test_batchnorm_evaluates_with_running_statistics():
    net = Network((2, 3, 1), batchnorm=True)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1, 2, 50)) * 5 + 3
    params = net.init_params(He(), [rng])
    state = net.init_bn_state(1)
    net.forward(params, X, train=True, bn_state=state)
    Z = params["W1"] @ X
    np.testing.assert_allclose(state["mean1"], 0.1 * Z.mean(-1, keepdims=True))
    np.testing.assert_allclose(state["var1"], 0.9 + 0.1 * Z.var(-1, ddof=1, keepdims=True))
    a, _ = net.forward(params, X[..., :5], bn_state=state)
    b, _ = net.forward(params, X[..., :5], train=True)
    assert not np.allclose(a, b)


@pytest.mark.parametrize("bad", [{"lr": 0}, {"epochs": 0}, {"init": "nope"}, {"keep_prob": 1.5}])
def test_a_bad_spec_is_refused_before_training(bad):
    from nnbench.registry import SpecError

    field = next(iter(bad))
    with pytest.raises(SpecError, match=field):
        RunSpec(**{**FAST, **bad})


def test_stacks_runs_by_one_runs_working_set():
    """All runs at once below STACK_BYTES_PER_RUN of one run's activations and parameters, else one after
    another (trainer.stacks_runs; measured in docs/benchmarks.md, issue 15)."""
    from nnbench.trainer import STACK_BYTES_PER_RUN, stacks_runs

    assert stacks_runs(Network((2, 10, 5, 1)), 300)  # the course's network: 44 KB a run
    assert stacks_runs(Network((64, 100, 50, 10)), 64)  # digits in batches of 64: 210 KB
    assert not stacks_runs(Network((64, 100, 50, 10)), 1797)  # all 1,797 digits at once: 3.3 MB
    assert not stacks_runs(Network((784, 256, 128, 10)), 64)  # 236,000 parameters: 2.5 MB
    net = Network((3, 1))  # 8 bytes × (batch × 4 + 4 parameters)
    batch = STACK_BYTES_PER_RUN // 32 - 2  # 8 × (4 × batch + 4) just below the threshold
    assert stacks_runs(net, batch) and not stacks_runs(net, batch + 1)


SETTINGS = {
    "adam, dropout, batch norm, mini-batch": dict(
        optimizer="adam", lr=0.01, batch_size=16, keep_prob=0.8, batchnorm=True
    ),
    "momentum, dropout, L2, full batch": dict(optimizer="momentum", lr=0.1, keep_prob=0.9, l2=0.1),
    "diverging": dict(activation="leaky_relu", init="large", lr=1.5),  # runs 0 and 2 diverge, run 1 does not
}


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize(
    "engine", ["numpy", pytest.param("numba", marks=pytest.mark.skipif(not numba_installed(), reason="needs numba"))]
)
def test_runs_trained_one_after_another_equal_runs_trained_at_once(monkeypatch, setting, engine):
    """fit trains large networks' runs one after another (stacks_runs): every number of every run, diverged
    or not, is the same bit for bit as with all runs at once, per-run learning rates included."""
    import nnbench.trainer as trainer

    if engine == "numba" and SETTINGS[setting].get("batchnorm"):
        pytest.skip("the numba engine has no batch norm")
    spec = RunSpec(**FAST, **SETTINGS[setting], engine=engine)
    variants = [spec.replace(lr=spec.lr * f) for f in (1.0, 0.5, 2.0)]

    def records(stack_bytes, **kw):
        monkeypatch.setattr(trainer, "STACK_BYTES_PER_RUN", stack_bytes)
        out = run(spec, [0, 1, 2], **kw)
        for r in out:
            r.pop("seconds")
        return json.dumps(out)

    stacked, one_by_one = records(1 << 62), records(0)
    assert one_by_one == stacked
    assert records(0, variants=variants) == records(1 << 62, variants=variants)
    if setting == "diverging":
        assert '"diverged"' in stacked and '"ok"' in stacked


def test_auto_picks_numba_below_the_work_threshold_and_numpy_above(monkeypatch):
    """choose_engine: numba when batch × weights < NUMBA_BELOW, no batch norm and numba installed; else numpy."""
    import nnbench.trainer as trainer
    from nnbench.trainer import NUMBA_BELOW, choose_engine, weights

    monkeypatch.setattr(trainer, "numba_installed", lambda: True)
    assert weights(Network((2, 10, 5, 1))) == 75
    assert choose_engine(Network((2, 10, 5, 1)), 320) == "numba"  # circles, full batch: 24,000
    assert choose_engine(Network((64, 32, 16, 10)), 64) == "numba"  # digits in batches of 64: 174,080
    assert choose_engine(Network((30, 16, 8, 1)), 427) == "numpy"  # breast cancer, full batch: 263,032
    assert choose_engine(Network((64, 100, 50, 10)), 1797) == "numpy"
    net = Network((10, 10, 1))  # 110 weights
    below = -(-NUMBA_BELOW // 110) - 1  # the largest batch with batch × 110 < NUMBA_BELOW
    assert choose_engine(net, below) == "numba" and choose_engine(net, below + 1) == "numpy"
    assert choose_engine(Network((2, 10, 5, 1), batchnorm=True), 320) == "numpy"  # numba has no batch norm
    monkeypatch.setattr(trainer, "numba_installed", lambda: False)
    assert choose_engine(Network((2, 10, 5, 1)), 320) == "numpy"


@pytest.mark.skipif(not numba_installed(), reason="needs numba")
def test_a_run_on_auto_is_the_run_on_the_engine_it_picks_and_records_it():
    small = RunSpec(**FAST, optimizer="adam", lr=0.01, batch_size=16, keep_prob=0.8)  # [2, 6, 4, 1]: numba
    wide = small.replace(hidden=(600, 300))  # 16 × 181,500 weights: numpy
    for spec, picked in ((small, "numba"), (wide.replace(epochs=2), "numpy")):
        auto = run(spec.replace(engine="auto"), [0, 1])
        ref = run(spec.replace(engine=picked), [0, 1])
        for a, b in zip(auto, ref):
            assert a["engine"] == b["engine"] == picked and a["spec"]["engine"] == "auto"
            for r in (a, b):
                r.pop("seconds"), r.pop("spec")
            assert json.dumps(a) == json.dumps(b)


OPTIMIZERS = {  # every optimizer, one cell each, as a grid job's cells (equal but for the optimizer fields)
    "sgd": dict(lr=0.1),
    "momentum": dict(lr=0.1, optimizer_options={"beta": 0.9}),
    "nesterov": dict(lr=0.1, optimizer_options={"beta": 0.8}),
    "rmsprop": dict(lr=0.005, optimizer_options={"beta": 0.9}),
    "adam": dict(lr=0.01, schedule="exponential", schedule_options={"gamma": 0.9}),
    "adamw": dict(lr=0.01, optimizer_options={"weight_decay": 0.05}),
}


@pytest.mark.parametrize("stack_bytes", [1 << 62, 0], ids=["stacked", "run by run"])
@pytest.mark.parametrize(
    "setting",
    [
        dict(batch_size=16, keep_prob=0.8, l2=0.05),
        dict(batch_size=16, batchnorm=True),
        dict(batch_size=32, activation="leaky_relu", init="large", lr_scale=60.0),  # some runs diverge
        pytest.param(
            dict(batch_size=16, keep_prob=0.8, engine="numba"),
            marks=pytest.mark.skipif(not numba_installed(), reason="needs numba"),
        ),
    ],
    ids=["dropout+l2", "batch norm", "diverging", "numba engine"],
)
def test_cells_on_one_run_axis_equal_cells_trained_alone(monkeypatch, setting, stack_bytes):
    """run_cells trains a job's cells (every optimizer, its own learning rate and schedule) on one run axis:
    each record is bit for bit the one ``run`` gives the cell alone, seconds aside, the decision boundary
    included (drawn for each cell's first seed)."""
    import nnbench.trainer as trainer
    from nnbench.trainer import cell_groups, run_cells

    monkeypatch.setattr(trainer, "STACK_BYTES_PER_RUN", stack_bytes)
    setting = dict(setting)
    scale = setting.pop("lr_scale", 1.0)
    cells = [
        RunSpec(**FAST, **setting, optimizer=name, **{**hp, "lr": hp["lr"] * scale}) for name, hp in OPTIMIZERS.items()
    ]
    cells.insert(2, RunSpec(**FAST, **{**setting, "batch_size": None}, optimizer="sgd", lr=0.5))  # full batch: apart
    assert cell_groups(cells) == [[0, 1, 3, 4, 5, 6], [2]]
    together = run_cells(cells, [3, 1, 4])
    statuses = set()
    for cell, records in zip(cells, together):
        alone = run(cell, [3, 1, 4])
        assert [r["seed"] for r in records] == [3, 1, 4]
        assert records[0]["boundary"] is not None or records[0]["status"] == "diverged"
        for r in alone + records:
            r.pop("seconds")
            statuses.add(r["status"])
        assert json.dumps(records) == json.dumps(alone)
    if "init" in setting:
        assert statuses == {"ok", "diverged"}


def test_cell_groups_keep_apart_cells_that_differ_beyond_the_optimizer():
    from nnbench.trainer import cell_groups

    a = RunSpec(**FAST, optimizer="adam", lr=0.01, batch_size=16)
    assert cell_groups([a, a.replace(optimizer="sgd", lr=0.5, seed=9)]) == [[0, 1]]
    for other in (dict(batch_size=32), dict(epochs=5), dict(l2=0.1), dict(init="xavier"), dict(engine="numba")):
        assert cell_groups([a, a.replace(**other), a]) == [[0, 2], [1]]


def test_cell_groups_stack_at_most_max_stacked_runs(monkeypatch):
    """A group holds at most MAX_STACKED_RUNS // seeds cells (at least one): memory grows with the runs of
    a fit, the gain per run hardly past ~30; run_cells' records stay those of each cell alone."""
    import nnbench.trainer as trainer
    from nnbench.trainer import MAX_STACKED_RUNS, cell_groups, run_cells

    six = [RunSpec(**FAST, optimizer="adam", lr=0.01 * (k + 1), batch_size=16) for k in range(6)]
    assert cell_groups(six, seeds=5) == [[0, 1, 2, 3, 4, 5]]
    assert cell_groups(six, seeds=MAX_STACKED_RUNS // 2) == [[0, 1], [2, 3], [4, 5]]
    assert cell_groups(six, seeds=MAX_STACKED_RUNS + 1) == [[k] for k in range(6)]
    monkeypatch.setattr(trainer, "MAX_STACKED_RUNS", 4)  # two cells of two seeds per fit
    assert cell_groups(six[:3], seeds=2) == [[0, 1], [2]]
    for cell, records in zip(six[:3], run_cells(six[:3], [5, 6])):
        alone = run(cell, [5, 6])
        for r in alone + records:
            r.pop("seconds")
        assert json.dumps(records) == json.dumps(alone)


def test_runs_with_the_same_seed_draw_the_same_numbers_as_alone():
    """Streams draws shuffles and dropout masks once per distinct seed; every run gets what its seed's
    streams alone give, epoch after epoch."""
    net = Network((2, 5, 3, 1), keep_prob=(0.5, 1.0))
    seeds = [7, 2, 7, 7, 2]
    dup, alone = Streams(seeds), {s: Streams([s]) for s in (7, 2)}
    for epoch in range(3):
        perm, masks = dup.permutation(epoch, 11), dup.dropout_masks(net.dropout_shapes(5, 11))
        own = {s: (a.permutation(epoch, 11)[0], a.dropout_masks(net.dropout_shapes(1, 11))) for s, a in alone.items()}
        assert masks[1] is None
        for r, seed in enumerate(seeds):
            np.testing.assert_array_equal(perm[r], own[seed][0])
            np.testing.assert_array_equal(masks[0][r], own[seed][1][0][0])
