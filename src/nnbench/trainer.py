"""The training loop (``fit``, on arrays) and a whole run from its specification (``run``).

``fit`` trains R runs at once (the leading axis of every array): each keeps its own random streams and
its own divergence status. A run whose epoch cost turns non-finite is marked diverged at that epoch; its
curve stops there, it raises nothing, and the other runs go on. The epoch cost is the mean over the
epoch's examples of the loss computed in each mini-batch's forward pass (before that batch's update),
plus the L2 penalty at the epoch's last forward pass: for full-batch descent, the cost before each step.
"""

from __future__ import annotations

import copy
import ctypes
import dataclasses
import functools
import importlib.util
import itertools
import json
import platform
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from . import __version__, contract
from .losses import targets
from .network import Network, Params
from .streams import Streams


@dataclass
class FitOutcome:
    curve: np.ndarray  # (R, records): epoch costs at epochs 0, k, 2k, ...; NaN after divergence
    diverged_epoch: np.ndarray  # (R,) int, −1 for runs that did not diverge
    epochs_run: np.ndarray  # (R,)
    # the optional monitor (see fit): validation accuracy (R, records) after epochs monitor_epochs, NaN for a
    # run diverged by then; seconds of training (all R runs together, the monitor's own time excluded) by then
    monitor_accuracy: np.ndarray | None = None
    monitor_epochs: np.ndarray | None = None
    monitor_seconds: np.ndarray | None = None

    @property
    def ok(self) -> np.ndarray:
        return self.diverged_epoch < 0


def batch_bounds(m: int, batch_size: int | None) -> list[tuple[int, int]]:
    """Consecutive slices [lo, hi) of size batch_size; the last holds the remainder."""
    size = m if batch_size is None else min(batch_size, m)
    return [(lo, min(lo + size, m)) for lo in range(0, m, size)]


ENGINES = ("numpy", "numba")  # the engines a step runs on (see fit)
ENGINE_CHOICES = (*ENGINES, "auto")  # what a spec or config may ask for: "auto" picks per network (choose_engine)
# engine "auto" trains on numba when batch × weights (one run's multiply-adds per product pass and step) is below
# this, on numpy otherwise. Measured with benchmarks/bench_engines.py on the default grid's cells (five seeds
# together; docs/benchmarks.md, issue 15): numba 1.25–2.6× faster up to 75,000 (spirals, full batch), the two
# within ±11 % at 174,000 (digits in batches of 64: numba 0.99–1.11× numpy's speed) and at 263,000 (breast
# cancer, full batch: 0.89–1.06×), numpy 1.2–1.3× faster at 3.7 million (digits, full batch).
NUMBA_BELOW = 200_000


def weights(net: Network) -> int:
    """The number of weights Σ_l n_l·n_{l−1} (biases not counted)."""
    return sum(a * b for a, b in zip(net.sizes, net.sizes[1:]))


def choose_engine(net: Network, batch: int) -> str:
    """The engine "auto" trains ``net`` on, with batches of ``batch`` examples: "numba" when

        batch × Σ_l n_l·n_{l−1} < NUMBA_BELOW (200,000)

    and the network has no batch norm and numba is installed, else "numpy".

    A step's cost on either engine is a fixed part plus a part proportional to the multiply-adds of its matrix
    products, batch × weights (three passes: forward, dW, dA). NumPy's fixed part is ~40 calls of 1–2 µs each
    and its products run at BLAS speed; the compiled step has almost no fixed part but computes the products
    in plain loops, ~2× slower per multiply-add than BLAS. So numba wins below a work per step and loses above
    it: [2, 10, 5, 1] on 320 examples (24,000) trains ~2× faster on numba, [64, 32, 16, 10] on 1,348 examples
    (3.7 million) 1.2–1.3× slower; the two cross between 174,000 and 263,000 (``benchmarks/bench_engines.py``,
    five seeds trained together, as the grid does). The numbers of the two engines agree to rounding
    (``tests/test_kernels.py``), not bit for bit."""
    if net.batchnorm or not numba_installed():
        return "numpy"
    return "numba" if batch * weights(net) < NUMBA_BELOW else "numpy"


def numba_installed() -> bool:
    """Whether engine "numba" can run: numba is installed (found, not imported: importing it costs each
    job a quarter of a second)."""
    return importlib.util.find_spec("numba") is not None


