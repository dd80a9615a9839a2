# The course's own experiments, reproduced and set against the published numbers (nnbench.course).
# The regularization experiment reads the football data.mat when config football_mat names it; without it
# the CLI writes a table saying the data was not provided.


rule course:
    input:
        unpack(course_input),
    output:
        f"{TABLES}/course_{{experiment}}.csv",
    log:
        "logs/course/{experiment}.log",
    benchmark:
        "benchmarks/course/{experiment}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    params:
        experiment=course_experiment,
        data=course_data_arg,
    shell:
        "nnbench course {params.experiment} {params.data} --out {output:q} > {log:q} 2>&1"
