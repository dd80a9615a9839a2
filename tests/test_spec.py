"""Tests of the run specification (nnbench.spec.RunSpec): round trips and validation."""

import copy
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnbench.optimizers import OPTIMIZERS
from nnbench.registry import SpecError
from nnbench.spec import RunSpec

VALID = {
    "dataset": "circles",
    "dataset_options": {"n_samples": 200, "noise": 0.1},
    "hidden": [10, 5],
    "activation": "tanh",
    "init": "large",
    "init_options": {"scale": 5.0},
    "l2": 0.05,
    "keep_prob": [0.8, 0.9],
    "batchnorm": True,
    "optimizer": "adam",
    "optimizer_options": {"beta1": 0.8, "beta2": 0.99},
    "lr": 0.01,
    "schedule": "staircase",
    "schedule_options": {"rate": 0.3, "interval": 100},
    "batch_size": 32,
    "epochs": 20,
    "seed": 3,
    "curve_every": 2,
    "engine": "numpy",
}


def valid(**changes):
    d = copy.deepcopy(VALID)
    d.update(changes)
    return d


# ----------------------------------------------------------------------------- valid specs


def test_valid_spec_round_trips():
    spec = RunSpec.from_dict(valid())
    d = spec.to_dict()
    assert RunSpec.from_dict(d) == spec
    text = json.dumps(d, sort_keys=True)
    again = RunSpec.from_dict(json.loads(text))
    assert again == spec
    assert json.dumps(again.to_dict(), sort_keys=True) == text


def test_valid_spec_fields():
    spec = RunSpec.from_dict(valid())
    assert spec.hidden == (10, 5)
    assert spec.keep_probs == (0.8, 0.9)
    d = spec.to_dict()
    assert d["hidden"] == [10, 5]
    assert set(d) == set(VALID)
    # the data set's defaults are filled in, the given options kept
    assert d["dataset_options"]["n_samples"] == 200
    assert d["dataset_options"]["noise"] == 0.1
    assert "data_seed" in d["dataset_options"]
    # to_dict is a copy: changing it does not change the spec
    d["dataset_options"]["noise"] = 99
    assert spec.dataset_options["noise"] == 0.1


def test_defaults_round_trip():
    spec = RunSpec(dataset="moons")
    assert spec.optimizer == "sgd" and spec.schedule == "constant" and spec.keep_probs == (1.0, 1.0)
    assert RunSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


def test_builders():
    spec = RunSpec.from_dict(valid())
    opt = spec.build_optimizer()
    assert type(opt) is OPTIMIZERS["adam"] and opt.beta1 == 0.8 and opt.beta2 == 0.99
    sched = spec.build_schedule()
    assert sched(0) == 0.01
    assert sched(100) == pytest.approx(0.01 / 1.3)
    init = spec.build_initializer()
    assert init.scale == 5.0


def test_spec_is_frozen():
    spec = RunSpec(dataset="circles")
    with pytest.raises(AttributeError):
        spec.lr = 0.5


def test_replace_validates():
    spec = RunSpec(dataset="circles")
    assert spec.replace(lr=0.5).lr == 0.5
    with pytest.raises(SpecError, match="lr"):
        spec.replace(lr=-0.5)


# ----------------------------------------------------------------------------- invalid specs