# glibc's malloc (mallopt parameters, <malloc.h>): memory freed at the top of the heap is kept up to
# M_TRIM_THRESHOLD bytes, and blocks of M_MMAP_THRESHOLD bytes or more are mapped on their own. See
# keep_freed_memory.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
TRIM_THRESHOLD, MMAP_THRESHOLD = 1 << 30, 32 << 20  # 32 MiB is the largest mmap threshold glibc accepts


@functools.cache
def keep_freed_memory() -> bool:
    """Make glibc keep the memory a training step frees for the next step, instead of giving it back to the
    kernel and faulting it in again, zeroed, one 4 KiB page at a time (once per process; True when set).

    A NumPy step allocates its activations and gradients anew (MB-sized arrays on the medium network) and frees
    them when the next step has made its own. glibc's adaptive thresholds then unmap or trim some of those blocks
    at every step: on [64, 100, 50, 10] × 1,797 examples, full-batch SGD, 470 page faults per step for one
    run, 2,400 for five (``docs/benchmarks.md``, issue 15). Fixed thresholds (blocks below 32 MiB from the
    heap, freed memory kept up to 1 GiB) take them to none. Only the allocator's bookkeeping changes, no
    number. A no-op outside Linux with glibc."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, AttributeError):
        return False


# fit trains the runs one after another (each a whole fit of its own) when one run's working set, its
# activations (batch × Σ_l n_l, inputs included) and parameters (P), reaches this many bytes as float64;
# below it, all R runs at once. Measured with ``benchmarks/bench_scaling.py --stacking`` (docs/benchmarks.md,
# issue 15); see stacks_runs.
STACK_BYTES_PER_RUN = 1 << 20


def stacks_runs(net: Network, batch: int) -> bool:
    """Whether ``fit`` trains R runs all at once (True) or one after another: one run's working set,
    8 bytes × (``batch`` × Σ_l n_l + P), P the parameters, below :data:`STACK_BYTES_PER_RUN`.

    Stacking runs turns each NumPy call into one call for all of them: ~40 calls of 1–2 µs a step saved per
    run, which is most of a small network's step (tiny [2, 10, 5, 1], 300 examples: 2.3× cheaper per run at
    R = 5). A large network's step is milliseconds of arithmetic over arrays that fit the CPU's caches for one
    run and not for R: stacked, [64, 100, 50, 10] on 1,797 examples (3.3 MB a run) cost 4–9 % more per run
    at R = 5 and 10 than alone, [784, 256, 128, 10] in batches of 64 (2.5 MB) 21–25 %; run by run, within
    2 % of one run. Stacking still saved at 1.01 MB (0.97–0.98). Either way a run's numbers are those it has trained alone, bit for bit."""
    return 8 * (batch * sum(net.sizes) + sum(a * b + b for a, b in zip(net.sizes, net.sizes[1:]))) < STACK_BYTES_PER_RUN


@dataclass(frozen=True)
class RunBlocks:
    """Different optimizers on consecutive blocks of the run axis: ``blocks`` = ((rows, optimizer), ...), the
    ``rows`` slices covering runs 0 .. R − 1 in order. ``fit`` gives each block's optimizer its rows of the
    parameter and gradient buffers (views: its own groups, its own state) and its rows of a per-run learning
    rate, so each run's update is element for element the one it has trained alone (:func:`per_run`)."""

    blocks: tuple


def _blocks(optimizer, runs: int) -> tuple:
    """``optimizer``'s (rows, optimizer) blocks: a :class:`RunBlocks`' own, else one block of all runs."""
    return optimizer.blocks if isinstance(optimizer, RunBlocks) else ((slice(0, runs), optimizer),)


def _block_update(net: Network, params: Params, grads: Params, rows: slice, optimizer) -> tuple:
    """(rows, optimizer, parameter groups, gradient groups, state) of one block: the views of its rows of the
    two buffers grouped as its mask says (see ``nnbench.optimizers``), and its freshly initialised state."""
    mask = None if optimizer.mask is None else optimizer.mask(net.roles())
    theta, grad = net.groups(params.flat[rows], mask), net.groups(grads.flat[rows], mask)
    return (
        rows,
        optimizer,
        theta,
        grad,
        optimizer.init(theta, None if mask is None else {"masked": True, "rest": False}),
    )


def _rows(lr, rows: slice):
    """A learning rate for a block's rows: a per-run (R, 1) array's rows, a scalar as it is."""
    return lr[rows] if isinstance(lr, np.ndarray) and lr.ndim == 2 else lr


