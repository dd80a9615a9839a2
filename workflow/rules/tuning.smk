# The fair comparison (config `tuning:`, nnbench.tuning): one job per problem (data set x init x reg of the
# tuning slice) trains every optimizer's trials (the largest budget's, once) on the tuning seeds and re-runs
# each budget's choice on the evaluation seeds, writing results/tuning/{dataset}/{init}/{reg}.json (atomically,
# with a digest that `nnbench tune tables` checks). The aggregation writes the fair-comparison tables to
# results/tables/. The part of the config tuning reads is an inline JSON params value, so that changing a
# tuning setting or a cell definition re-runs the jobs. No rule exists when tuning.enabled is false.

from nnbench.tuning import enabled as tuning_enabled
from nnbench.tuning import problems as tuning_problems
from nnbench.tuning import settings_of as tuning_settings

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
TUNING_TABLES = [f"{TABLES}/{name}.csv" for name in TUNING_TABLE_NAMES] if TUNING else []


def tuning_files():
    """Every problem's tuning record, in the slice's order."""
    return [TUNING_FILE.format(dataset=d, init=i, reg=r) for d, i, r in tuning_problems(TUNING)] if TUNING else []


def tuning_config_json(wildcards):
    """The part of the config tuning reads (the grid's definitions and the tuning section), as JSON."""
    keys = ("datasets", "inits", "regs", "optimizers", "definitions", "engine", "tuning")
    return json.dumps({k: config[k] for k in keys if k in config}, sort_keys=True, separators=(",", ":"))


def tuning_dir(wildcards, input):
    """The tuning records' folder: TUNING_FILE's prefix before its {dataset}/{init}/{reg}.json part."""
    return Path(input.records[0]).parents[TRAIN_JOB.count("/")]


if TUNING:

    localrules:
        tuning_tables,  # reads a few small files: never a cluster job

    rule tune:
        input:
            points=POINTS_FILE,
        output:
            TUNING_FILE,
        log:
            f"logs/tune/{TRAIN_JOB}.log",
        benchmark:
            f"benchmarks/tune/{TRAIN_JOB}.tsv"
        conda:
            CONDA_ENV
        threads: 1
        params:
            config=tuning_config_json,
            problem=TRAIN_JOB,
        shell:
            "nnbench tune train --config-json {params.config:q} --problem {params.problem:q} "
            "--points {input.points:q} --out {output:q} > {log:q} 2>&1"

    rule tuning_tables:
        input:
            records=tuning_files(),
        output:
            TUNING_TABLES,
        log:
            "logs/tuning_tables.log",
        conda:
            CONDA_ENV
        params:
            config=tuning_config_json,
            in_dir=tuning_dir,
            out_dir=output_dir,
        shell:
            "nnbench tune tables --config-json {params.config:q} --in-dir {params.in_dir:q} "
            "--out-dir {params.out_dir:q} > {log:q} 2>&1"
