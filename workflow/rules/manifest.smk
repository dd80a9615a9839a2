# The very last rule: results/manifest.json lists every file under results/ with its size and SHA-256
# (nnbench.manifest; verify later with `nnbench manifest --root results --check results/manifest.json`).
# Its inputs are every other target of the workflow (common.smk's final_targets(), which rule all names too), so
# it runs after everything else has written its files.


rule manifest:
    input:
        final_targets(),
    output:
        f"{RESULTS}/manifest.json",
    log:
        "logs/manifest.log",
    conda:
        CONDA_ENV
    params:
        root=output_dir,
    shell:
        "nnbench manifest --root {params.root:q} --out {output:q} > {log:q} 2>&1"