DIVERGENCE_CHECK_EVERY = 50  # epochs between two looks at the costs (a look is a few NumPy calls)


def fit(
    net: Network,
    params: dict,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    optimizer,
    schedule,
    epochs: int,
    streams,
    batch_size: int | None = None,
    bn_state: dict | None = None,
    curve_every: int = 1,
    engine: str = "numpy",
    monitor: tuple[np.ndarray, np.ndarray] | None = None,
    monitor_every: int = 1,
) -> FitOutcome:
    """Train ``params`` in place on X (R, n_0, m), Y (R, n_L, m) for ``epochs`` epochs.

    Full batch (``batch_size`` None or ≥ m): no shuffling. Mini-batch: each epoch, each run's shuffle
    stream permutes the examples, then consecutive slices are the batches.

    The loop itself only trains and logs each epoch's loss; every ``DIVERGENCE_CHECK_EVERY`` epochs (and at
    the end) the log is searched for the first non-finite cost of each run, so a step costs no bookkeeping.
    A diverged run's epochs after its divergence are wasted work at most until the next look, and all
    training stops at the look that finds every run diverged.

    optimizer: one (``nnbench.optimizers``) for all runs, or a :class:`RunBlocks`, one per block of runs;
    schedule: a function of the epoch to the learning rate, a scalar or a per-run (R, 1) array.

    engine: "numpy" (``Network``'s passes, the reference), "numba" (``kernels.CompiledStep``: the same
    step compiled, for networks without batch norm) or "auto" (:func:`choose_engine` picks one of them).

    monitor: (X_val (R, n_0, m_val), y_val (R, m_val) labels) to record each run's validation accuracy after
    epochs k, 2k, ... and after the last epoch (k = ``monitor_every``), in evaluation mode (``evaluate``: no
    dropout, batch norm's running statistics), with the wall seconds of training so far, the monitor's own
    time excluded. The monitor reads the parameters and draws nothing, so training is the same with or
    without it; off (None), it costs one comparison per epoch. A run whose validation cost is not finite at
    a record, or that diverged by then, has NaN accuracy there.
    """
    keep_freed_memory()
    runs, m = X.shape[0], X.shape[-1]
    bounds = batch_bounds(m, batch_size)
    if engine == "auto":
        engine = choose_engine(net, bounds[0][1])
    if runs > 1 and monitor is None and isinstance(streams, Streams) and not stacks_runs(net, bounds[0][1]):
        return _run_by_run(
            net, params, X, Y, optimizer, schedule, epochs, streams, batch_size, bn_state, curve_every, engine
        )
    shuffle, dropout = len(bounds) > 1, net.has_dropout
    caller = params
    params = _flat(net, params)
    grads = net.allocate(runs)
    per_block_lr = isinstance(optimizer, RunBlocks)  # else one optimizer for all runs: the rate as it is
    updates = [_block_update(net, params, grads, rows, opt) for rows, opt in _blocks(optimizer, runs)]
    loss = np.zeros((epochs, runs))  # per epoch, the sum over its batches of each batch's summed loss
    penalty = np.zeros((epochs, runs)) if net.l2 else None  # the L2 penalty at the epoch's last batch
    diverged_epoch = np.full(runs, -1)
    looked = 0  # epochs [0, looked) are checked
    step: TrainingStep = _NumpyStep(net, bn_state) if engine == "numpy" else _compiled_step(net, engine, runs, bounds)
    watched: list[tuple[int, np.ndarray, float]] = []  # (epochs trained, accuracies, training seconds)
    started, watching = time.perf_counter(), 0.0
    shuffled = (np.empty_like(X), np.empty_like(Y)) if shuffle else None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for epoch in range(epochs):
            lr = schedule(epoch)
            Xe, Ye = X, Y
            if shuffle:
                Xe, Ye = _shuffled(X, Y, streams.permutation(epoch, m), shuffled)
            # one draw per epoch, sliced per batch: a fresh mask at every step
            masks = step.masks(streams.dropout_masks(net.dropout_shapes(runs, m))) if dropout else None
            epoch_loss = loss[epoch]
            for lo, hi in bounds:
                step(
                    params,
                    grads,
                    Xe,
                    Ye,
                    lo,
                    hi,
                    masks,
                    epoch_loss,
                    penalty[epoch] if penalty is not None and hi == m else None,
                    m,
                )
                for rows, opt, theta_groups, grad_groups, state in updates:
                    opt.update(theta_groups, grad_groups, state, _rows(lr, rows) if per_block_lr else lr)
            if monitor is not None and ((epoch + 1) % monitor_every == 0 or epoch + 1 == epochs):
                now = time.perf_counter()
                accuracy = _watch(net, params, monitor, bn_state, bounds[0][1])
                watched.append((epoch + 1, accuracy, now - started - watching))
                watching += time.perf_counter() - now
            if epoch + 1 - looked == DIVERGENCE_CHECK_EVERY or epoch + 1 == epochs:
                _mark_diverged(_costs(loss, penalty, m, looked, epoch + 1), looked, diverged_epoch)
                looked = epoch + 1
                if (diverged_epoch >= 0).all():
                    break
        finite = np.all([np.isfinite(p).all(axis=tuple(range(1, p.ndim))) for p in params.values()], axis=0)
        diverged_epoch[(diverged_epoch < 0) & ~finite] = epoch
    for key, value in params.items():  # hand the trained values back in the caller's arrays
        caller[key][...] = value
    outcome = FitOutcome(
        _curve(_costs(loss, penalty, m, 0, looked), diverged_epoch, epochs, curve_every),
        diverged_epoch,
        np.where(diverged_epoch >= 0, diverged_epoch + 1, looked),
    )
    if monitor is not None:
        outcome.monitor_epochs = np.array([e for e, _, _ in watched], dtype=int)
        outcome.monitor_seconds = np.array([t for _, _, t in watched])
        acc = np.array([a for _, a, _ in watched]).reshape(len(watched), runs).T
        # a record at or after a run's divergence epoch holds no accuracy
        gone = (diverged_epoch[:, None] >= 0) & (outcome.monitor_epochs[None, :] > diverged_epoch[:, None])
        outcome.monitor_accuracy = np.where(gone, np.nan, acc)
    return outcome


