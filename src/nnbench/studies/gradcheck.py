"""Study 1: backpropagation checked against two-sided differences in every grid cell.

For each (data set, initialization, regularizer) of the grid, the network of the cell is built as
``nnbench.trainer.run`` builds it for the study's seed (same split, same initial weights from the run's
``init`` stream, dropout masks from the run's ``dropout`` stream) and checked with
:func:`nnbench.gradcheck.check_network`:

* ``stage = init``: at the initial weights, one row per data set × init × reg (the optimizer draws no
  random numbers, so this point is the same for every optimizer of the grid);
* ``stage = trained``: after ``epochs`` epochs of the cell's own training (``nnbench.trainer.fit`` with
  the cell's optimizer, schedule and batch size on the whole training part, the same streams: the first
  epochs of the cell's run for that seed), one row per grid cell.

The check uses the first ``examples`` examples of the training part, dropout with one fixed mask per hidden
layer, batch norm in training mode (batch statistics) and the L2 penalty with n = ``examples``. A network
with more than ``max_coords`` parameters is checked on a random subset of its coordinates
(``np.random.default_rng(seed)``; every parameter array represented in proportion to its size; the same
subset at both stages): ``difference`` is then the course's relative difference of the sub-vectors,
‖g_S − ĝ_S‖₂ / (‖g_S‖₂ + ‖ĝ_S‖₂), ĝ the two-sided differences with step ``eps``.

``status`` is ``pass`` when ``difference ≤ threshold``, ``fail`` otherwise, ``diverged`` when the cell's
training turned the cost non-finite before the second check (no check then). Each failing row is
diagnosed (``cause``):

* ``kink``: some checked coordinates' ±ε steps flip the sign of a ReLU pre-activation of the batch
  (``kinks`` counts them; there the difference quotient straddles a kink and is no derivative), and
  without them the difference is within the threshold (``difference_no_kinks``);
* ``roundoff``: no kink explains it and the difference (kink coordinates left out) falls at least
  threefold when the step grows tenfold (``difference_10eps``). Floating-point error of a difference
  quotient grows like u·|J|/ε (u = 2⁻⁵³), so it shrinks with a larger step; the relative error of a wrong
  backward pass does not depend on the step at all. ``cost`` and ``grad_norm`` show why the floor is
  high: a large cost or a small gradient;
* ``unexplained``: neither — the backward pass is suspect.

The workflow fails when a row's cause is in ``fail_on`` (default: ``unexplained``; list all three
causes for the course's strict rule "any difference above 1e-7 fails").
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd

from ..gradcheck import check_network, relative_difference

COLUMNS = [
    "dataset", "init", "reg", "opt", "stage", "seed", "examples", "epochs", "parameters", "checked",
    "eps", "threshold", "difference", "status", "cause", "kinks", "difference_no_kinks",
    "difference_10eps", "cost", "grad_norm", "seconds",
]  # fmt: skip

CAUSES = ("kink", "roundoff", "unexplained")

DEFAULTS = {
    "seed": 0,  # the run whose split, initial weights and dropout masks are checked
    "examples": 16,  # examples in the checked batch
    "epochs": 5,  # epochs of the cell's own training before the second check
    "max_coords": 300,  # at most this many coordinates per network (a random subset above it)
    "eps": 1e-7,  # the course's step
    "threshold": 1e-7,  # the course's bound for a correct backward pass
    "fail_on": ["unexplained"],  # causes that fail the workflow
}

ROUNDOFF_DROP = 3.0  # a round-off-dominated difference falls at least this much when ε grows tenfold


def network_for(spec, split):
    """The :class:`~nnbench.network.Network` that ``nnbench.trainer.run`` builds for ``spec`` on ``split``."""
    return spec.build_network(split.X_train.shape[0], split.n_classes)


def choose_coords(shapes: dict, max_coords: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Flat indices to check in each parameter array: every one when the network has at most ``max_coords``
    parameters, else about ``max_coords`` drawn without replacement, spread over the arrays in proportion to
    their sizes (at least one per array), each array's in increasing order."""
    sizes = {k: a * b for k, (a, b) in shapes.items()}
    total = sum(sizes.values())
    if total <= max_coords:
        return {k: np.arange(n) for k, n in sizes.items()}
    quota = {k: min(n, max(1, int(round(max_coords * n / total)))) for k, n in sizes.items()}
    return {k: np.sort(rng.choice(sizes[k], size=quota[k], replace=False)) for k in sizes}


