"""Time per full-batch training step: nnbench against scikit-learn, PyTorch, a naive NumPy loop and the floor.

One step = forward + loss + backward + SGD update (no momentum, no L2), full batch, float64, one thread.

Workloads (the same network, data, initial weights (where the API allows) and learning rate for everyone):
  tiny    the course's [2, 10, 5, 1] ReLU/sigmoid network on 300 points of make_circles (binary)
  medium  [64, 100, 50, 10] ReLU/softmax on all 1,797 digits (scaled to [0, 1]), 10 classes

Contenders:
  nnbench R=1   nnbench.trainer.fit on X (1, n0, m)
  nnbench R=5   the same with five runs trained together (X (5, n0, m)); reported per run-step (time / 5)
  nnbench-numba R=1, R=5   the same on the compiled engine (``engine="numba"``, nnbench.kernels); skipped
                without numba (pip install 'nnbench[fast]')
  sklearn       MLPClassifier(solver="sgd", momentum=0, alpha=0, batch_size=m, shuffle=False, tol=0, ...)
  torch         nn.Sequential(Linear, ReLU, ...), BCEWithLogitsLoss / CrossEntropyLoss, torch.optim.SGD
  naive         a NumPy loop in the course's style (dict of parameters, np.dot, one function per stage)
  floor R=1/5   the step's matrix products alone in NumPy (forward W@A per layer; backward dZ@A.T per layer
                and W.T@dZ per layer but the first), into preallocated outputs

Method. Everything runs in one process with every thread pool pinned to one thread. Each round times every
contender once, in an order rotated from round to round; a contender's measurement is two timed calls, N
steps and N/10 steps, and its time per step is the slope (t(N) − t(N/10)) / (N − N/10), which removes any
fixed per-call cost (scikit-learn's fit validates inputs and initializes weights; nnbench's fit copies the
parameters into its buffer). The reported time is the median over rounds; every ratio is the median over
rounds of the ratio measured *within* the round (side by side), never a ratio of times from different runs.

  python benchmarks/bench_step.py              # the default (7 rounds, about a minute)
  python benchmarks/bench_step.py --quick      # smoke run (a few seconds)

Writes a Markdown table to stdout and ``benchmarks/results/step.csv`` (+ ``step_env.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

try:
    import torch
except ImportError:  # torch is optional: the contender is skipped with a note
    torch = None
import sklearn.neural_network  # noqa: E402,F401  (loaded before pinning: its OpenMP pool is pinned too)
from _common import environment, environment_markdown, freeze_heap, pin_one_thread, timed, write_csv  # noqa: E402

from nnbench.trainer import numba_installed  # noqa: E402

NNBENCH = ["nnbench R=1", "nnbench R=5", "nnbench-numba R=1", "nnbench-numba R=5"]

LR = 0.01


# -- workloads ----------------------------------------------------------------------------------------------
@dataclass
class Workload:
    name: str
    sizes: tuple[int, ...]
    X: np.ndarray  # (n0, m), features first as nnbench and the course
    y: np.ndarray  # (m,) int labels
    steps: int  # N: steps per timed call

    @property
    def m(self) -> int:
        return self.X.shape[1]

    @property
    def n_out(self) -> int:
        return self.sizes[-1]

    def Y(self) -> np.ndarray:
        """Targets (n_out, m): 0/1 row for one sigmoid unit, one-hot columns for a softmax."""
        if self.n_out == 1:
            return self.y[None, :].astype(np.float64)
        return (np.arange(self.n_out)[:, None] == self.y[None, :]).astype(np.float64)

    def init(self, run: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
        """He-normal weights and zero biases [(W_l (n_l, n_{l−1}), b_l (n_l, 1)), ...], one stream per run."""
        rng = np.random.default_rng(1000 + run)
        return [
            (rng.standard_normal((b, a)) * np.sqrt(2.0 / a), np.zeros((b, 1)))
            for a, b in zip(self.sizes[:-1], self.sizes[1:])
        ]


def tiny(steps: int) -> Workload:
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=300, noise=0.05, random_state=np.random.RandomState(1))  # the course's data
    return Workload("tiny", (2, 10, 5, 1), np.ascontiguousarray(X.T, dtype=np.float64), y.astype(np.int64), steps)


def medium(steps: int) -> Workload:
    from sklearn.datasets import load_digits

    d = load_digits()
    return Workload(
        "medium", (64, 100, 50, 10), np.ascontiguousarray(d.data.T / 16.0), d.target.astype(np.int64), steps
    )


# -- contenders ---------------------------------------------------------------------------------------------
# Each has .label, .runs (R), .prepare() (untimed: restore the initial weights) and .run(n) (timed: n steps).
class NNBench:
    def __init__(self, wl: Workload, runs: int, engine: str = "numpy"):
        from nnbench.losses import targets
        from nnbench.network import Network
        from nnbench.optimizers import SGD
        from nnbench.schedules import Constant
        from nnbench.streams import Streams
        from nnbench.trainer import fit

        self.label = f"nnbench R={runs}" if engine == "numpy" else f"nnbench-{engine} R={runs}"
        self.runs, self.fit, self.engine = runs, fit, engine
        self.net = Network(wl.sizes, activation="relu")
        self.X = np.ascontiguousarray(np.broadcast_to(wl.X, (runs, *wl.X.shape)))
        self.Y = targets(np.broadcast_to(wl.y, (runs, wl.m)), wl.n_out)
        inits = [wl.init(r) for r in range(runs)]
        self.initial = {}
        for l in range(1, len(wl.sizes)):
            self.initial[f"W{l}"] = np.stack([i[l - 1][0] for i in inits])
            self.initial[f"b{l}"] = np.stack([i[l - 1][1] for i in inits])
        self.optimizer, self.schedule, self.streams = SGD(), Constant(LR), Streams(range(runs))
        self.prepare()

    def prepare(self):
        self.params = {k: v.copy() for k, v in self.initial.items()}

    def run(self, n):
        out = self.fit(
            self.net,
            self.params,
            self.X,
            self.Y,
            optimizer=self.optimizer,
            schedule=self.schedule,
            epochs=n,
            streams=self.streams,
            engine=self.engine,
        )
        assert int(np.max(out.epochs_run)) == n, "nnbench stopped early (diverged?)"

    def weights(self, run=0):
        L = len(self.initial) // 2
        return [(self.params[f"W{l}"][run], self.params[f"b{l}"][run]) for l in range(1, L + 1)]


class SKLearn:
    def __init__(self, wl: Workload):
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        self.label, self.runs = "sklearn", 1
        self.X, self.y = np.ascontiguousarray(wl.X.T), wl.y
        self.make = lambda n, **kw: MLPClassifier(
            hidden_layer_sizes=wl.sizes[1:-1],
            activation="relu",
            solver="sgd",
            alpha=0.0,
            batch_size=wl.m,
            learning_rate="constant",
            learning_rate_init=LR,
            momentum=0.0,
            nesterovs_momentum=False,
            shuffle=False,
            tol=0.0,
            n_iter_no_change=10**9,
            early_stopping=False,
            max_iter=n,
            random_state=0,
            **kw,
        )
        self.wl = wl

    def prepare(self):
        pass  # every fit draws fresh weights (warm_start=False): part of the fixed cost the slope removes

    def run(self, n):
        clf = self.make(n).fit(self.X, self.y)
        assert clf.n_iter_ == n, (clf.n_iter_, n)

    def trained_from(self, init, n):
        """For the equivalence check: n steps from the given initial weights (warm start)."""
        clf = self.make(1, warm_start=True).fit(self.X, self.y)
        clf.coefs_ = [W.T.copy() for W, _ in init]
        clf.intercepts_ = [b[:, 0].copy() for _, b in init]
        clf.max_iter = n
        clf.fit(self.X, self.y)
        return [(W.T, b[:, None]) for W, b in zip(clf.coefs_, clf.intercepts_)]


class Torch:
    def __init__(self, wl: Workload):
        from torch import nn

        self.label, self.runs = "torch", 1
        layers = []
        for a, b in zip(wl.sizes[:-1], wl.sizes[1:]):
            layers += [nn.Linear(a, b, dtype=torch.float64), nn.ReLU()]
        self.model = nn.Sequential(*layers[:-1])
        self.linears = [m for m in self.model if isinstance(m, nn.Linear)]
        self.X = torch.from_numpy(np.ascontiguousarray(wl.X.T))
        if wl.n_out == 1:
            self.loss, self.y = nn.BCEWithLogitsLoss(), torch.from_numpy(wl.y[:, None].astype(np.float64))
        else:
            self.loss, self.y = nn.CrossEntropyLoss(), torch.from_numpy(wl.y)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=0.0)
        self.initial = wl.init(0)
        self.prepare()

    def prepare(self):
        with torch.no_grad():
            for lin, (W, b) in zip(self.linears, self.initial):
                lin.weight.copy_(torch.from_numpy(W))
                lin.bias.copy_(torch.from_numpy(b[:, 0]))

    def run(self, n):
        model, loss, opt, X, y = self.model, self.loss, self.opt, self.X, self.y
        for _ in range(n):
            opt.zero_grad()
            cost = loss(model(X), y)
            cost.backward()
            opt.step()

    def weights(self):
        return [(lin.weight.detach().numpy().copy(), lin.bias.detach().numpy()[:, None].copy()) for lin in self.linears]


# The naive reference: the course's L-layer functions, as a student writes them.
def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def _relu(Z):
    return np.maximum(0, Z), Z


def _softmax(Z):
    e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True), Z


def _linear_forward(A, W, b):
    return np.dot(W, A) + b, (A, W, b)


def _linear_activation_forward(A_prev, W, b, activation):
    Z, linear_cache = _linear_forward(A_prev, W, b)
    A, activation_cache = {"relu": _relu, "sigmoid": _sigmoid, "softmax": _softmax}[activation](Z)
    return A, (linear_cache, activation_cache)


def _L_model_forward(X, parameters, output):
    caches, A, L = [], X, len(parameters) // 2
    for l in range(1, L):
        A, cache = _linear_activation_forward(A, parameters["W" + str(l)], parameters["b" + str(l)], "relu")
        caches.append(cache)
    AL, cache = _linear_activation_forward(A, parameters["W" + str(L)], parameters["b" + str(L)], output)
    caches.append(cache)
    return AL, caches


def _compute_cost(AL, Y, output):
    m = Y.shape[1]
    if output == "sigmoid":
        cost = -1 / m * np.sum(np.multiply(Y, np.log(AL)) + np.multiply(1 - Y, np.log(1 - AL)))
    else:
        cost = -1 / m * np.sum(np.multiply(Y, np.log(AL)))
    return np.squeeze(cost)


def _relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def _sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s * (1 - s)


def _linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1 / m * np.dot(dZ, A_prev.T)
    db = 1 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def _L_model_backward(AL, Y, caches, output):
    grads, L = {}, len(caches)
    linear_cache, activation_cache = caches[L - 1]
    if output == "sigmoid":
        dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
        dZ = _sigmoid_backward(dAL, activation_cache)
    else:
        dZ = AL - Y  # softmax with cross-entropy
    grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = _linear_backward(dZ, linear_cache)
    for l in reversed(range(L - 1)):
        linear_cache, activation_cache = caches[l]
        dZ = _relu_backward(grads["dA" + str(l + 1)], activation_cache)
        grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = _linear_backward(dZ, linear_cache)
    return grads


def _update_parameters(parameters, grads, learning_rate):
    for l in range(len(parameters) // 2):
        parameters["W" + str(l + 1)] = parameters["W" + str(l + 1)] - learning_rate * grads["dW" + str(l + 1)]
        parameters["b" + str(l + 1)] = parameters["b" + str(l + 1)] - learning_rate * grads["db" + str(l + 1)]
    return parameters


class Naive:
    def __init__(self, wl: Workload):
        self.label, self.runs = "naive NumPy", 1
        self.X, self.Y = wl.X, wl.Y()
        self.output = "sigmoid" if wl.n_out == 1 else "softmax"
        self.initial = wl.init(0)
        self.prepare()

    def prepare(self):
        self.parameters = {}
        for l, (W, b) in enumerate(self.initial, start=1):
            self.parameters["W" + str(l)], self.parameters["b" + str(l)] = W.copy(), b.copy()

    def run(self, n):
        with np.errstate(divide="ignore", invalid="ignore"):  # the course's log σ may meet log 0
            for _ in range(n):
                AL, caches = _L_model_forward(self.X, self.parameters, self.output)
                self.cost = _compute_cost(AL, self.Y, self.output)
                grads = _L_model_backward(AL, self.Y, caches, self.output)
                self.parameters = _update_parameters(self.parameters, grads, LR)

    def weights(self):
        L = len(self.parameters) // 2
        return [(self.parameters[f"W{l}"], self.parameters[f"b{l}"]) for l in range(1, L + 1)]


class Floor:
    """The step's matrix products alone, in nnbench's layout (features first, a leading run axis for R > 1)."""

    def __init__(self, wl: Workload, runs: int):
        self.label, self.runs = f"floor R={runs}", runs
        rng = np.random.default_rng(0)
        lead = () if runs == 1 else (runs,)
        sizes, m = wl.sizes, wl.m
        self.W = [rng.standard_normal((*lead, b, a)) for a, b in zip(sizes[:-1], sizes[1:])]
        self.A = [np.ascontiguousarray(np.broadcast_to(wl.X, (*lead, *wl.X.shape)))]
        self.A += [rng.standard_normal((*lead, n, m)) for n in sizes[1:-1]]
        self.Z = [np.empty((*lead, n, m)) for n in sizes[1:]]
        self.dZ = [rng.standard_normal((*lead, n, m)) for n in sizes[1:]]
        self.dW = [np.empty_like(W) for W in self.W]
        self.dA = [np.empty((*lead, n, m)) for n in sizes[:-1]]

    def prepare(self):
        pass

    def run(self, n):
        W, A, Z, dZ, dW, dA = self.W, self.A, self.Z, self.dZ, self.dW, self.dA
        mm, L = np.matmul, len(W)
        AT = [a.swapaxes(-1, -2) for a in A]
        WT = [w.swapaxes(-1, -2) for w in W]
        for _ in range(n):
            for l in range(L):
                mm(W[l], A[l], out=Z[l])
            for l in range(L - 1, -1, -1):
                mm(dZ[l], AT[l], out=dW[l])
                if l:
                    mm(WT[l], dZ[l], out=dA[l])


# -- the equivalence check ----------------------------------------------------------------------------------
def check_same_computation(wl: Workload, contenders, steps=5) -> str:
    """From the same initial weights, every contender's weights after a few steps agree with nnbench R=1
    (and run 0 of nnbench R=5): the contenders train the same network on the same data."""
    ref = next(c for c in contenders if c.label == "nnbench R=1")
    ref.prepare()
    ref.run(steps)
    expected = ref.weights()
    others = {}
    for c in contenders:
        if c is ref or c.label.startswith("floor"):
            continue
        c.prepare()
        if isinstance(c, SKLearn):
            others[c.label] = c.trained_from(wl.init(0), steps)
            continue
        c.run(steps)
        others[c.label] = c.weights() if not isinstance(c, NNBench) else c.weights(0)
    worst = {}
    for label, got in others.items():
        err = max(
            float(np.max(np.abs(g - e)) / (np.max(np.abs(e)) + 1e-300))
            for pair_g, pair_e in zip(got, expected)
            for g, e in zip(pair_g, pair_e)
        )
        worst[label] = err
        if not err < 1e-9:
            raise AssertionError(
                f"{wl.name}: {label} differs from nnbench R=1 after {steps} steps (max relative difference {err:.2e})"
            )
    for c in contenders:
        c.prepare()
    return ", ".join(f"{k} {v:.0e}" for k, v in worst.items())


# -- measurement --------------------------------------------------------------------------------------------
def measure(wl: Workload, contenders, rounds: int):
    """Per contender and round: seconds per run-step (slope between N/10 and N steps, divided by R) and the
    fixed per-call cost (intercept)."""
    n2 = wl.steps
    n1 = max(1, n2 // 10)
    per_step = {c.label: [] for c in contenders}
    fixed = {c.label: [] for c in contenders}
    for c in contenders:  # warm-up: first calls, lazy initializations, caches
        c.prepare()
        c.run(max(2, n1))
    freeze_heap()
    for r in range(rounds):
        order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
        for c in order:
            c.prepare()
            t2 = timed(c.run, n2)
            c.prepare()
            t1 = timed(c.run, n1)
            slope = (t2 - t1) / (n2 - n1)
            per_step[c.label].append(slope / c.runs)
            fixed[c.label].append(t1 - n1 * slope)
    return per_step, fixed


def median(xs):
    return float(np.median(xs))


def summarize(wl, contenders, per_step, fixed):
    """Rows for the CSV and the ratios of interest (medians of per-round ratios)."""
    labels = [c.label for c in contenders]
    t = {k: np.asarray(v) for k, v in per_step.items()}
    rows = []
    for c in contenders:
        k = c.label
        row = {
            "workload": wl.name,
            "sizes": "-".join(map(str, wl.sizes)),
            "m": wl.m,
            "contender": k,
            "runs": c.runs,
            "rounds": len(t[k]),
            "steps_per_call": wl.steps,
            "us_per_run_step": median(t[k]) * 1e6,
            "us_q25": float(np.percentile(t[k], 25)) * 1e6,
            "us_q75": float(np.percentile(t[k], 75)) * 1e6,
            "fixed_us_per_call": median(fixed[k]) * 1e6,
        }
        for ref in ("nnbench R=1", "nnbench R=5", "floor R=1"):
            if ref in t:
                row[f"ratio_to_{ref.replace(' ', '_').replace('=', '')}"] = median(t[k] / t[ref])
        rows.append(row)
    ratios = {}
    peers = [p for p in ("sklearn", "torch") if p in t]
    faster_peer = np.min([t[p] for p in peers], axis=0)  # per round
    for nn in [k for k in NNBENCH if k in t]:
        for p in peers + (["naive NumPy"] if "naive NumPy" in labels else []):
            ratios[f"{p} / {nn}"] = median(t[p] / t[nn])
        ratios[f"faster peer / {nn}"] = median(faster_peer / t[nn])
    ratios["nnbench R=1 / floor R=1"] = median(t["nnbench R=1"] / t["floor R=1"])
    ratios["nnbench R=5 / floor R=5"] = median(t["nnbench R=5"] / t["floor R=5"])
    ratios["nnbench R=1 / nnbench R=5 (per run-step)"] = median(t["nnbench R=1"] / t["nnbench R=5"])
    for nn in [k for k in NNBENCH if k in t and "numba" in k]:
        ratios[f"nnbench {nn.split()[-1]} / {nn} (numpy engine / numba engine)"] = median(
            t[f"nnbench {nn.split()[-1]}"] / t[nn]
        )
    return rows, ratios


def targets_status(wl, ratios) -> list[str]:
    out = []
    ok = lambda b: "**met**" if b else "**not met**"  # noqa: E731
    engines = [("numpy", "nnbench"), ("numba", "nnbench-numba")]
    if wl.name == "tiny":
        for engine, label in engines:
            if f"faster peer / {label} R=1" not in ratios:
                continue
            r1, r5 = ratios[f"faster peer / {label} R=1"], ratios[f"faster peer / {label} R=5"]
            out.append(
                f"- target 1, engine {engine} (one run ≥ 5× faster than the faster peer): {r1:.2f}× → {ok(r1 >= 5)}"
            )
            out.append(
                f"- target 1, engine {engine} (R = 5 runs together, per run-step ≥ 10× faster): {r5:.2f}× → "
                f"{ok(r5 >= 10)}"
            )
    else:
        f1, p1 = ratios["nnbench R=1 / floor R=1"], ratios["faster peer / nnbench R=1"]
        out.append(
            f"- target 2, engine numpy (within 1.3× of the floor): nnbench R=1 / floor = {f1:.3f} → {ok(f1 <= 1.3)}"
        )
        out.append(
            f"- target 2, engine numpy (faster than both peers): faster peer / nnbench R=1 = {p1:.2f}× → {ok(p1 > 1)}"
        )
        if "faster peer / nnbench-numba R=1" in ratios:
            out.append(
                f"- (engine numba on this network: faster peer / nnbench-numba R=1 = "
                f"{ratios['faster peer / nnbench-numba R=1']:.2f}×; its loops lose to BLAS at this width)"
            )
    return out


def markdown(wl, rows, ratios, note) -> str:
    head = (
        f"### {wl.name}: [{', '.join(map(str, wl.sizes))}], {wl.m} points, full batch, float64, one thread\n\n"
        f"{rows[0]['rounds']} rounds × (N = {wl.steps} and N/10 steps) per contender; "
        f"{note}\n\n"
    )
    t = [
        "| contender | µs per run-step (median) | IQR | intercept µs per call (noisy) | × nnbench R=1 | × floor R=1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        t.append(
            f"| {r['contender']} | {r['us_per_run_step']:.1f} | {r['us_q25']:.1f}–{r['us_q75']:.1f} | "
            f"{r['fixed_us_per_call']:.0f} | {r['ratio_to_nnbench_R1']:.2f} | {r['ratio_to_floor_R1']:.2f} |"
        )
    rt = ["", "| ratio (median of per-round ratios) | value |", "|---|---:|"]
    rt += [f"| {k} | {v:.2f} |" for k, v in ratios.items()]
    return head + "\n".join(t + rt) + "\n\n" + "\n".join(targets_status(wl, ratios)) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 rounds, few steps")
    parser.add_argument("--rounds", type=int, help="rounds (default 7, quick 3)")
    parser.add_argument("--steps-tiny", type=int, help="N for tiny (default 2000, quick 100)")
    parser.add_argument("--steps-medium", type=int, help="N for medium (default 60, quick 10)")
    parser.add_argument("--workloads", default="tiny,medium", help="comma-separated: tiny,medium")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--no-numba", action="store_true", help="leave nnbench's numba engine out")
    parser.add_argument("--csv", default=str(HERE / "results" / "step.csv"))
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 7)
    steps = {
        "tiny": args.steps_tiny or (100 if args.quick else 2000),
        "medium": args.steps_medium or (10 if args.quick else 60),
    }
    use_torch = torch is not None and not args.no_torch
    use_numba = numba_installed() and not args.no_numba

    limiter = pin_one_thread()  # noqa: F841  (the limit holds while it is referenced)
    env = environment()
    assert all(p["num_threads"] == 1 for p in env["threadpools"]), env["threadpools"]
    print("## bench_step: time per full-batch training step\n")
    print(environment_markdown(env))
    if torch is None:
        print("- PyTorch is not importable: the torch contender is skipped")
    if not numba_installed():
        print("- numba is not importable: nnbench's numba engine is skipped (pip install 'nnbench[fast]')")
    print()

    all_rows = []
    for name in args.workloads.split(","):
        wl = {"tiny": tiny, "medium": medium}[name](steps[name])
        contenders = [NNBench(wl, 1), NNBench(wl, 5)]
        if use_numba:
            contenders += [NNBench(wl, 1, "numba"), NNBench(wl, 5, "numba")]
        contenders.append(SKLearn(wl))
        if use_torch:
            contenders.append(Torch(wl))
        contenders += [Naive(wl), Floor(wl, 1), Floor(wl, 5)]
        agreement = check_same_computation(wl, contenders)
        per_step, fixed = measure(wl, contenders, rounds)
        rows, ratios = summarize(wl, contenders, per_step, fixed)
        note = f"same computation checked (max relative weight difference to nnbench after 5 steps: {agreement})"
        print(markdown(wl, rows, ratios, note))
        for k, v in ratios.items():
            rows.append(
                {
                    "workload": wl.name,
                    "sizes": "-".join(map(str, wl.sizes)),
                    "m": wl.m,
                    "contender": f"ratio: {k}",
                    "runs": "",
                    "rounds": rounds,
                    "steps_per_call": wl.steps,
                    "us_per_run_step": "",
                    "ratio": v,
                }
            )
        all_rows += rows

    env["loadavg_end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at end: {env['loadavg_end']}")
    out = write_csv(args.csv, all_rows)
    out.with_name(out.stem + "_env.json").write_text(json.dumps(env, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