def _shuffled(X, Y, perm, out):
    """X and Y with each run's examples in its order ``perm[r]``, written into ``out`` (two arrays like them):
    a gather per run along the example axis (``np.take``; ``take_along_axis``'s broadcast index made the
    shuffle of digits, 30 runs, cost as much as its training step)."""
    for A, B in zip((X, Y), out):
        for a, p, b in zip(A, perm, B):
            np.take(a, p, axis=-1, out=b, mode="clip")  # "clip": unbuffered; the indices are in range
    return out


def _run_by_run(net, params, X, Y, optimizer, schedule, epochs, streams, batch_size, bn_state, curve_every, engine):
    """``fit`` of R runs as R fits of one run each (see :func:`stacks_runs`), on (1, ...) views of every
    array (parameters and batch-norm statistics written back in place), each run with its own streams and its
    own slice of any per-run hyper-parameter (``per_run``'s (R, 1) arrays); the outcomes stacked."""
    runs = X.shape[0]
    outcomes = []
    for r in range(runs):
        run = slice(r, r + 1)
        one = streams.select(run)
        run_optimizer = _run_optimizer(optimizer, r, runs)
        run_bn = None if bn_state is None else {k: v[run] for k, v in bn_state.items()}
        outcomes.append(
            fit(
                net,
                {k: v[run] for k, v in params.items()},
                X[run],
                Y[run],
                optimizer=run_optimizer,
                schedule=_run_schedule(schedule, run, runs),
                epochs=epochs,
                streams=one,
                batch_size=batch_size,
                bn_state=run_bn,
                curve_every=curve_every,
                engine=engine,
            )
        )
        for k, v in (run_bn or {}).items():  # fit replaced the running statistics: write them back
            bn_state[k][run] = v
    return FitOutcome(
        *(np.concatenate([getattr(o, f) for o in outcomes]) for f in ("curve", "diverged_epoch", "epochs_run"))
    )


def _run_optimizer(optimizer, r: int, runs: int):
    """The optimizer of run r trained alone: its block's (:class:`RunBlocks`), each per-run (R_b, 1)
    hyper-parameter array cut to the run's row."""
    ((rows, block),) = [(rows, block) for rows, block in _blocks(optimizer, runs) if rows.start <= r < rows.stop]
    one = copy.copy(block)
    for f in dataclasses.fields(block) if dataclasses.is_dataclass(block) else ():
        value = getattr(block, f.name)
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] == rows.stop - rows.start:
            object.__setattr__(one, f.name, value[r - rows.start : r - rows.start + 1])  # frozen dataclass
    return one


