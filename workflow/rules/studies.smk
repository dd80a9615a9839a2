# The studies beyond the grid (nnbench.studies, config `studies:`): one job each, writing its table(s) to
# results/tables/{table}.csv. One rule definition, made once per study of the registry nnbench.studies.STUDIES
# (rule study_{name}: a study's tables differ in number, which one wildcard rule's outputs cannot express); the
# study's section of the config (plus the grid, for a study that reads it) is an inline JSON params value
# (nnbench.studies.config_json), so that changing a study's settings re-runs exactly that study.
#
# The studies run with --no-fail: Snakemake deletes the outputs of a failed job, and the report must show the
# failing gradient-check table (in red). study_gradcheck_verify then fails the workflow, after the report is
# written, when a check fails for a cause in studies.gradcheck.fail_on.

from nnbench.studies import STUDIES, config_json

STUDIES_BENCHMARKS = "benchmarks/studies"
STUDY_TABLES = {name: [f"{TABLES}/{table}.csv" for table in study.tables] for name, study in STUDIES.items()}
STUDY_TABLE_FILES = [path for paths in STUDY_TABLES.values() for path in paths]  # report and rule all inputs
GRADCHECK_VERIFIED = f"{TABLES}/study_gradcheck.verified"


for study in STUDIES:

    rule:
        name:
            f"study_{study}"
        output:
            STUDY_TABLES[study][1:],  # the tables beside the first
            first=STUDY_TABLES[study][0],
        log:
            f"logs/studies/{study}.log",
        benchmark:
            f"{STUDIES_BENCHMARKS}/{study}.tsv"
        conda:
            CONDA_ENV
        threads: 1
        params:
            study=study,
            config=config_json(config, study),
        shell:
            "nnbench studies {params.study} --no-fail --config-json {params.config:q} "
            "--out {output.first:q} > {log:q} 2>&1"


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
        config=config_json(config, "gradcheck"),
    shell:
        "nnbench studies verify --table {input.table:q} --config-json {params.config:q} --out {output:q} "
        "> {log:q} 2>&1"
