"""Where a training step's time goes: line_profiler over the hot loop of a ``bench_step.py`` workload.

By default the tiny workload (the course's [2, 10, 5, 1] ReLU/sigmoid network on 300 points), full batch,
SGD, one thread, R runs (default 1); ``--workload medium`` profiles [64, 100, 50, 10] on the 1,797 digits.
line_profiler times every line of ``trainer.fit``'s step and of the functions it calls (``Network.forward``,
``Network.backward``, the loss, the optimizer's update), so the output shows how many NumPy calls a step
makes and what each costs. The times include line_profiler's own overhead (about
0.3 µs per line), so read them as shares, not as absolute step times (``bench_step.py`` measures those).

  python benchmarks/profile_step.py                     # tiny, R = 1, 2,000 steps
  python benchmarks/profile_step.py --runs 5
  python benchmarks/profile_step.py --workload medium   # 50 steps

Prints the profile and writes it to ``benchmarks/results/profiles/{workload}_R{R}.txt`` (or --out);
``*_before.txt`` there are the same profiles of the code before issue 6's optimizations (commit d9c3b16).
"""

from __future__ import annotations

import argparse
import inspect
import io
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import pin_one_thread  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("tiny", "medium"), default="tiny")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--steps", type=int, help="default: 2,000 (tiny), 50 (medium)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)

    import bench_step
    from bench_step import LR, NNBench
    from line_profiler import LineProfiler

    from nnbench import losses, network, optimizers, trainer

    limiter = pin_one_thread()  # noqa: F841  (the limit holds while it lives)
    steps = args.steps or {"tiny": 2000, "medium": 50}[args.workload]
    workload = getattr(bench_step, args.workload)(steps)
    bench = NNBench(workload, args.runs)
    bench.optimizer = optimizers.SGD()
    profiler = LineProfiler()
    # every function of the hot path, wherever it lives (methods, module functions, helpers)
    targets = [trainer.fit]
    for module in (network, losses, optimizers, trainer):
        for name, obj in vars(module).items():
            if getattr(obj, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(obj) and obj is not trainer.fit and not name.startswith("__"):
                targets.append(obj)
            elif inspect.isclass(obj):
                targets += [f for n, f in vars(obj).items() if inspect.isfunction(f) and not n.startswith("__")]
    for f in targets:
        profiler.add_function(f)
    bench.run(10)  # warm-up
    bench.prepare()
    profiler.enable_by_count()
    bench.run(steps)
    profiler.disable_by_count()
    text = io.StringIO()
    profiler.print_stats(stream=text, stripzeros=True, output_unit=1e-6)
    header = (
        f"# line_profiler, {workload.name} workload {list(workload.sizes)} x {workload.m} points, "
        f"R = {args.runs}, {steps} steps, "
        f"SGD lr {LR}, numpy {np.__version__}\n# times in microseconds; 'Per Hit' is per call of the line\n"
    )
    out = args.out or HERE / "results" / "profiles" / f"{workload.name}_R{args.runs}.txt"
    out.write_text(header + text.getvalue())
    print(header + text.getvalue())
    print(f"written to {out}")


if __name__ == "__main__":
    main()