def _run_schedule(schedule, run: slice, runs: int):
    """The learning rate of one run: its row of a per-run (R, 1) schedule, else the schedule itself."""

    def one(epoch):
        lr = schedule(epoch)
        return lr[run] if isinstance(lr, np.ndarray) and lr.ndim == 2 and lr.shape[0] == runs else lr

    return one


class TrainingStep(Protocol):
    """One training step of an engine, on examples [lo, hi) of X (R, n_0, m) and Y (R, n_L, m):
    ``step(params, grads, X, Y, lo, hi, masks, loss, penalty, n_train)`` adds each run's summed loss to
    ``loss`` (R,), writes the gradients into ``grads`` (both buffers from ``Network.allocate``) and, when
    ``penalty`` is given, the L2 penalty over ``n_train`` examples into it. ``masks(epoch_masks)`` turns an
    epoch's dropout masks into what the step slices. Implemented by :class:`_NumpyStep` (the reference) and
    ``kernels.CompiledStep``."""

    def masks(self, masks: list | None): ...

    def __call__(
        self,
        params: Params,
        grads: Params,
        X: np.ndarray,
        Y: np.ndarray,
        lo: int,
        hi: int,
        masks,
        loss: np.ndarray,
        penalty: np.ndarray | None,
        n_train: int,
    ) -> None: ...


class _NumpyStep:
    """A training step on the NumPy engine (the reference): ``Network.forward``, ``loss_sum``, ``l2_penalty``
    and ``backward`` on examples [lo, hi). Adds each run's summed loss to ``loss``, writes the gradients into
    ``grads`` and, when ``penalty`` is given, the L2 penalty into it. ``kernels.CompiledStep`` does the same."""

    def __init__(self, net: Network, bn_state):
        self.net, self.bn_state = net, bn_state

    @staticmethod
    def masks(masks):
        return masks

    def __call__(self, params, grads, X, Y, lo, hi, masks, loss, penalty, n_train):
        net = self.net
        Xb, Yb = X[..., lo:hi], Y[..., lo:hi]
        masks = None if masks is None else [None if d is None else d[..., lo:hi] for d in masks]
        Z, cache = net.forward(params, Xb, train=True, masks=masks, bn_state=self.bn_state)
        loss += net.loss_sum(Z, Yb)
        if penalty is not None:
            penalty[...] = net.l2_penalty(params, n_train)
        net.backward(params, cache, Z, Yb, n=n_train, out=grads)
        # Keep this step's arrays until the next step has made its own: glibc then reuses their memory
        # instead of unmapping MB-sized blocks at the end of each step and faulting them in again at the
        # next (medium network, five runs: 1.3× slower per step without).
        self.cache = cache


def _compiled_step(net: Network, engine: str, runs: int, bounds) -> TrainingStep:
    if engine != "numba":
        raise ValueError(f"unknown engine {engine!r}; known: {', '.join(ENGINE_CHOICES)}")
    from .kernels import CompiledStep

    return CompiledStep(net, runs, bounds[0][1] - bounds[0][0])


def _costs(loss, penalty, m, start, stop):
    """Epoch costs (epochs stop − start, R): the mean loss, plus the L2 penalty."""
    cost = loss[start:stop] / m
    if penalty is not None:
        cost += penalty[start:stop]
    return cost


def _mark_diverged(cost, start, diverged_epoch):
    """Set ``diverged_epoch`` of each run not yet diverged whose cost (epochs start, start + 1, ...) turns
    non-finite to the first such epoch."""
    bad = ~np.isfinite(cost)
    newly = (diverged_epoch < 0) & bad.any(axis=0)
    diverged_epoch[newly] = start + bad.argmax(axis=0)[newly]


