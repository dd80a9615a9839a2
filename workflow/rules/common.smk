# Helpers shared by the rules: the grid, the seeds, each cell's resolved spec, the paths.
# All logic about what a name means lives in nnbench.config (tested there); this file only wires it in.

import json
import shlex
from pathlib import Path

from snakemake.exceptions import WorkflowError

from nnbench.config import cell_spec, check, check_files, definition, seed_list, seeds_text
from nnbench.studies import check_config as check_studies
from nnbench.tuning import check_config as check_tuning
from nnbench.tuning import enabled as tuning_enabled
from nnbench.tuning import problems as tuning_problems
from nnbench.tuning import settings_of as tuning_settings

# The config files as written, before anything reads the config: Snakemake's loader silently keeps the last
# of two equal keys, nnbench.config.check_files refuses them (and any YAML error), naming file and line.
try:
    check_files(workflow.configfiles)
except ValueError as err:
    raise WorkflowError(f"invalid config: {err}") from None

DATASETS = config["datasets"]
INITS = config["inits"]
REGS = config["regs"]
OPTIMIZERS = config["optimizers"]
try:
    SEEDS = seed_list(config)
except ValueError as err:
    raise WorkflowError(f"invalid config: {err}") from None
COURSE_EXPERIMENTS = [
    "initialization",
    "gradient_checking",
    "optimization",
    "regularization",
]

# Every rule calls the `nnbench` command of the environment the package is installed in
# (`pip install -e .`); with `--sdm conda`, this environment (the package added by its post-deploy script).
CONDA_ENV = "../envs/nnbench.yaml"


# Jobs run by Snakemake itself, never submitted to a cluster's executor: each costs less than a submission
# (a Slurm job starts Snakemake again, 1.5 s of CPU, and waits in the queue). The aggregation steps read and
# write a few small files; a data set's points cost ~3 s of CPU (importing scikit-learn) and every training
# job of the data set waits for them; the report, the last job, would wait in the queue at the very end of
# the run for ~30 s of CPU and ~230 MB at most in any one process (default grid, docs/benchmarks.md section
# 4). No effect on a local run. README, "On a cluster".
localrules:
    points,
    report,
    tables,
    baseline_comparison,
    study_gradcheck_verify,
    tuning_tables,
    manifest,


RESULTS = "results"
RUNS_DIR = f"{RESULTS}/runs"
TABLES = f"{RESULTS}/tables"
POINTS_DIR = f"{RESULTS}/points"
CELL = "{dataset}/{init}/{reg}/{opt}"
TRAIN_JOB = "{dataset}/{init}/{reg}"  # a train job: its cells under every optimizer
RUN_FILE = f"{RUNS_DIR}/{CELL}.json"
POINTS_FILE = f"{POINTS_DIR}/{{dataset}}.npz"

# BLAS pinning: Snakemake's shell() itself sets OMP_NUM_THREADS, OPENBLAS_NUM_THREADS, MKL_NUM_THREADS (and the
# GOTO, VECLIB, NUMEXPR ones) to the job's `threads:` for every command (snakemake/shell.py), so no rule repeats it.


# Fail before any job runs: names against the registries, every cell spec resolved and validated,
# the data files (grid data sets and football_mat) read once.
try:
    check(config)
    check_studies(config)  # every study's settings, against its module's defaults (nnbench.studies.STUDIES)
    check_tuning(config)  # the fair comparison's settings and every optimizer's search space (nnbench.tuning)
except ValueError as err:
    raise WorkflowError(f"invalid config: {err}") from None


def cell_files():
    """Every cell file of the grid, in grid order."""
    return expand(RUN_FILE, dataset=DATASETS, init=INITS, reg=REGS, opt=OPTIMIZERS)


def points_files():
    """Every grid data set's points file."""
    return expand(POINTS_FILE, dataset=DATASETS)


def seed_tables():
    """The seed-shaped tables, one CSV and one Markdown file per data set."""
    return expand(f"{TABLES}/{{dataset}}_init_by_opt.{{ext}}", dataset=DATASETS, ext=["csv", "md"])


def course_tables():
    return expand(f"{TABLES}/course_{{experiment}}.csv", experiment=COURSE_EXPERIMENTS)


def final_targets():
    """Every target of the workflow but the manifest: rule all's inputs, and the manifest's. The points and cell
    files are targets too, so that a deleted one is re-made (Snakemake does not re-create a missing intermediate
    whose consumers are up to date)."""
    return [
        *points_files(),
        *cell_files(),
        f"{TABLES}/runs.csv",
        f"{TABLES}/summary.csv",
        f"{TABLES}/cross_dataset_ranks.csv",
        *seed_tables(),
        f"{RESULTS}/benchmarks.csv",
        *course_tables(),
        "reports/report.html",
        *STUDY_TABLE_FILES,
        GRADCHECK_VERIFIED,
        *baseline_comparison(),
        *tuning_files(),
        *TUNING_TABLES,
    ]


# The baseline (config `baseline`, a results folder of an earlier run; checked by nnbench.config.check): its files
# are inputs of the comparison and of the report, so that a changed baseline re-makes both.
BASELINE = config.get("baseline") or ""


def baseline_files():
    """The baseline's cell files (runs/{dataset}/{init}/{reg}/{opt}.json), else its tables/runs.csv; none without
    a baseline. The same files nnbench.results.read_results_runs reads."""
    if not BASELINE:
        return []
    from nnbench.results import cell_file_paths

    cells = cell_file_paths(BASELINE)
    return [str(p) for p in cells] if cells else [f"{BASELINE}/tables/runs.csv"]


def baseline_comparison():
    """results/tables/baseline_comparison.csv when a baseline is set."""
    return [f"{TABLES}/baseline_comparison.csv"] if BASELINE else []


