"""The figures' tasks, rendered at one place: in this process, or in ``--jobs`` forked worker processes.

The sections do not draw; they put a :class:`FigureTask` (a figure function and its arguments) where a figure
goes. :func:`render_figures` renders every task at once — in this process with ``jobs == 1``, in ``jobs``
forked worker processes otherwise, longest first — and :func:`fill` puts the results in the tasks' places.
Every figure is deterministic, so the bytes are the same whatever ``jobs``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from ...progress import progress
from .base import setup

# rough seconds per figure on the default config (21 figures, ~15 s in all, most of it savefig): with
# --jobs N > 1 the costliest start first, so that the workers finish together
FIGURE_COST = {
    "study_depth": 1.7,
    "study_batch": 1.2,
    "heatmap": 1.0,
    "learning_curves": 0.8,
    "overfitting_gap": 0.7,
    "main_effects": 0.5,
    "cross_dataset_ranks": 0.4,
    "study_search": 0.5,
    "study_schedules": 0.4,
    "study_gradcheck": 0.35,
    "decision_boundaries": 0.2,
    "study_depth_outcome": 0.2,
}


class FigureTask:
    """A figure still to draw: ``func(*args, **kwargs)``, ``func`` a function of :mod:`nnbench.report.figures` (plain
    tables and arrays in, a ``Figure`` or None out). It stands where the figure goes in the report's context
    until :func:`render_figures` has run; compared and hashed by identity."""

    __slots__ = ("func", "args", "kwargs")

    def __init__(self, func: Callable, *args, **kwargs):
        self.func, self.args, self.kwargs = func, args, kwargs

    @property
    def cost(self) -> float:
        return FIGURE_COST.get(self.func.__name__, 0.5)

    def render(self):
        return self.func(*self.args, **self.kwargs)

    def __repr__(self) -> str:
        return f"FigureTask({self.func.__name__})"


_worker_tasks: Sequence[FigureTask] = ()


def _start_worker(tasks: Sequence[FigureTask]) -> None:
    """A worker's initializer: keep the tasks (forked memory: fork does not pickle ``initargs``) and set the
    figures' theme — inherited from the parent under fork, set here all the same."""
    global _worker_tasks
    _worker_tasks = tasks
    setup()


def _render_in_worker(index: int):
    return _worker_tasks[index].render()  # only the index goes to the worker; the Figure comes back pickled


def render_figures(tasks: Sequence[FigureTask], jobs: int = 1) -> dict:
    """``{task: its Figure (or None)}``. ``jobs == 1``: one after the other in this process, in the given order.
    ``jobs > 1``: in ``min(jobs, len(tasks))`` forked worker processes, the costliest first. The figures are the
    same bytes either way (each is deterministic and sets its own SVG hash salt)."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    tasks = list(tasks)
    if jobs == 1 or len(tasks) < 2:
        setup()
        return {task: task.render() for task in progress(tasks, desc="figures", unit="figure")}
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].cost)  # stable: ties keep the report's order
    pool = ProcessPoolExecutor(
        max_workers=min(jobs, len(tasks)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_start_worker,
        initargs=(tasks,),
    )
    try:
        futures = {i: pool.submit(_render_in_worker, i) for i in order}
        with progress(total=len(tasks), desc="figures", unit="figure") as bar:
            for _ in as_completed(futures.values()):
                bar.update()
        return {tasks[i]: futures[i].result() for i in range(len(tasks))}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # after a failure: drop the figures not started yet


def fill(obj, rendered: Mapping):
    """``obj`` (nested dicts and lists) with every :class:`FigureTask` in it replaced by its rendered figure."""
    if isinstance(obj, FigureTask):
        return rendered[obj]
    if isinstance(obj, dict):
        return {k: fill(v, rendered) for k, v in obj.items()}
    if isinstance(obj, list):
        return [fill(v, rendered) for v in obj]
    return obj