class SubsetCost:
    """The network's cost as a function of the checked coordinates alone (all others held fixed).

    ``check_network`` perturbs the entries of ``{"theta": vector}`` one at a time, +ε then −ε; each call
    writes the vector into a private copy of the parameters, evaluates the cost as ``Network.cost`` does,
    and records the cost and whether any hidden ReLU pre-activation changed sign from the unperturbed point.
    """

    def __init__(self, net, params, coords, X, Y, masks):
        self.net, self.coords, self.X, self.Y, self.masks = net, coords, X, Y, masks
        self.train = masks is not None or net.batchnorm
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.kinked = net.activation in ("relu", "leaky_relu")
        self.costs: list[float] = []
        self.flips: list[bool] = []
        self.base = self._signs() if self.kinked else None

    def _signs(self):
        _, cache = self.net.forward(self.params, self.X, train=self.train, masks=self.masks)
        return [c[1] > 0 for c in cache[:-1]]

    def vector(self) -> np.ndarray:
        return np.concatenate([self.params[k].reshape(-1)[idx] for k, idx in self.coords.items()])

    def __call__(self, sub: dict) -> float:
        theta, offset = sub["theta"], 0
        for key, idx in self.coords.items():
            self.params[key].reshape(-1)[idx] = theta[offset:offset + len(idx)]
            offset += len(idx)
        Z, cache = self.net.forward(self.params, self.X, train=self.train, masks=self.masks)
        if self.kinked:
            self.flips.append(any(np.not_equal(c[1] > 0, b).any() for c, b in zip(cache[:-1], self.base)))
        m = self.X.shape[-1]
        cost = float((self.net.loss_sum(Z, self.Y) / m + self.net.l2_penalty(self.params, m))[0])
        self.costs.append(cost)
        return cost

    def kinks(self) -> np.ndarray:
        """Per checked coordinate: did its +ε or −ε step cross a kink?"""
        if not self.kinked:
            return np.zeros(len(self.costs) // 2, dtype=bool)
        return np.array(self.flips, dtype=bool).reshape(-1, 2).any(axis=1)

    def approx(self, eps) -> np.ndarray:
        """The two-sided differences, computed as ``nnbench.gradcheck.numerical_gradient`` computes them."""
        c = np.array(self.costs).reshape(-1, 2)
        return (c[:, 0] - c[:, 1]) / (2 * eps)


def backprop(net, params, X, Y, masks, coords):
    """(backward-pass gradient at the checked coordinates, cost) at ``params``."""
    train = masks is not None or net.batchnorm
    Z, cache = net.forward(params, X, train=train, masks=masks)
    grads = net.backward(params, cache, Z, Y)
    g = np.concatenate([grads[k].reshape(-1)[idx] for k, idx in coords.items()])
    m = X.shape[-1]
    return g, float((net.loss_sum(Z, Y) / m + net.l2_penalty(params, m))[0])


def check(net, params, X, Y, masks, coords, eps, g):
    """``check_network`` on the checked coordinates: (difference, kink mask, two-sided differences)."""
    cost = SubsetCost(net, params, coords, X, Y, masks)
    difference = check_network(net, {"theta": cost.vector()}, X, Y, masks=masks, eps=eps,
                               grads={"theta": g}, cost=cost)
    return difference, cost.kinks(), cost.approx(eps)


def check_row(net, params, X, Y, masks, coords, eps: float, threshold: float) -> dict:
    """One row of the table (without the cell's labels): the check at ε, diagnosed when it fails."""
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        g, cost = backprop(net, params, X, Y, masks, coords)
        difference, kink, approx = check(net, params, X, Y, masks, coords, eps, g)
        row = {"difference": difference, "kinks": int(kink.sum()), "cost": cost,
               "grad_norm": float(np.linalg.norm(g)), "difference_no_kinks": np.nan,
               "difference_10eps": np.nan, "status": "pass", "cause": ""}
        if not (np.isfinite(difference) and difference <= threshold):
            row["status"] = "fail"
            clean = ~kink
            no_kinks = relative_difference(g[clean], approx[clean]) if clean.any() else 0.0
            _, kink10, approx10 = check(net, params, X, Y, masks, coords, 10 * eps, g)
            clean10 = clean & ~kink10
            d10 = relative_difference(g[clean10], approx10[clean10]) if clean10.any() else 0.0
            no_kinks_same = relative_difference(g[clean10], approx[clean10]) if clean10.any() else 0.0
            row["difference_no_kinks"], row["difference_10eps"] = no_kinks, d10
            if not np.isfinite(difference):
                row["cause"] = "unexplained"
            elif kink.any() and no_kinks <= threshold:
                row["cause"] = "kink"
            elif clean10.any() and d10 <= no_kinks_same / ROUNDOFF_DROP:
                row["cause"] = "roundoff"
            else:
                row["cause"] = "unexplained"
    row["seconds"] = time.perf_counter() - start
    return row


def settings_of(settings: dict | None) -> dict:
    from . import merged

    s = merged(DEFAULTS, settings, "gradcheck")
    bad = [c for c in s["fail_on"] if c not in CAUSES]
    if bad:
        raise ValueError(f"studies.gradcheck.fail_on: unknown cause(s) {bad}; known: {', '.join(CAUSES)}")
    return s


def run_study(config: dict, settings: dict | None = None) -> pd.DataFrame:
    """Every check of the grid in ``config`` (its axes and definitions), one row each (``COLUMNS``)."""
    from .. import data
    from ..config import cell_spec
    from ..losses import targets
    from ..spec import RunSpec
    from ..streams import Streams
    from ..trainer import fit

    s = settings_of(settings)
    seed, m, eps, threshold = int(s["seed"]), int(s["examples"]), float(s["eps"]), float(s["threshold"])
    rows = []
    for dataset, init, reg in itertools.product(config["datasets"], config["inits"], config["regs"]):
        opts = list(config["optimizers"])
        base = RunSpec.from_dict({**cell_spec(config, dataset, init, reg, opts[0]), "seed": seed})
        streams = Streams([seed])
        split = data.load(base.dataset, base.dataset_options, streams.split[0])
        net = network_for(base, split)
        params0 = net.init_params(base.build_initializer(), streams.init)
        X_all, Y_all = split.X_train[None], targets(split.y_train[None], net.sizes[-1])
        X, Y = X_all[..., :m], Y_all[..., :m]
        masks = streams.dropout_masks(net.dropout_shapes(1, X.shape[-1])) if net.has_dropout else None
        coords = choose_coords(net.shapes(), int(s["max_coords"]), np.random.default_rng(seed))
        common = {"dataset": dataset, "init": init, "reg": reg, "seed": seed, "examples": X.shape[-1],
                  "parameters": sum(a * b for a, b in net.shapes().values()),
                  "checked": sum(len(v) for v in coords.values()), "eps": eps, "threshold": threshold}
        rows.append({**common, "opt": "", "stage": "init", "epochs": 0,
                     **check_row(net, params0, X, Y, masks, coords, eps, threshold)})
        for opt in opts:
            spec = RunSpec.from_dict({**cell_spec(config, dataset, init, reg, opt), "seed": seed})
            params = {k: v.copy() for k, v in params0.items()}
            epochs = min(int(s["epochs"]), spec.epochs)
            start = time.perf_counter()
            run_streams = Streams([seed])
            outcome = fit(net, params, X_all, Y_all, optimizer=spec.build_optimizer(),
                          schedule=spec.build_schedule(), epochs=epochs, streams=run_streams,
                          batch_size=spec.batch_size, bn_state=net.init_bn_state(1))
            row = {**common, "opt": opt, "stage": "trained", "epochs": epochs}
            if not outcome.ok[0]:
                rows.append({**row, "difference": np.nan, "status": "diverged",
                             "cause": f"diverged at epoch {int(outcome.diverged_epoch[0])}", "kinks": 0,
                             "seconds": time.perf_counter() - start})
                continue
            rows.append({**row, **check_row(net, params, X, Y, masks, coords, eps, threshold)})
    return pd.DataFrame(rows, columns=COLUMNS)


def failures(table: pd.DataFrame, fail_on) -> pd.DataFrame:
    """The rows whose failure cause is one that fails the workflow."""
    return table[(table["status"] == "fail") & table["cause"].isin(list(fail_on))]


from . import Study, findings, report_failures  # noqa: E402 - the registry's declaration, below what it names

STUDY = Study(
    name="gradcheck", title="Gradient checks of every grid cell", defaults=DEFAULTS, tables=("study_gradcheck",),
    run=lambda s, config: {"study_gradcheck": run_study(config, s)}, grid=True,
    check=settings_of, findings=findings.gradcheck_findings, figures=findings.gradcheck_figures,
    block=findings.gradcheck_block, failures=lambda t, s: report_failures(t["study_gradcheck"], s["fail_on"]),
)
