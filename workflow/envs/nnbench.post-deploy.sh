#!/usr/bin/env bash
# Run by Snakemake inside the freshly created conda environment (--sdm conda), from the working directory
# (the repository root): install the nnbench package itself, its dependencies coming from nnbench.yaml.
set -euo pipefail
python -m pip install --no-deps --no-build-isolation -e .
