"""Every source of randomness of a training job, one stream per purpose and per run.

``Streams(seeds)`` gives each run its own ``numpy.random.Generator`` for each purpose, spawned from
``SeedSequence(seed)`` in the fixed order of ``PURPOSES``, so that, for example, changing the optimizer
(which draws no numbers) never changes the initial weights, and adding dropout never changes the split.

``CourseStreams`` reproduces the course's legacy global-seed semantics (see ``nnbench.course``).
"""

from __future__ import annotations

import functools

import numpy as np

PURPOSES = ("split", "init", "shuffle", "dropout")  # append only: the order fixes the streams


class Streams:
    """Independent generators per run: ``self.split[r]``, ``self.init[r]``, ``self.shuffle[r]``, ``self.dropout[r]``.

    Runs with the same seed draw the same numbers (the cells of a grid job on one run axis: each cell's runs
    on the same seeds, ``nnbench.trainer.run_cells``): :meth:`permutation` and :meth:`dropout_masks` draw
    once per distinct seed, from the generators of its first run, and copy the rows to its other runs."""

    def __init__(self, seeds):
        self.seeds = [int(s) for s in seeds]
        per_run = [
            [np.random.default_rng(c) for c in np.random.SeedSequence(s).spawn(len(PURPOSES))] for s in self.seeds
        ]
        for i, purpose in enumerate(PURPOSES):
            setattr(self, purpose, [gens[i] for gens in per_run])

    def select(self, runs: slice) -> Streams:
        """The streams of ``runs`` alone (the same generator objects)."""
        one = object.__new__(Streams)
        one.seeds = self.seeds[runs]
        for purpose in PURPOSES:
            setattr(one, purpose, getattr(self, purpose)[runs])
        return one

    @functools.cached_property
    def distinct(self) -> tuple[list[int], np.ndarray]:
        """(the first run of each distinct seed, each run's row among them), found once."""
        first = {}
        for r, seed in enumerate(self.seeds):
            first.setdefault(seed, r)
        rows = {seed: i for i, seed in enumerate(first)}
        return list(first.values()), np.array([rows[seed] for seed in self.seeds])

    def permutation(self, epoch: int, m: int) -> np.ndarray:
        """Each run's shuffle of m examples for this epoch, shape (R, m)."""
        runs, rows = self.distinct
        drawn = np.stack([self.shuffle[r].permutation(m) for r in runs])
        return drawn if len(runs) == len(self.seeds) else drawn[rows]

    def dropout_masks(self, shapes_keeps):
        """A fresh boolean keep-mask (U < keep_prob) per hidden layer with keep_prob < 1, else None;
        run r's slice drawn from run r's dropout stream."""
        runs, rows = self.distinct
        masks = []
        for shape, keep in shapes_keeps:
            if keep >= 1.0:
                masks.append(None)
                continue
            u = np.empty((len(runs), *shape[1:]))
            for r, out in zip(runs, u):
                self.dropout[r].random(out=out)
            masks.append(u < keep if len(runs) == len(self.seeds) else (u < keep)[rows])
        return masks


class CourseStreams:
    """The course's global-seed semantics, for ``runs`` runs that each draw what one course run draws (several
    course models trained together on the run axis, ``nnbench.course.train_course_models``).

    - initialization: ``np.random.seed(init_seed)`` then the layers' ``randn`` in order;
    - shuffling: at epoch i, ``np.random.seed(shuffle_seed + i + 1)`` then ``permutation(m)``;
    - dropout: ``np.random.seed(dropout_seed)`` at *every* forward pass, then ``rand`` per hidden layer, so
      the mask is the same at every step (the course's quirk, reproduced only here).
    """

    def __init__(self, init_seed=3, shuffle_seed=10, dropout_seed=1, runs=1):
        self.init = [np.random.RandomState(init_seed) for _ in range(runs)]
        self.shuffle_seed, self.dropout_seed, self.runs = shuffle_seed, dropout_seed, runs

    def permutation(self, epoch, m):
        perm = np.random.RandomState(self.shuffle_seed + epoch + 1).permutation(m)
        return np.broadcast_to(perm, (self.runs, m))

    def dropout_masks(self, shapes_keeps):
        rs = np.random.RandomState(self.dropout_seed)
        return [
            None if keep >= 1.0 else np.broadcast_to(rs.rand(*shape[1:]) < keep, (self.runs, *shape[1:]))
            for shape, keep in shapes_keeps
        ]
