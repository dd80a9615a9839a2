"""Study 1: backpropagation checked against two-sided differences in every grid cell.

For each (data set, initialization, regularizer) of the grid, the network of the cell is built as
``nnbench.trainer.run`` builds it for the study's seed (same split, same initial weights from the run's
``init`` stream, dropout masks from the run's ``dropout`` stream) and checked as
:func:`nnbench.gradcheck.check_network` checks it (the same numbers, bit for bit; every ±ε point evaluated
as one run of a stacked forward pass, :class:`SubsetCost`, rather than one forward pass each):

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
diagnosed (``cause``) from the **V-curve**: the difference d(h) of the same coordinates at the steps
h = ε·10^k, k = 0..5, over the coordinates whose steps cross no ReLU kink (``sweep``). A difference quotient's error is
rounding, ≈ u·|J|/h (u = 2⁻⁵³: it falls tenfold per decade of h), plus truncation, ≈ h²·|J‴| (it grows a
hundredfold per decade), so for a correct backward pass d(h) traces a V; a wrong backward pass adds an
error that does not depend on h at all, a flat floor. Reading the whole curve, rather than one step
against another, is what keeps the verdict independent of rounding luck: the bottom of a correct pass's V
lies orders of magnitude below the floor of a real bug (``tests/test_gradcheck_bugs.py`` plants 16 bugs;
``docs/design.md``, "The numerical contract", gives the margins measured under every BLAS kernel).

* ``kink``: some checked coordinates' ±ε steps flip the sign of a ReLU pre-activation of the batch
  (``kinks`` counts them; there the difference quotient straddles a kink and is no derivative), and
  without them the difference is within the threshold (``difference_no_kinks``);
* ``roundoff``: no kink explains it and the V-curve does: its minimum ``difference_best`` (at the step
  ``eps_best``) is within the threshold, or the minimum sits at the bottom of a V above the threshold (a
  neighbouring step's difference at least ``V_RISE``-fold larger): a check whose rounding and truncation
  both exceed the threshold (a huge ``cost`` or a tiny ``grad_norm``: large-weight cells after a blow-up),
  which resolves a backward-pass error only down to ``difference_best``;
* ``unexplained``: the curve's minimum is a flat floor above the threshold (its neighbours within
  ``V_RISE``-fold of it), or the difference is not finite: the backward pass is suspect.

``difference_10eps`` is d(10ε), the sweep's second step.
"""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this registry (0.3 s)
    import pandas as pd

from ..gradcheck import relative_difference
from ..progress import progress

