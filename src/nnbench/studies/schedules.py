"""Study 4: learning-rate schedules and batch size, per optimizer — accuracy against epochs and wall time.

Two parts on one data set and network, every configuration trained for each seed (``nnbench.trainer.run``,
seeds together):

* ``part = schedule``: each of ``optimizers`` (defined in ``optimizer_settings``) × each of ``schedules``
  (constant, inverse-time, staircase, exponential; options in ``schedule_options``) at ``batch_size``;
* ``part = batch``: each optimizer with the constant schedule × each of ``batch_sizes`` (``null`` = the
  full batch), at the optimizer's own learning rate.

Accuracy against epochs: a run is a deterministic function of its spec, and nothing in a run's first e
epochs depends on the number of epochs asked for (schedules are functions of the epoch, the shuffle and
dropout streams are drawn epoch by epoch), so the state after e epochs of a long run is that of a run of e
epochs. Each configuration is therefore trained once per checkpoint in ``checkpoints`` (epochs), and each
row reports the accuracies and the training wall time (``seconds``, ``nnbench.trainer.run``'s time per run
of the joint training) of a run stopped there.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where it is used: the Snakefile imports this registry (0.3 s)
    import pandas as pd

from ..progress import progress

COLUMNS = [
    "part",
    "optimizer",
    "schedule",
    "batch_size",
    "full_batch",
    "seed",
    "epochs",
    "status",
    "train_acc",
    "test_acc",
    "train_cost",
    "seconds",
]

DEFAULTS = {
    "dataset": "spirals",
    "dataset_options": {"n_samples": 400, "noise": 0.05},
    "hidden": [20, 10],
    "activation": "relu",
    "init": "he",
    "optimizers": ["sgd", "momentum", "nesterov", "rmsprop", "adam", "adamw"],
    "optimizer_settings": {  # per name: optimizer, optimizer_options, lr
        "sgd": {"optimizer": "sgd", "lr": 0.5},
        "momentum": {"optimizer": "momentum", "optimizer_options": {"beta": 0.9}, "lr": 0.5},
        "nesterov": {"optimizer": "nesterov", "optimizer_options": {"beta": 0.9}, "lr": 0.5},
        "rmsprop": {"optimizer": "rmsprop", "optimizer_options": {"beta": 0.9}, "lr": 0.01},
        "adam": {"optimizer": "adam", "lr": 0.02},
        "adamw": {"optimizer": "adamw", "optimizer_options": {"weight_decay": 0.01}, "lr": 0.02},
    },
    "schedules": ["constant", "inverse_time", "staircase", "exponential"],
    "schedule_options": {  # per schedule name (nnbench.schedules)
        "constant": {},
        "inverse_time": {"rate": 0.02},
        "staircase": {"rate": 1.0, "interval": 25},
        "exponential": {"gamma": 0.98},
    },
    "batch_size": 32,
    "batch_sizes": [8, 32, 128, None],
    "checkpoints": [10, 25, 50, 100],
    "seeds": 3,
}


def settings_of(settings: dict | None) -> dict:
    from . import merged

    s = merged(DEFAULTS, settings, "schedules")
    missing = [o for o in s["optimizers"] if o not in s["optimizer_settings"]]
    if missing:
        raise ValueError(f"studies.schedules.optimizers: no optimizer_settings for {', '.join(missing)}")
    return s


def configurations(s: dict) -> list[tuple[str, str, str, int | None]]:
    """(part, optimizer name, schedule name, batch size) of every configuration, in table order."""
    out = [("schedule", o, sch, s["batch_size"]) for o, sch in itertools.product(s["optimizers"], s["schedules"])]
    out += [("batch", o, "constant", b) for o, b in itertools.product(s["optimizers"], s["batch_sizes"])]
    return out


def spec_for(s: dict, opt: str, schedule: str, batch_size, epochs: int):
    from . import study_spec

    o = dict(s["optimizer_settings"][opt])
    return study_spec(
        s,
        optimizer=o["optimizer"],
        optimizer_options=dict(o.get("optimizer_options") or {}),
        lr=o["lr"],
        schedule=schedule,
        schedule_options=dict(s["schedule_options"].get(schedule) or {}),
        batch_size=batch_size,
        epochs=int(epochs),
    )


def run_study(settings: dict | None = None) -> pd.DataFrame:
    """One row per configuration × seed × checkpoint (``COLUMNS``)."""
    import pandas as pd

    from .. import data
    from ..config import seed_list
    from ..streams import Streams
    from ..trainer import run

    s = settings_of(settings)
    seeds = seed_list(s)
    rows = []
    m_train = {}
    for part, opt, schedule, batch in progress(configurations(s), desc="schedules study", unit="config"):
        for epochs in sorted(int(e) for e in s["checkpoints"]):
            spec = spec_for(s, opt, schedule, batch, epochs)
            for seed, res in zip(seeds, run(spec, seeds)):
                if seed not in m_train:
                    m_train[seed] = data.load(
                        spec.dataset, spec.dataset_options, Streams([seed]).split[0]
                    ).X_train.shape[1]
                full = batch is None or batch >= m_train[seed]
                rows.append(
                    {
                        "part": part,
                        "optimizer": opt,
                        "schedule": schedule,
                        "batch_size": m_train[seed] if batch is None else int(batch),
                        "full_batch": full,
                        "seed": seed,
                        "epochs": epochs,
                        "status": res["status"],
                        "train_acc": res["train_accuracy"],
                        "test_acc": res["test_accuracy"],
                        "train_cost": res["train_cost"],
                        "seconds": res["seconds"],
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)


from . import Study, findings  # noqa: E402 - the registry's declaration, below everything it names

STUDY = Study(
    name="schedules",
    title="Schedules and batch size",
    defaults=DEFAULTS,
    tables=("study_schedules",),
    run=lambda s, config: {"study_schedules": run_study(s)},
    check=settings_of,
    findings=findings.schedules_findings,
    figures=findings.schedules_figures,
    block=findings.schedules_block,
    summary=lambda t: f"{len(t['study_schedules'])} rows",
)
