# One job per data set x initialization x regularization: it trains that network's cells under every
# optimizer in one process, the cells with the same batch size together on one run axis (all their seeds at
# once, each run the numbers it has alone: trainer.run_cells), and writes one cell file per optimizer
# (docs/design.md, contract 2). Seven cells per job, not one, because a job's fixed cost
# (Snakemake's own work for the job, starting Python, importing NumPy) was as large as the training of a
# cell: docs/benchmarks.md, section 3. The resolved specs are a params value, so editing a hyper-parameter
# re-runs the jobs it touches: all of a data set's, initialization's or regularization's jobs, or, for an
# optimizer, every job. BLAS is pinned to the job's single thread (by Snakemake's shell, common.smk).


rule points:
    """A data set's points, made once and read by every training job of the data set (generating them
    needs scikit-learn, whose import alone would cost each job more than a second)."""
    input:
        points_input,
    output:
        POINTS_FILE,
    log:
        "logs/points/{dataset}.log",
    benchmark:
        "benchmarks/points/{dataset}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        args=points_args,
    shell:
        "nnbench points {params.args} --out {output:q} > {log:q} 2>&1"


rule train:
    input:
        points=POINTS_FILE,
    output:
        cells=expand(RUN_FILE, opt=OPTIMIZERS, allow_missing=True),
        # the job's wall and CPU seconds and peak memory, written by the job itself in the format of a
        # `benchmark:` file (Snakemake's psutil sampling of 175 short jobs cost ~10 s of its own CPU, a third)
        usage=f"benchmarks/train/{TRAIN_JOB}.tsv",
    log:
        f"logs/train/{TRAIN_JOB}.log",
    conda:
        CONDA_ENV
    threads: 1
    params:
        cells=train_cells_args,
        seeds=seeds_arg,
    shell:
        "nnbench train {params.cells} --seeds {params.seeds} --points {input.points:q} --usage {output.usage:q} "
        "> {log:q} 2>&1"