def baseline_dir(wildcards, input):
    """The baseline folder, derived from the rule's own baseline files (so that it holds without a shared file
    system): DIR of DIR/runs/{dataset}/{init}/{reg}/{opt}.json or DIR/tables/runs.csv."""
    first = Path(input.baseline[0])
    return first.parents[1] if first.name == "runs.csv" else first.parents[CELL.count("/") + 1]


def baseline_arg(wildcards, input):
    """`--baseline DIR` for the report, or nothing."""
    return f"--baseline {shlex.quote(str(baseline_dir(wildcards, input)))}" if BASELINE else ""


def config_as_run(wildcards):
    """The config as run (with --config overrides), as JSON: a params value, so that a changed config
    re-renders the report."""
    return json.dumps(config, default=str)


# Folders as params, derived from the rule's own files (so that they hold without a shared file system).
def runs_dir(wildcards, input):
    """The cell files' folder: RUN_FILE's prefix before its {dataset}/{init}/{reg}/{opt}.json part."""
    return Path(input.cells[0]).parents[CELL.count("/")]


def tables_dir(wildcards, input):
    return Path(input.summary).parent


def points_dir(wildcards, input):
    return Path(input.points[0]).parent


def studies_dir(wildcards, input):
    return Path(input.studies[0]).parent


def figures_dir(wildcards, output):
    return Path(output.heatmaps).parent


def output_dir(wildcards, output):
    """The folder of the rule's first output."""
    return Path(output[0]).parent


def course_experiment(wildcards):
    """The course experiment's name on the command line (gradient_checking -> gradient-checking)."""
    return wildcards.experiment.replace("_", "-")


def train_cells_args(wildcards):
    """`--cell LABELS --spec JSON --out FILE` for each optimizer of a train job: a params value holding every
    cell's resolved RunSpec (without seed) as canonical JSON, so that changing any hyper-parameter of a
    cell re-runs its job."""
    args = []
    for opt in OPTIMIZERS:
        cell = dict(wildcards.items(), opt=opt)
        spec = cell_spec(config, cell["dataset"], cell["init"], cell["reg"], opt)
        labels = ",".join(f"{k}={cell[k]}" for k in ("dataset", "init", "reg", "opt"))
        args += [
            "--cell",
            labels,
            "--spec",
            json.dumps(spec, sort_keys=True, separators=(",", ":")),
            "--out",
            RUN_FILE.format(**cell),
        ]
    return " ".join(shlex.quote(a) for a in args)


def points_args(wildcards):
    """`--dataset NAME --options JSON` of a grid data set, for `nnbench points`."""
    d = definition(config, "datasets", wildcards.dataset)
    name = d.get("dataset", wildcards.dataset)
    options = json.dumps(d.get("dataset_options") or {}, sort_keys=True)
    return f"--dataset {shlex.quote(name)} --options {shlex.quote(options)}"


def points_input(wildcards):
    """A user's data file feeds its points job, so that editing the file re-makes them."""
    d = definition(config, "datasets", wildcards.dataset)
    path = (d.get("dataset_options") or {}).get("path")
    return [path] if path else []


def seeds_arg(wildcards):
    """The seeds, runs of consecutive seeds as ranges (0-29999), so that the command line does not grow."""
    return seeds_text(SEEDS)


def course_input(wildcards):
    """The football data.mat feeds the regularization experiment when configured."""
    if wildcards.experiment == "regularization" and config["football_mat"]:
        return {"data": config["football_mat"]}
    return {}


def course_data_arg(wildcards, input):
    return f"--data {shlex.quote(input.data)}" if "data" in input.keys() else ""


def grid_args(wildcards):
    """The grid for `nnbench tables`, which reads exactly these cell files."""
    axes = {
        "--datasets": DATASETS,
        "--inits": INITS,
        "--regs": REGS,
        "--opts": OPTIMIZERS,
    }
    return " ".join(f"{flag} {shlex.quote(','.join(names))}" for flag, names in axes.items())


# The fair comparison (workflow/rules/tuning.smk): its records, its tables and the config part it reads.
TUNING_DIR = f"{RESULTS}/tuning"
TUNING_FILE = f"{TUNING_DIR}/{TRAIN_JOB}.json"
TUNING_TABLE_NAMES = [
    "tuned_runs",
    "tuned_summary",
    "tuned_eval_runs",
    "time_to_target",
    "performance_profiles",
    "tuning_scores",
]
TUNING = tuning_settings(config) if tuning_enabled(config) else None
TUNING_TABLE_FILES = [f"{TABLES}/{name}.csv" for name in TUNING_TABLE_NAMES]
TUNING_TABLES = TUNING_TABLE_FILES if TUNING else []  # the targets (rule all's, the report's)


def tuning_files():
    """Every problem's tuning record, in the slice's order."""
    return [TUNING_FILE.format(dataset=d, init=i, reg=r) for d, i, r in tuning_problems(TUNING)] if TUNING else []


def tuning_config_json(wildcards, scoring=True):
    """The part of the config tuning reads (the grid's definitions and the tuning section), as JSON; without
    the targets and tau_max for the training jobs (``scoring`` False: a changed target re-makes the tables only)."""
    keys = ("datasets", "inits", "regs", "optimizers", "definitions", "engine", "tuning")
    part = {k: config[k] for k in keys if k in config}
    if not scoring:
        part["tuning"] = {k: v for k, v in part["tuning"].items() if k not in ("targets", "tau_max")}
    return json.dumps(part, sort_keys=True, separators=(",", ":"))


def tuning_dir(wildcards, input):
    """The tuning records' folder: TUNING_FILE's prefix before its {dataset}/{init}/{reg}.json part."""
    return Path(input.records[0]).parents[TRAIN_JOB.count("/")]
