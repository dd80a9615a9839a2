# The last rule: the tables, the course tables, the benchmarks and every cell file -> reports/report.html, one
# self-contained page (nnbench.report). The same job writes every figure as its own file under reports/figures/
# and the report's statistics under reports/tables/, marked with report() so that
#     snakemake --report reports/snakemake-report.html
# gathers them too (needs snakemake[reports]). The config as run goes in as an inline JSON params value, so
# that a changed config re-renders the report.
# The figures (~2/3 of the job's time, most of it matplotlib's savefig) are rendered by `--jobs {threads}` forked
# worker processes, longest first; the output is byte-identical whatever the number. threads: 2, as this last
# job runs alone; Snakemake scales it down to --cores (`--cores 1`: --jobs 1, everything in one process).


rule report:
    input:
        runs=f"{TABLES}/runs.csv",
        summary=f"{TABLES}/summary.csv",
        course=course_tables(),
        benchmarks="results/benchmarks.csv",
        cells=cell_files(),
        points=points_files(),
        studies=STUDY_TABLE_FILES,
        baseline=baseline_files(),
        baseline_comparison=baseline_comparison(),
        tuning=TUNING_TABLES,  # the fair comparison (empty when tuning is disabled)
    output:
        html=report("reports/report.html", caption="../report/report.rst", category="Report"),
        heatmaps=report(
            directory("reports/figures/heatmaps"),
            patterns=["{name}.svg"],
            caption="../report/heatmaps.rst",
            category="Heat maps",
            labels={"figure": "{name}"},
        ),
        curves=report(
            directory("reports/figures/curves"),
            patterns=["{name}.svg"],
            caption="../report/curves.rst",
            category="Learning curves",
            labels={"figure": "{name}"},
        ),
        regularization=report(
            directory("reports/figures/regularization"),
            patterns=["{name}.svg"],
            caption="../report/regularization.rst",
            category="Regularization",
            labels={"figure": "{name}"},
        ),
        boundaries=report(
            directory("reports/figures/boundaries"),
            patterns=["{name}.png"],
            caption="../report/boundaries.rst",
            category="Decision boundaries",
            labels={"figure": "{name}"},
        ),
        rankings=report(
            directory("reports/figures/rankings"),
            patterns=["{name}.svg"],
            caption="../report/rankings.rst",
            category="Rankings",
            labels={"figure": "{name}"},
        ),
        studies=report(
            directory("reports/figures/studies"),
            patterns=["{name}.svg"],
            caption="../report/studies.rst",
            category="Studies",
            labels={"figure": "{name}"},
        ),
        tables=report(
            directory("reports/tables"),
            patterns=["{name}.csv"],
            caption="../report/tables.rst",
            category="Tables",
            labels={"table": "{name}"},
        ),
        # the job's wall and CPU seconds (its figure workers' included) and the largest process's peak memory,
        # written by the job itself: Snakemake's `benchmark:` sums psutil's memory over the forked workers,
        # counting the pages they share with the main process once per worker
        usage="benchmarks/report.tsv",
    log:
        "logs/report.log",
    conda:
        CONDA_ENV
    threads: 2
    params:
        config=config_as_run,
        tables=tables_dir,
        runs_dir=runs_dir,
        points_dir=points_dir,
        figures=figures_dir,
        studies=studies_dir,
        studies_benchmarks=STUDIES_BENCHMARKS,
        baseline=baseline_arg,
    shell:
        "nnbench report --tables {params.tables:q} --runs-dir {params.runs_dir:q} --points-dir {params.points_dir:q} "
        "--benchmarks {input.benchmarks:q} --config-json {params.config:q} "
        "--out {output.html:q} --figures-dir {params.figures:q} --tables-out {output.tables:q} "
        "--studies {params.studies:q} --studies-benchmarks {params.studies_benchmarks:q} "
        "{params.baseline} --jobs {threads} --usage {output.usage:q} > {log:q} 2>&1"
