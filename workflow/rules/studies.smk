# The studies beyond the grid (nnbench.studies, config `studies:`): one job each, writing its table(s) to
# results/tables/study_*.csv. The study's section of the config (plus the grid for the gradient checks) is an
# inline JSON params value (nnbench.studies.config_json), so that changing a study's settings re-runs exactly
# that study.
#
# The gradient checks run with --no-fail: Snakemake deletes the outputs of a failed job, and the report must
# show the failing table (in red). study_gradcheck_verify then fails the workflow, after the report is written,
# when a check fails for a cause in studies.gradcheck.fail_on.

from nnbench.studies import config_json

STUDIES_BENCHMARKS = "benchmarks/studies"
STUDY_TABLES = {
    "gradcheck": [f"{TABLES}/study_gradcheck.csv"],
    "depth": [f"{TABLES}/study_depth.csv", f"{TABLES}/study_depth_layers.csv"],
    "search": [f"{TABLES}/study_search.csv", f"{TABLES}/study_search_trials.csv"],
    "schedules": [f"{TABLES}/study_schedules.csv"],
}
STUDY_TABLE_FILES = [path for paths in STUDY_TABLES.values() for path in paths]  # report and rule all inputs
GRADCHECK_VERIFIED = f"{TABLES}/study_gradcheck.verified"


rule study_gradcheck:
    output:
        STUDY_TABLES["gradcheck"][0],
    log:
        "logs/studies/gradcheck.log",
    benchmark:
        f"{STUDIES_BENCHMARKS}/gradcheck.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        config=lambda wildcards: config_json(config, "gradcheck"),
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "nnbench studies gradcheck --no-fail --config-json {params.config:q} --out {output:q} > {log:q} 2>&1"


rule study_depth:
    output:
        runs=STUDY_TABLES["depth"][0],
        layers=STUDY_TABLES["depth"][1],
    log:
        "logs/studies/depth.log",
    benchmark:
        f"{STUDIES_BENCHMARKS}/depth.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        config=lambda wildcards: config_json(config, "depth"),
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "nnbench studies depth --config-json {params.config:q} --out {output.runs:q} "
        "--layers-out {output.layers:q} > {log:q} 2>&1"


rule study_search:
    output:
        result=STUDY_TABLES["search"][0],
        trials=STUDY_TABLES["search"][1],
    log:
        "logs/studies/search.log",
    benchmark:
        f"{STUDIES_BENCHMARKS}/search.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        config=lambda wildcards: config_json(config, "search"),
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "nnbench studies search --config-json {params.config:q} --out {output.result:q} "
        "--trials-out {output.trials:q} > {log:q} 2>&1"


rule study_schedules:
    output:
        STUDY_TABLES["schedules"][0],
    log:
        "logs/studies/schedules.log",
    benchmark:
        f"{STUDIES_BENCHMARKS}/schedules.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        config=lambda wildcards: config_json(config, "schedules"),
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "nnbench studies schedules --config-json {params.config:q} --out {output:q} > {log:q} 2>&1"


rule study_gradcheck_verify:
    input:
        table=STUDY_TABLES["gradcheck"][0],
        report="reports/report.html",  # the report (red on a failure) is written first
    output:
        GRADCHECK_VERIFIED,
    log:
        "logs/studies/gradcheck_verify.log",
    conda:
        CONDA_ENV
    params:
        config=lambda wildcards: config_json(config, "gradcheck"),
    shell:
        "nnbench studies verify --table {input.table:q} --config-json {params.config:q} --out {output:q} "
        "> {log:q} 2>&1"