def _curve(cost, diverged_epoch, epochs, every):
    """The recorded curve (R, ⌈epochs/every⌉): the costs of epochs 0, every, 2·every, ...; NaN from a run's
    divergence on and for epochs not run."""
    curve = np.full((cost.shape[1], -(-epochs // every)), np.nan)
    kept = cost[::every].T
    recorded = np.arange(kept.shape[1]) * every
    curve[:, : kept.shape[1]] = np.where(
        (diverged_epoch[:, None] < 0) | (recorded < diverged_epoch[:, None]), kept, np.nan
    )
    return curve


def _flat(net: Network, params: dict):
    """The parameters copied into one buffer (see ``Network.allocate``)."""
    views = net.allocate(next(iter(params.values())).shape[0])
    for key, value in params.items():
        views[key][...] = value
    return views


def _watch(net: Network, params, monitor, bn_state, chunk: int) -> np.ndarray:
    """The monitor's validation accuracy per run (NaN where the loss is not finite), evaluated in slices of
    the training batch's size: arrays of the training step's sizes, whose memory the allocator reuses (one
    pass over the whole split allocated blocks that glibc unmapped and the next training steps faulted in
    again: digits, 5 runs, was 5x slower to train with the monitor on)."""
    X, y = monitor
    m = y.shape[-1]
    correct, finite = np.zeros(X.shape[0]), np.ones(X.shape[0], dtype=bool)
    for lo in range(0, m, chunk):
        accuracy, cost = evaluate(net, params, X[..., lo : lo + chunk], y[..., lo : lo + chunk], bn_state)
        correct += np.rint(accuracy * y[..., lo : lo + chunk].shape[-1])  # counts, so that / m is exact
        finite &= np.isfinite(cost)
    return np.where(finite, correct / m, np.nan)


def evaluate(net: Network, params, X, y, bn_state=None, n_train=None):
    """Accuracy and cost (mean loss, plus the L2 penalty when ``n_train`` is given) per run, in evaluation
    mode: no dropout, batch norm with its running statistics."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        Z, _ = net.forward(params, X, bn_state=bn_state)
        labels = Z.argmax(axis=-2) if net.output == "softmax" else (net.probabilities(Z)[:, 0, :] > 0.5)
        accuracy = (labels == y).mean(axis=-1)
        cost = net.cost_of(Z, targets(y, net.sizes[-1]), params, n_train)
    return accuracy, cost


@functools.cache
def _versions() -> tuple:
    from .provenance import package_versions

    found = {"nnbench": __version__, "numpy": np.__version__, "python": platform.python_version()}
    return tuple({**found, **package_versions(("scipy", "scikit-learn"))}.items())


def versions() -> dict:
    """The versions a result was made with (read once from the installed metadata), and the BLAS library
    and kernel its matrix products ran on (``nnbench.contract.blas``)."""
    return {**dict(_versions()), **contract.blas()}


def _number(x):
    """A JSON-safe float: None for NaN/inf."""
    x = float(x)
    return x if np.isfinite(x) else None


# the fields a run's variant may change (``run``'s ``variants``): its optimizer and learning rate schedule
OPTIMIZER_FIELDS = ("optimizer", "optimizer_options", "lr", "schedule", "schedule_options")


def per_run(variants) -> tuple:
    """(optimizer, schedule) training run r with ``variants[r]``'s optimizer, its hyper-parameters and its
    learning rate, on the run axis.

    Consecutive variants that name the same optimizer are one block: that optimizer with each hyper-parameter
    that differs between them replaced by an (R_b, 1) array (the update broadcasts it over each run's row of
    the parameter buffer: element for element the same arithmetic as a scalar). Several blocks make a
    :class:`RunBlocks`, each block updated with its own rule. The schedule returns the (R, 1) array of the
    variants' own schedules at the epoch."""
    blocks, start = [], 0
    for _, group in itertools.groupby(variants, key=lambda v: v.optimizer):
        block = list(group)
        blocks.append((slice(start, start + len(block)), _one_optimizer([v.build_optimizer() for v in block])))
        start += len(block)
    optimizer = blocks[0][1] if len(blocks) == 1 else RunBlocks(tuple(blocks))
    schedules = [v.build_schedule() for v in variants]

    def schedule(epoch):
        return np.array([sch(epoch) for sch in schedules], dtype=float)[:, None]

    return optimizer, schedule


def _one_optimizer(optimizers: list):
    """One optimizer for runs of the same kind: the first, each hyper-parameter that differs an (R_b, 1) array."""
    optimizer = optimizers[0]
    for f in dataclasses.fields(optimizer):
        values = [getattr(o, f.name) for o in optimizers]
        if any(v != values[0] for v in values):
            object.__setattr__(optimizer, f.name, np.array(values, dtype=float)[:, None])  # frozen dataclass
    return optimizer


def run(spec, seeds=None, points=None, monitor_every: int | None = None, variants=None) -> list[dict]:
    """Train one run per seed (all together) from a :class:`~nnbench.spec.RunSpec`; return result records
    (the result contract of ``docs/design.md``), in the order of ``seeds`` (default: ``[spec.seed]``).
    ``points``: the data set's points read once (``nnbench.data.read_points``) instead of generated.

    ``monitor_every`` k (needs a validation split, ``val_fraction`` > 0): each record also holds
    ``monitor`` = {"epochs": [k, 2k, ..., epochs], "val_accuracy": [...] (None where diverged),
    "seconds": [...]}: ``fit``'s monitor, the seconds of the R runs' training divided by R as ``seconds`` is.

    ``variants`` (one RunSpec per seed, equal to ``spec`` but for :data:`OPTIMIZER_FIELDS`: the optimizer,
    its options and the learning rate schedule): run r trains with ``variants[r]``'s optimizer and learning
    rate (:func:`per_run`; the trials of a tuning study, or a grid job's cells, on the run axis, each the same
    numbers as trained alone), and its record carries that spec. The decision boundary is drawn for the first
    run of each block of equal consecutive variants (seed aside): the first seed of a cell."""
    from . import data

    seeds = [spec.seed] if seeds is None else [int(s) for s in seeds]
    if variants is not None:
        if len(variants) != len(seeds):
            raise ValueError(f"{len(variants)} variants for {len(seeds)} seeds")
        shared = [f.name for f in dataclasses.fields(spec) if f.name not in (*OPTIMIZER_FIELDS, "seed")]
        for i, v in enumerate(variants):
            differ = [k for k in shared if getattr(v, k) != getattr(spec, k)]
            if differ:
                raise ValueError(
                    f"variant {i} differs from the spec in {differ}; variants on the run axis may differ only in "
                    f"{', '.join(OPTIMIZER_FIELDS)}"
                )
    streams = Streams(seeds)
    first, rows = streams.distinct  # one split per distinct seed (run_cells repeats a job's seeds per cell)
    loaded = [data.load(spec.dataset, spec.dataset_options, streams.split[r], points) for r in first]
    splits = [loaded[i] for i in rows]
    stack = lambda name: np.stack([getattr(s, name) for s in splits])  # noqa: E731
    X, y = stack("X_train"), stack("y_train")
    net = spec.build_network(X.shape[1], splits[0].n_classes)
    params = net.init_params(spec.build_initializer(), streams.init)
    bn_state = net.init_bn_state(len(seeds))
    monitor = None
    if monitor_every is not None:
        if not splits[0].y_val.size:
            raise ValueError(f"monitor_every needs a validation split (val_fraction > 0) of {spec.dataset!r}")
        monitor = (stack("X_val"), stack("y_val"))
    optimizer, schedule = (spec.build_optimizer(), spec.build_schedule()) if variants is None else per_run(variants)
    m = X.shape[-1]
    engine = choose_engine(net, min(spec.batch_size or m, m)) if spec.engine == "auto" else spec.engine
    start = time.perf_counter()
    outcome = fit(
        net,
        params,
        X,
        targets(y, net.sizes[-1]),
        optimizer=optimizer,
        schedule=schedule,
        epochs=spec.epochs,
        streams=streams,
        batch_size=spec.batch_size,
        bn_state=bn_state,
        curve_every=spec.curve_every,
        engine=engine,
        **({} if monitor is None else {"monitor": monitor, "monitor_every": int(monitor_every)}),
    )
    seconds = (time.perf_counter() - start) / len(seeds)
    scores = {"train": evaluate(net, params, X, y, bn_state, n_train=m)}
    for part in ("val", "test"):
        if splits[0].__getattribute__(f"y_{part}").size:
            scores[part] = evaluate(net, params, stack(f"X_{part}"), stack(f"y_{part}"), bn_state)
    boundaries = {}  # run -> its boundary, for the first run of each block of equal variants
    if data.DATASETS[spec.dataset].two_d and X.shape[1] == 2:
        own = [()] * len(seeds) if variants is None else [[getattr(v, k) for k in OPTIMIZER_FIELDS] for v in variants]
        for r in range(len(seeds)):
            if (r == 0 or own[r] != own[r - 1]) and outcome.ok[r]:
                boundaries[r] = decision_boundary(net, params, bn_state, splits[r], run=r)
    results = []
    for r, seed in enumerate(seeds):
        ok = bool(outcome.ok[r])
        score = lambda part, i: _number(scores[part][i][r]) if ok and part in scores else None  # noqa: E731
        curve = outcome.curve[r, : -(-int(outcome.epochs_run[r]) // spec.curve_every)]
        results.append(
            {
                "schema": "nnbench.result/1",
                "spec": (spec if variants is None else variants[r]).replace(seed=seed).to_dict(),
                "seed": seed,
                "status": "ok" if ok else "diverged",
                "diverged_epoch": None if ok else int(outcome.diverged_epoch[r]),
                "epochs_run": int(outcome.epochs_run[r]),
                "train_accuracy": score("train", 0),
                "val_accuracy": score("val", 0),
                "test_accuracy": score("test", 0),
                "train_cost": score("train", 1),
                "test_cost": score("test", 1),
                "cost_curve": [_number(c) for c in curve if np.isfinite(c)],
                "curve_every": spec.curve_every,
                "seconds": seconds,
                "engine": engine,
                "boundary": boundaries.get(r),
                "versions": versions(),
            }
        )
        if monitor is not None:
            results[-1]["monitor"] = {
                "epochs": outcome.monitor_epochs.tolist(),
                "val_accuracy": [_number(a) if np.isfinite(a) else None for a in outcome.monitor_accuracy[r]],
                "seconds": (outcome.monitor_seconds / len(seeds)).tolist(),
            }
    return results


# run_cells stacks cells on one run axis up to this many runs (seeds × cells) per fit: a grid job's six
# mini-batch cells at 5 or 10 seeds; at 30 seeds two cells a fit, at 64 or more one. Past ~30 runs a tiny
# network's step gains little per run (bench_scaling.py: 14.1 → 13.1 ms per run from R = 10 to 20), while a
# fit's memory grows with R (the data and its shuffled copy per run: 1.4 MB a run for digits).
MAX_STACKED_RUNS = 64


def cell_groups(specs, seeds: int = 1) -> list[list[int]]:
    """The specs (indices, in order of first appearance) that :func:`run_cells` trains together: those equal
    but for :data:`OPTIMIZER_FIELDS` and ``seed``, so sharing the network, data, batches and epochs, at most
    ``MAX_STACKED_RUNS // seeds`` of them (at least one) per group, for ``seeds`` seeds each."""
    groups: dict[str, list[int]] = {}
    for i, spec in enumerate(specs):
        shared = {k: v for k, v in spec.to_dict().items() if k not in (*OPTIMIZER_FIELDS, "seed")}
        groups.setdefault(json.dumps(shared, sort_keys=True), []).append(i)
    size = max(1, MAX_STACKED_RUNS // max(1, seeds))
    return [group[k : k + size] for group in groups.values() for k in range(0, len(group), size)]


def run_cells(specs, seeds, points=None) -> list[list[dict]]:
    """``run(spec, seeds, points(spec))`` for each spec, the records in the order of ``specs``, with the cells
    of each :func:`cell_groups` group trained together on one run axis (``run``'s ``variants``, cell after cell,
    each cell's seeds together): every run the numbers it has trained alone, bit for bit, and ``seconds`` the
    group's training time per run. A grid job's cells differ only in their optimizer: one NumPy call then
    serves the cells' runs where each cell alone made its own (``docs/benchmarks.md``, issue 15).
    ``points``: a function of a spec to its data set's points (``nnbench.data.read_points``), or None."""
    seeds = [int(s) for s in seeds]
    records: list[list[dict]] = [[] for _ in specs]
    for group in cell_groups(specs, len(seeds)):
        cells = [specs[i] for i in group]
        variants = [cell.replace(seed=seed) for cell in cells for seed in seeds]
        together = run(cells[0], seeds * len(cells), None if points is None else points(cells[0]), variants=variants)
        for k, i in enumerate(group):
            records[i] = together[k * len(seeds) : (k + 1) * len(seeds)]
    return records


def decision_boundary(net, params, bn_state, split, resolution=50, run: int = 0) -> dict:
    """P(class 1) of run ``run`` (trained on ``split``) on a grid over the data (2-D, two-class data sets),
    rounded to 3 digits."""
    from .data import grid_2d

    xs, ys, points = grid_2d(split, resolution=resolution)
    first = {k: v[run : run + 1] for k, v in params.items()}
    state = {k: v[run : run + 1] for k, v in bn_state.items()}
    with np.errstate(over="ignore", invalid="ignore"):
        Z, _ = net.forward(first, points[None], bn_state=state)
        prob = net.probabilities(Z)[0]
    prob = prob[0] if net.output == "sigmoid" else prob[1]
    return {
        "x": np.round(xs, 4).tolist(),
        "y": np.round(ys, 4).tolist(),
        "prob": np.round(prob.reshape(len(ys), len(xs)), 3).tolist(),
    }