# (change to the valid dict, field named in the message, the bad value as the message shows it)
INVALID = [
    pytest.param({"dataset": "mnist"}, "dataset", "'mnist'", id="unknown-dataset"),
    pytest.param({"init": "kaiming"}, "init", "'kaiming'", id="unknown-init"),
    pytest.param({"optimizer": "lbfgs", "optimizer_options": {}}, "optimizer", "'lbfgs'", id="unknown-optimizer"),
    pytest.param({"schedule": "cosine", "schedule_options": {}}, "schedule", "'cosine'", id="unknown-schedule"),
    pytest.param({"activation": "swish"}, "activation", "'swish'", id="unknown-activation"),
    pytest.param({"learning_rate": 0.1}, "learning_rate", "0.1", id="unknown-field"),
    pytest.param({"lr": 0}, "lr", "0", id="lr-0"),
    pytest.param({"lr": -1}, "lr", "-1", id="lr-negative"),
    pytest.param({"lr": "fast"}, "lr", "'fast'", id="lr-string"),
    pytest.param({"lr": float("nan")}, "lr", "nan", id="lr-nan"),
    pytest.param({"l2": -0.1}, "l2", "-0.1", id="l2-negative"),
    pytest.param({"keep_prob": 0}, "keep_prob", "0", id="keep_prob-0"),
    pytest.param({"keep_prob": 1.5}, "keep_prob", "1.5", id="keep_prob-1.5"),
    pytest.param({"keep_prob": [0.5]}, "keep_prob", "[0.5]", id="keep_prob-wrong-length"),
    pytest.param({"keep_prob": [0.5, 0.5, 0.5]}, "keep_prob", "[0.5, 0.5, 0.5]", id="keep_prob-too-long"),
    pytest.param({"keep_prob": [0.5, 0.0]}, "keep_prob", "0.0", id="keep_prob-list-entry-0"),
    pytest.param({"batchnorm": "yes"}, "batchnorm", "'yes'", id="batchnorm-string"),
    pytest.param({"batchnorm": 1}, "batchnorm", "1", id="batchnorm-int"),
    pytest.param({"batch_size": 0}, "batch_size", "0", id="batch_size-0"),
    pytest.param({"batch_size": 2.5}, "batch_size", "2.5", id="batch_size-float"),
    pytest.param({"epochs": 0}, "epochs", "0", id="epochs-0"),
    pytest.param({"epochs": 2.5}, "epochs", "2.5", id="epochs-float"),
    pytest.param({"seed": -1}, "seed", "-1", id="seed-negative"),
    pytest.param({"seed": True}, "seed", "True", id="seed-bool"),
    pytest.param({"hidden": [0]}, "hidden", "0", id="hidden-0"),
    pytest.param({"hidden": [10, -3]}, "hidden", "-3", id="hidden-negative"),
    pytest.param({"hidden": "10"}, "hidden", "'10'", id="hidden-string"),
    pytest.param({"hidden": 10}, "hidden", "10", id="hidden-int"),
    pytest.param({"curve_every": 0}, "curve_every", "0", id="curve_every-0"),
    pytest.param(
        {"optimizer": "momentum", "optimizer_options": {"beta": 1.0}},
        "optimizer_options.beta",
        "1.0",
        id="optimizer-beta-1",
    ),
    pytest.param(
        {"optimizer_options": {"beta1": -0.5}}, "optimizer_options.beta1", "-0.5", id="optimizer-beta1-negative"
    ),
    pytest.param(
        {"optimizer_options": {"momentum": 0.9}}, "optimizer_options.momentum", "0.9", id="unknown-optimizer-option"
    ),
    pytest.param(
        {"schedule_options": {"rate": 0.3, "interval": 100, "lr0": 0.5}},
        "schedule_options.lr0",
        "0.5",
        id="schedule-lr0",
    ),
    pytest.param(
        {"schedule_options": {"rate": 0.3, "interval": 0}}, "schedule_options.interval", "0", id="schedule-interval-0"
    ),
    pytest.param(
        {"schedule": "exponential", "schedule_options": {"gamma": 1.5}},
        "schedule_options.gamma",
        "1.5",
        id="schedule-gamma",
    ),
    pytest.param({"init_options": {"scale": 0}}, "init_options.scale", "0", id="init-scale-0"),
    pytest.param({"init": "he", "init_options": {"scale": 5.0}}, "init_options.scale", "5.0", id="init-unknown-option"),
    pytest.param({"init_options": [1]}, "init_options", "[1]", id="init_options-not-a-dict"),
    pytest.param({"engine": "jax"}, "engine", "'jax'", id="unknown-engine"),
    pytest.param({"engine": "numba", "batchnorm": True}, "engine", "'numba'", id="numba-with-batchnorm"),
]

# Data-set options are checked by the data layer: the message names the option and its value.
INVALID_DATASET_OPTIONS = [
    pytest.param({"n_samples": 200, "wobble": 3}, "'wobble'", id="unknown-dataset-option"),
    pytest.param({"noise": -1}, "'noise' = -1", id="dataset-noise-negative"),
    pytest.param({"n_samples": 2}, "'n_samples' = 2", id="dataset-n_samples-small"),
    pytest.param({"test_fraction": 1.0}, "'test_fraction' = 1.0", id="dataset-test_fraction-1"),
]


