# The very last rule: results/manifest.json lists every file under results/ with its size and SHA-256
# (nnbench.manifest; verify later with `nnbench manifest --root results --check results/manifest.json`).
# Its inputs are every other target of rule all (the tables, the course tables, the report and whatever is
# added there later), looked up when the DAG is built, so it runs after everything else has written its files.


rule manifest:
    input:
        lambda wildcards: [f for f in rules.all.input if f != "results/manifest.json"],
    output:
        "results/manifest.json",
    log:
        "logs/manifest.log",
    conda:
        CONDA_ENV
    params:
        root=lambda wildcards, output: Path(output[0]).parent,
    shell:
        "nnbench manifest --root {params.root:q} --out {output:q} > {log:q} 2>&1"
