# All cell files -> runs.csv, summary.csv, the seed-shaped tables per data set; every train and course
# benchmark -> results/benchmarks.csv. The course tables are inputs only so that their benchmarks exist by
# then; this rule's own benchmark is written after it ends and cannot be in benchmarks.csv.


rule tables:
    input:
        cells=cell_files(),
        course=course_tables(),
    output:
        runs=f"{TABLES}/runs.csv",
        summary=f"{TABLES}/summary.csv",
        ranks=f"{TABLES}/cross_dataset_ranks.csv",
        seed_tables=seed_tables(),
        benchmarks="results/benchmarks.csv",
    log:
        "logs/tables.log",
    benchmark:
        "benchmarks/tables/tables.tsv"
    conda:
        CONDA_ENV
    params:
        runs_dir=runs_dir,
        out_dir=output_dir,
        grid=grid_args,
        bench_dir="benchmarks",
        config=lambda wildcards: json.dumps(config, default=str),  # each cell file is checked against it
    shell:
        "nnbench tables --runs-dir {params.runs_dir:q} {params.grid} --out-dir {params.out_dir:q} "
        "--benchmarks-dir {params.bench_dir:q} --benchmarks-out {output.benchmarks:q} --config-json {params.config:q} "
        "--benchmark-layout train=dataset,init,reg --benchmark-layout course=experiment "
        "> {log:q} 2>&1"


# With a baseline (--config baseline=DIR): every cell of this run against the baseline's (nnbench.baseline), one row
# per cell. It never fails the workflow (--fail-on never); a CI job reads the verdict with
#     nnbench compare --baseline DIR results --fail-on significant
rule baseline_comparison:
    input:
        runs=f"{TABLES}/runs.csv",
        baseline=baseline_files(),
    output:
        f"{TABLES}/baseline_comparison.csv",
    log:
        "logs/baseline_comparison.log",
    conda:
        CONDA_ENV
    params:
        baseline=baseline_dir,
    shell:
        "nnbench compare --baseline {params.baseline:q} {input.runs:q} --fail-on never --out {output:q} > {log:q} 2>&1"
