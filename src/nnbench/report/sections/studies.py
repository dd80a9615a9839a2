"""Section 8, the studies beyond the grid: one block per registered study (:data:`nnbench.studies.STUDIES`) whose
tables exist, from the study's own findings, figures and block, plus the wall time its Snakemake job took."""

from __future__ import annotations

from collections.abc import Mapping

from ..figures import FigureTask
from ..format import fmt_seconds
from ..inputs import ReportInputs


def studies_section(inputs: ReportInputs) -> dict:
    """``{"blocks": {name: context}, "tasks": [FigureTask ...], "titles": {name: title}, "verdict": ...}``: a block
    per study whose first table exists and is not empty (caption, figure tasks under the study's keys, its
    template, the seconds of its job); ``verdict`` of the gradient checks (red: a check fails the workflow)."""
    from nnbench.studies import STUDIES, findings

    cfg = inputs.config.get("studies") if isinstance(inputs.config.get("studies"), Mapping) else {}
    blocks, tasks = {}, []
    for name, study in STUDIES.items():
        tables = {t: inputs.study_table(t) for t in study.tables}
        first = tables[study.tables[0]]
        if first is None or not len(first) or any(v is None for t, v in tables.items() if t not in study.optional):
            continue
        found = study.findings(tables, dict(cfg.get(name) or {}))
        figures = {key: FigureTask(*task) for key, task in study.figures(tables, found).items()}
        tasks += figures.values()
        seconds = (
            None
            if inputs.studies_benchmarks is None
            else findings.benchmark_seconds(inputs.studies_benchmarks / f"{name}.tsv")
        )
        blocks[name] = {
            "caption": found.get("caption", ""),
            **study.block(tables, found),
            **figures,
            "seconds": fmt_seconds(seconds),
            "template": [f"studies/{name}.html.j2", "studies/generic.html.j2"],
            "title": study.title,
        }
    return {
        "blocks": blocks,
        "tasks": tasks,
        "titles": {name: s.title for name, s in STUDIES.items()},
        "verdict": blocks["gradcheck"]["verdict"] if "gradcheck" in blocks else None,
    }
