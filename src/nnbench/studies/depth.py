"""Study 2: depth, and the vanishing or exploding gradients that the initialization decides.

Networks of ``depths`` hidden layers of ``width`` units each, for every initialization × activation, on one
data set. For each (init, activation, depth) and each seed:

* at the initial weights (exactly those ``nnbench.trainer.run`` starts from: the run's split and ``init``
  streams), one forward and backward pass over the whole training part gives, per layer l = 1..L
  (L = depth + 1, the output layer last), the gradient norm ‖∂J/∂W_l‖_F and the standard deviation of the
  layer's output A_l over units and examples (Z_L for the output layer) — the signal going forward;
* the network is then trained (``nnbench.trainer.run``, all seeds together) with the study's optimizer:
  the training outcome is its final train/test accuracy, or ``diverged``.

Two tables: ``layers`` (one row per init, activation, depth, seed, layer) and ``runs`` (one row per init,
activation, depth, seed: the outcome, and the gradient profile in a few numbers, see ``_profile_summary``).
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this registry (0.3 s)
    import pandas as pd

from ..progress import progress

LAYER_COLUMNS = ["init", "activation", "depth", "seed", "layer", "grad_norm", "activation_std"]
RUN_COLUMNS = [
    "init", "activation", "depth", "seed", "width", "status", "train_acc", "test_acc", "train_cost",
    "grad_first", "grad_last", "grad_ratio", "grad_spread", "grad_median", "epochs", "seconds",
]  # fmt: skip

DEFAULTS = {
    "dataset": "circles",
    "dataset_options": {"n_samples": 400, "noise": 0.05},
    "width": 32,
    "depths": [2, 5, 10, 15, 20],
    "inits": ["zeros", "large", "xavier", "he"],
    "init_options": {"large": {"scale": 10}},  # per init name, passed to the registry
    "activations": ["relu", "tanh"],
    "optimizer": "momentum",
    "optimizer_options": {"beta": 0.9},
    "lr": 0.05,
    "batch_size": 32,
    "epochs": 100,
    "seeds": 3,
}


def settings_of(settings: dict | None) -> dict:
    from . import merged

    s = merged(DEFAULTS, settings, "depth")
    return s


def spec_for(s: dict, init: str, activation: str, depth: int):
    from . import study_spec

    return study_spec(
        s,
        hidden=[int(s["width"])] * int(depth),
        activation=activation,
        init=init,
        init_options=dict((s["init_options"] or {}).get(init, {})),
    )


def initial_profile(spec, seeds) -> tuple[np.ndarray, np.ndarray]:
    """(gradient norms, activation stds), each (R, L), at the initial weights of each seed's run: the
    network, split and weights that ``nnbench.trainer.run(spec, seeds)`` starts from."""
    from .. import data
    from ..losses import targets
    from ..streams import Streams

    streams = Streams(seeds)
    splits = [data.load(spec.dataset, spec.dataset_options, g) for g in streams.split]
    X = np.stack([sp.X_train for sp in splits])
    y = np.stack([sp.y_train for sp in splits])
    net = spec.build_network(X.shape[1], splits[0].n_classes)
    params = net.init_params(spec.build_initializer(), streams.init)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        Z, cache = net.forward(params, X, train=True)
        grads = net.backward(params, cache, Z, targets(y, net.sizes[-1]))
        norms = np.stack(
            [np.sqrt(np.square(grads[f"W{l}"]).sum(axis=(-2, -1))) for l in range(1, net.n_layers + 1)], axis=1
        )
        outputs = [c[2] for c in cache[:-1]] + [Z]
        stds = np.stack([a.std(axis=(-2, -1)) for a in outputs], axis=1)
    return norms, stds


def _profile_summary(g: np.ndarray) -> dict:
    """One run's profile in a few numbers: the first and last layer's norms and their ratio, the median
    over layers, and the spread max/min over the layers between two hidden layers (l = 2..L−1, where the
    vanishing/exploding argument applies: the first layer's also scales with the inputs, the last one's
    with the output's error); ratio and spread are NaN when a norm is 0 or not finite."""
    first, last = float(g[0]), float(g[-1])
    inner = g[1:-1]
    ok = lambda a: a.size > 0 and np.all(np.isfinite(a)) and np.all(a > 0)  # noqa: E731
    return {
        "grad_first": first,
        "grad_last": last,
        "grad_ratio": first / last if ok(g[[0, -1]]) else np.nan,
        "grad_spread": float(inner.max() / inner.min()) if ok(inner) else np.nan,
        "grad_median": float(np.median(g)),
    }


def run_study(settings: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(runs table, layers table) of the study (see the module docstring)."""
    import pandas as pd

    from ..config import seed_list
    from ..trainer import run

    s = settings_of(settings)
    seeds = seed_list(s)
    layer_rows, run_rows = [], []
    combos = list(itertools.product(s["inits"], s["activations"], s["depths"]))
    for init, activation, depth in progress(combos, desc="depth study", unit="config"):
        spec = spec_for(s, init, activation, depth)
        norms, stds = initial_profile(spec, seeds)
        start = time.perf_counter()
        results = run(spec, seeds)
        seconds = time.perf_counter() - start
        for r, (seed, res) in enumerate(zip(seeds, results)):
            for l in range(norms.shape[1]):
                layer_rows.append(
                    {
                        "init": init,
                        "activation": activation,
                        "depth": depth,
                        "seed": seed,
                        "layer": l + 1,
                        "grad_norm": norms[r, l],
                        "activation_std": stds[r, l],
                    }
                )
            run_rows.append(
                {
                    "init": init,
                    "activation": activation,
                    "depth": depth,
                    "seed": seed,
                    "width": s["width"],
                    "status": res["status"],
                    "train_acc": res["train_accuracy"],
                    "test_acc": res["test_accuracy"],
                    "train_cost": res["train_cost"],
                    **_profile_summary(norms[r]),
                    "epochs": res["epochs_run"],
                    "seconds": seconds / len(seeds),
                }
            )
    return pd.DataFrame(run_rows, columns=RUN_COLUMNS), pd.DataFrame(layer_rows, columns=LAYER_COLUMNS)


from . import Study, findings  # noqa: E402 - the registry's declaration, below everything it names

STUDY = Study(
    name="depth",
    title="Depth: vanishing and exploding gradients",
    defaults=DEFAULTS,
    tables=("study_depth", "study_depth_layers"),
    run=lambda s, config: dict(zip(("study_depth", "study_depth_layers"), run_study(s))),
    check=settings_of,
    findings=findings.depth_findings,
    figures=findings.depth_figures,
    block=findings.depth_block,
    summary=lambda t: f"{len(t['study_depth'])} runs, {len(t['study_depth_layers'])} layer rows",
)
