# nnbench: the benchmark grid, the course reproductions, the tables and the report.
#
#   snakemake --cores 8                               # the default grid (config/config.yaml)
#   snakemake --cores 2 --configfile config/ci.yaml   # the small CI grid
#
# Rules are thin: each names its files and parameters and calls the `nnbench` command line; the logic
# lives in src/nnbench (docs/design.md).

from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


wildcard_constraints:
    dataset=r"[A-Za-z0-9_\-]+",
    init=r"[A-Za-z0-9_\-]+",
    reg=r"[A-Za-z0-9_\-]+",
    opt=r"[A-Za-z0-9_\-]+",
    experiment="initialization|gradient_checking|optimization|regularization",


include: "workflow/rules/common.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/course.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/tuning.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/manifest.smk"


# The intermediates (points and cell files) are targets too: Snakemake re-makes a missing file only when a
# target needs it, and a deleted intermediate whose consumers are up to date would otherwise stay missing.
rule all:
    default_target: True
    input:
        final_targets(),
        rules.manifest.output,
