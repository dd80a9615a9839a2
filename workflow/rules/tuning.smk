# The fair comparison (config `tuning:`, nnbench.tuning): one job per problem (data set x init x reg of the
# tuning slice) trains every optimizer's trials (the largest budget's, once) on the tuning seeds and re-runs
# each budget's choice on the evaluation seeds, writing results/tuning/{dataset}/{init}/{reg}.json (atomically,
# with a digest that `nnbench tune tables` checks). The aggregation writes the fair-comparison tables to
# results/tables/. The part of the config tuning reads is an inline JSON params value, so that changing a
# tuning setting or a cell definition re-runs the jobs. When tuning.enabled is false the rules exist but no
# target asks for their files.


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
        config=lambda wildcards: tuning_config_json(wildcards, scoring=False),
        problem=TRAIN_JOB,
    shell:
        "nnbench tune train --config-json {params.config:q} --problem {params.problem:q} "
        "--points {input.points:q} --out {output:q} > {log:q} 2>&1"


rule tuning_tables:
    input:
        records=tuning_files(),
    output:
        TUNING_TABLE_FILES,
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