@pytest.mark.parametrize("options,shown", INVALID_DATASET_OPTIONS)
def test_invalid_dataset_options_raise(options, shown):
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(valid(dataset_options=options))
    message = str(info.value)
    assert "dataset_options" in message and shown in message, message


@pytest.mark.parametrize("change,field,shown", INVALID)
def test_invalid_spec_raises(change, field, shown):
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(valid(**change))
    message = str(info.value)
    assert message.startswith(f"{field} = {shown}:"), message


def test_invalid_count():
    assert len(INVALID) + len(INVALID_DATASET_OPTIONS) >= 20


@pytest.mark.parametrize(
    "change,field",
    [
        ({"lr": -1}, "lr"),
        ({"seed": True}, "seed"),
        ({"optimizer": "momentum", "optimizer_options": {"beta": 1.0}}, "optimizer_options.beta"),
        ({"schedule_options": {"lr0": 0.5}}, "schedule_options.lr0"),
        ({"hidden": [0]}, "hidden"),
        ({"learning_rate": 0.1}, "learning_rate"),
        ({"activation": "swish"}, "activation"),
        ({"dataset": "mnist"}, "dataset"),
        ({"dataset_options": {"noise": -1}}, "dataset_options"),
        ({"init_options": {"scale": 0}}, "init_options.scale"),
        ({"keep_prob": [0.5]}, "keep_prob"),
    ],
)
def test_error_field_attribute(change, field):
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(valid(**change))
    assert info.value.field == field


def test_missing_dataset():
    d = valid()
    del d["dataset"]
    with pytest.raises(SpecError, match="dataset"):
        RunSpec.from_dict(d)


@pytest.mark.parametrize("bad", [None, [("dataset", "circles")], "circles"])
def test_from_dict_needs_a_mapping(bad):
    with pytest.raises(SpecError):
        RunSpec.from_dict(bad)


def test_spec_error_is_a_value_error():
    with pytest.raises(ValueError):
        RunSpec(dataset="circles", epochs=0)


# ----------------------------------------------------------------------------- properties

valid_specs = st.fixed_dictionaries(
    {
        "dataset": st.sampled_from(["circles", "moons"]),
        "hidden": st.lists(st.integers(1, 8), min_size=1, max_size=3),
        "lr": st.floats(1e-4, 1, exclude_min=True, exclude_max=True),
        "keep_prob": st.floats(0.1, 1, exclude_min=True),
        "l2": st.floats(0, 1),
        "optimizer": st.sampled_from(sorted(OPTIMIZERS)),
        "batch_size": st.none() | st.integers(1, 64),
        "epochs": st.integers(1, 3),
        "seed": st.integers(0, 2**31 - 1),
        "batchnorm": st.booleans(),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_specs)
def test_random_valid_specs_round_trip(d):
    spec = RunSpec.from_dict(d)
    assert spec.hidden == tuple(d["hidden"])
    assert spec.lr == d["lr"] and spec.optimizer == d["optimizer"]
    assert spec.keep_probs == (d["keep_prob"],) * len(d["hidden"])
    out = spec.to_dict()
    assert RunSpec.from_dict(out) == spec
    assert RunSpec.from_dict(json.loads(json.dumps(out))) == spec
    assert spec.build_optimizer() is not None


@settings(max_examples=60, deadline=None)
@given(d=valid_specs, lr=st.floats(max_value=0, allow_nan=False) | st.integers(max_value=0))
def test_random_nonpositive_lr_refused(d, lr):
    d = dict(d, lr=lr)
    with pytest.raises(SpecError) as info:
        RunSpec.from_dict(d)
    assert "lr" in str(info.value)
    assert info.value.field == "lr"


def test_numba_engine_needs_numba(monkeypatch):
    from nnbench import trainer

    RunSpec.from_dict(valid(engine="numba", batchnorm=False))
    monkeypatch.setattr(trainer, "numba_installed", lambda: False)
    with pytest.raises(SpecError, match=r"engine = 'numba': needs the numba package: pip install 'nnbench\[fast\]'"):
        RunSpec.from_dict(valid(engine="numba", batchnorm=False))