COLUMNS = [
    "dataset", "init", "reg", "opt", "stage", "seed", "examples", "epochs", "parameters", "checked",
    "eps", "threshold", "difference", "status", "cause", "kinks", "difference_no_kinks",
    "difference_10eps", "difference_best", "eps_best", "cost", "grad_norm", "seconds",
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

SWEEP = tuple(10.0**k for k in range(6))  # the V-curve's steps, as multiples of ε (1e-7 ... 1e-2)
KINK_LOSS = 0.1  # the sweep stops before a step whose kinks leave out more than this share of coordinates
V_RISE = 3.0  # a neighbour of the curve's minimum at least this much higher: a V, not a flat floor


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

    :meth:`two_sided` evaluates, for every checked coordinate i, the cost at θ + ε·e_i and at θ − ε·e_i, as
    ``nnbench.gradcheck.numerical_gradient`` does one call at a time, but all of them in a few forward passes:
    each perturbed parameter set is one run on the network's leading (run) axis, and a run's numbers do not
    depend on the runs beside it (``tests/test_studies.py`` checks the result against
    ``check_network``'s, bit for bit). Alongside, per evaluation, whether any hidden ReLU pre-activation
    changed sign from the unperturbed point.
    """

    BUDGET = 1 << 22  # float64 numbers held per chunk of perturbed runs (32 MB): parameters and activations

    def __init__(self, net, params, coords, X, Y, masks):
        self.net, self.coords, self.X, self.Y, self.masks = net, coords, X, Y, masks
        self.train = masks is not None or net.batchnorm
        self.params = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
        self.kinked = net.activation in ("relu", "leaky_relu")
        self.base = self._pre_activations(self.params) if self.kinked else None

    def _pre_activations(self, params):
        _, cache = self.net.forward(params, self.X, train=self.train, masks=self.masks)
        return [c[1] > 0 for c in cache[:-1]]

    def vector(self) -> np.ndarray:
        return np.concatenate([self.params[k].reshape(-1)[idx] for k, idx in self.coords.items()])

    def evaluate(self, thetas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(cost, kink flag) at each row of ``thetas`` (shape (N, checked)): the checked coordinates set to
        the row, every other parameter as given; the cost as ``Network.cost`` computes it, with n = m."""
        m = self.X.shape[-1]
        per_run = sum(p.size for p in self.params.values()) + 4 * m * sum(self.net.sizes)
        chunk = max(1, self.BUDGET // per_run)
        costs, flips = [], []
        for start in range(0, len(thetas), chunk):
            rows = thetas[start : start + chunk]
            params = {k: np.repeat(p, len(rows), axis=0) for k, p in self.params.items()}
            offset = 0
            for key, idx in self.coords.items():
                params[key].reshape(len(rows), -1)[:, idx] = rows[:, offset : offset + len(idx)]
                offset += len(idx)
            Z, cache = self.net.forward(params, self.X, train=self.train, masks=self.masks)
            costs.append(self.net.cost_of(Z, self.Y, params, m))
            flip = np.zeros(len(rows), dtype=bool)
            if self.kinked:
                for c, b in zip(cache[:-1], self.base):
                    flip |= np.not_equal(c[1] > 0, b).any(axis=(-2, -1))
            flips.append(flip)
        return np.concatenate(costs), np.concatenate(flips)

    def two_sided(self, eps) -> tuple[np.ndarray, np.ndarray]:
        """(two-sided differences, kinks): per checked coordinate, (J(θ + ε e_i) − J(θ − ε e_i)) / (2ε), and
        whether its +ε or −ε step crossed a kink."""
        theta = self.vector()
        k = np.arange(theta.size)
        thetas = np.repeat(theta[None, :], 2 * theta.size, axis=0)
        thetas[2 * k, k] = theta + eps  # rows in numerical_gradient's order: +ε, then −ε, per coordinate
        thetas[2 * k + 1, k] = theta - eps
        costs, flips = self.evaluate(thetas)
        plus, minus = costs[0::2], costs[1::2]
        return (plus - minus) / (2 * eps), flips.reshape(-1, 2).any(axis=1)


def backprop(net, params, X, Y, masks, coords):
    """(backward-pass gradient at the checked coordinates, cost) at ``params``."""
    train = masks is not None or net.batchnorm
    Z, cache = net.forward(params, X, train=train, masks=masks)
    grads = net.backward(params, cache, Z, Y)
    g = np.concatenate([grads[k].reshape(-1)[idx] for k, idx in coords.items()])
    return g, float(net.cost_of(Z, Y, params, X.shape[-1])[0])


def check(net, params, X, Y, masks, coords, eps, g):
    """``check_network``'s difference on the checked coordinates: (difference, kink mask, two-sided
    differences)."""
    approx, kinks = SubsetCost(net, params, coords, X, Y, masks).two_sided(eps)
    return relative_difference(g, approx), kinks, approx


def sweep(net, params, X, Y, masks, coords, eps: float, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The V-curve: (steps h = ε·``SWEEP``, d(h)), every d(h) over the same coordinates, those whose ±h
    steps cross no kink at any step of the curve. The curve stops (NaN) at the first step whose kinks would
    drop more than ``KINK_LOSS`` of the coordinates that cross none at ε: a curve over other coordinates at
    each step would compare different sub-vectors, and a bug confined to some of them could pass for a V."""
    steps = eps * np.array(SWEEP)
    approx, clean = [], []
    for h in steps:
        _, kink, a = check(net, params, X, Y, masks, coords, h, g)
        common = ~kink if not clean else clean[-1] & ~kink
        if clean and common.sum() < (1 - KINK_LOSS) * clean[0].sum():
            break
        approx.append(a)
        clean.append(common)
    curve = np.full(len(steps), np.nan)
    if clean and clean[-1].any():
        keep = clean[-1]
        curve[: len(approx)] = [relative_difference(g[keep], a[keep]) for a in approx]
    return steps, curve


def diagnose(curve: np.ndarray, threshold: float) -> tuple[str, int]:
    """(``roundoff`` or ``unexplained``, index of the minimum or -1) of a V-curve d(h_0), ..., d(h_K), as
    the module's docstring says: explained when its minimum is within ``threshold`` or sits at the bottom
    of a V, unexplained when it is a flat floor (every neighbour within ``V_RISE``-fold of it)."""
    if not np.isfinite(curve).any():
        return "unexplained", -1
    k = int(np.nanargmin(curve))
    if curve[k] <= threshold:
        return "roundoff", k
    neighbours = [curve[j] for j in (k - 1, k + 1) if 0 <= j < len(curve) and np.isfinite(curve[j])]
    flat = all(n < V_RISE * curve[k] for n in neighbours)
    return ("unexplained" if flat else "roundoff"), k


def check_row(net, params, X, Y, masks, coords, eps: float, threshold: float) -> dict:
    """One row of the table (without the cell's labels): the check at ε, diagnosed when it fails."""
    start = time.perf_counter()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        g, cost = backprop(net, params, X, Y, masks, coords)
        difference, kink, approx = check(net, params, X, Y, masks, coords, eps, g)
        row = {
            "difference": difference,
            "kinks": int(kink.sum()),
            "cost": cost,
            "grad_norm": float(np.linalg.norm(g)),
            "difference_no_kinks": np.nan,
            "difference_10eps": np.nan,
            "difference_best": np.nan,
            "eps_best": np.nan,
            "status": "pass",
            "cause": "",
        }
        if not (np.isfinite(difference) and difference <= threshold):
            row["status"] = "fail"
            clean = ~kink
            no_kinks = relative_difference(g[clean], approx[clean]) if clean.any() else 0.0
            steps, curve = sweep(net, params, X, Y, masks, coords, eps, g)
            cause, k = diagnose(curve, threshold)
            row["difference_no_kinks"], row["difference_10eps"] = no_kinks, curve[1]
            if k >= 0:
                row["difference_best"], row["eps_best"] = curve[k], steps[k]
            if not np.isfinite(difference):
                row["cause"] = "unexplained"
            elif kink.any() and no_kinks <= threshold:
                row["cause"] = "kink"
            else:
                row["cause"] = cause
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
    import pandas as pd

    from .. import data
    from ..config import cell_spec
    from ..losses import targets
    from ..spec import RunSpec
    from ..streams import Streams
    from ..trainer import fit

    s = settings_of(settings)
    seed, m, eps, threshold = int(s["seed"]), int(s["examples"]), float(s["eps"]), float(s["threshold"])
    rows = []
    combos = list(itertools.product(config["datasets"], config["inits"], config["regs"]))
    for dataset, init, reg in progress(combos, desc="gradient checks", unit="cell"):
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
        common = {
            "dataset": dataset,
            "init": init,
            "reg": reg,
            "seed": seed,
            "examples": X.shape[-1],
            "parameters": sum(a * b for a, b in net.shapes().values()),
            "checked": sum(len(v) for v in coords.values()),
            "eps": eps,
            "threshold": threshold,
        }
        rows.append(
            {
                **common,
                "opt": "",
                "stage": "init",
                "epochs": 0,
                **check_row(net, params0, X, Y, masks, coords, eps, threshold),
            }
        )
        for opt in opts:
            spec = RunSpec.from_dict({**cell_spec(config, dataset, init, reg, opt), "seed": seed})
            params = {k: v.copy() for k, v in params0.items()}
            epochs = min(int(s["epochs"]), spec.epochs)
            start = time.perf_counter()
            run_streams = Streams([seed])
            outcome = fit(
                net,
                params,
                X_all,
                Y_all,
                optimizer=spec.build_optimizer(),
                schedule=spec.build_schedule(),
                epochs=epochs,
                streams=run_streams,
                batch_size=spec.batch_size,
                bn_state=net.init_bn_state(1),
            )
            row = {**common, "opt": opt, "stage": "trained", "epochs": epochs}
            if not outcome.ok[0]:
                rows.append(
                    {
                        **row,
                        "difference": np.nan,
                        "status": "diverged",
                        "cause": f"diverged at epoch {int(outcome.diverged_epoch[0])}",
                        "kinks": 0,
                        "seconds": time.perf_counter() - start,
                    }
                )
                continue
            rows.append({**row, **check_row(net, params, X, Y, masks, coords, eps, threshold)})
    return pd.DataFrame(rows, columns=COLUMNS)


def failures(table: pd.DataFrame, fail_on) -> pd.DataFrame:
    """The rows whose failure cause is one that fails the workflow."""
    return table[(table["status"] == "fail") & table["cause"].isin(list(fail_on))]


from . import Study, findings, report_failures  # noqa: E402 - the registry's declaration, below what it names

STUDY = Study(
    name="gradcheck",
    title="Gradient checks of every grid cell",
    defaults=DEFAULTS,
    tables=("study_gradcheck",),
    run=lambda s, config: {"study_gradcheck": run_study(config, s)},
    grid=True,
    check=settings_of,
    findings=findings.gradcheck_findings,
    figures=findings.gradcheck_figures,
    block=findings.gradcheck_block,
    failures=lambda t, s: report_failures(t["study_gradcheck"], s["fail_on"]),
)
