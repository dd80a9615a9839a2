"""The two engines on the default grid's own cells: seconds per cell (five seeds together), numpy vs numba.

For every data set of config/config.yaml, initialization ``he``, regularizations none / dropout / l2 and
optimizers gd (full batch) / momentum / adam (batches of 64), the cell's whole run (``trainer.run``: data,
training, evaluation) is timed on each engine, alternating, and the ratio is the median over ``--repeats``
of the ratio within a repeat. Both engines' test accuracies are compared (they agree to rounding, so they
are equal unless a run sits on a decision threshold). One thread, as in the workflow's jobs.

Each row also gives the cell's network, batch, the work ``batch × weights`` that ``engine: auto``'s rule reads
(``trainer.choose_engine``), the engine it picks and "auto / faster": the picked engine's time over the
faster engine's (median over repeats of the within-repeat ratio; 1.00 when it picks the faster).

  python benchmarks/bench_engines.py              # ~1 min; writes benchmarks/results/engines.csv
  python benchmarks/bench_engines.py --repeats 1  # smoke run
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _common import environment, environment_markdown, pin_one_thread, write_csv  # noqa: E402

from nnbench import data as nndata  # noqa: E402
from nnbench.config import cell_spec  # noqa: E402
from nnbench.spec import RunSpec  # noqa: E402
from nnbench.trainer import choose_engine, numba_installed, run, weights  # noqa: E402

REGS, OPTS, SEEDS = ("none", "dropout", "l2"), ("gd", "momentum", "adam"), [0, 1, 2, 3, 4]


def timed_run(spec):
    start = time.perf_counter()
    results = run(spec, seeds=SEEDS)
    return time.perf_counter() - start, [r["test_accuracy"] for r in results]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--csv", default=str(HERE / "results" / "engines.csv"))
    args = parser.parse_args(argv)
    if not numba_installed():
        raise SystemExit("needs numba: pip install -e '.[fast]'")
    limiter = pin_one_thread()  # noqa: F841
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    print(environment_markdown(environment()) + "\n")
    print(
        "| data set | reg | opt | network | batch | batch × weights | numpy ms | numba ms | numpy / numba "
        "| auto picks | auto / faster | same test accuracies |"
    )
    print("|---|---|---|---|---:|---:|---:|---:|---:|---|---:|---|")
    rows = []
    for dataset in config["datasets"]:
        for reg in REGS:
            for opt in OPTS:
                spec = RunSpec.from_dict(cell_spec(config, dataset, "he", reg, opt)).replace(engine="numpy")
                engines = {"numpy": spec, "numba": spec.replace(engine="numba")}
                split = nndata.load(spec.dataset, spec.dataset_options, np.random.default_rng(0))
                net = spec.build_network(split.X_train.shape[0], split.n_classes)
                m = split.X_train.shape[1]
                batch = min(spec.batch_size or m, m)
                picked = choose_engine(net, batch)
                timed_run(engines["numba"])  # compile (or load the cached machine code) outside the timing
                times, accuracies = {"numpy": [], "numba": []}, {}
                for repeat in range(args.repeats):
                    for name in ("numpy", "numba") if repeat % 2 == 0 else ("numba", "numpy"):
                        seconds, accuracies[name] = timed_run(engines[name])
                        times[name].append(seconds)
                ratio = float(np.median(np.array(times["numpy"]) / np.array(times["numba"])))
                both = np.array([times["numpy"], times["numba"]])
                auto = float(np.median(np.array(times[picked]) / both.min(axis=0)))
                row = {
                    "dataset": dataset,
                    "reg": reg,
                    "opt": opt,
                    "sizes": "-".join(map(str, net.sizes)),
                    "batch": batch,
                    "work": batch * weights(net),
                    "auto_picks": picked,
                    "auto_over_faster": auto,
                    "numpy_ms": 1e3 * float(np.median(times["numpy"])),
                    "numba_ms": 1e3 * float(np.median(times["numba"])),
                    "numpy_over_numba": ratio,
                    "same_test_accuracies": accuracies["numpy"] == accuracies["numba"],
                }
                rows.append(row)
                print(
                    f"| {dataset} | {reg} | {opt} | {row['sizes']} | {batch} | {row['work']:,} | {row['numpy_ms']:.0f} | "
                    f"{row['numba_ms']:.0f} | {ratio:.2f} | {picked} | {auto:.2f} | {row['same_test_accuracies']} |",
                    flush=True,
                )
    for dataset in config["datasets"]:
        mine = [r for r in rows if r["dataset"] == dataset]
        total = sum(r["numpy_ms"] for r in mine) / sum(r["numba_ms"] for r in mine)
        auto = sum(r[f"{r['auto_picks']}_ms"] for r in mine) / sum(min(r["numpy_ms"], r["numba_ms"]) for r in mine)
        print(
            f"- {dataset}: these {len(mine)} cells' time on numpy / on numba = {total:.2f}; "
            f"on auto's picks / on the faster of each = {auto:.3f}"
        )
    print(f"wrote {write_csv(args.csv, rows)}")


if __name__ == "__main__":
    main()
