# One job per grid cell: all seeds of the cell train together in one process and land in one cell file
# (docs/design.md, contract 2). The resolved spec is a params value, so editing a hyper-parameter re-runs
# exactly the cells it touches; BLAS is pinned to the job's single thread.


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
        RUN_FILE,
    log:
        f"logs/train/{CELL}.log",
    benchmark:
        f"benchmarks/train/{CELL}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        spec=spec_json,
        seeds=seeds_arg,
    shell:
        "OMP_NUM_THREADS={threads} OPENBLAS_NUM_THREADS={threads} MKL_NUM_THREADS={threads} "
        "nnbench train --spec {params.spec:q} --seeds {params.seeds} "
        "--cell dataset={wildcards.dataset},init={wildcards.init},reg={wildcards.reg},opt={wildcards.opt} "
        "--points {input.points:q} --out {output:q} > {log:q} 2>&1"
