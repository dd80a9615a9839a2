"""Section 1, the course: each ``course_*.csv`` set against the published numbers, with a verdict per row."""

from __future__ import annotations

import math

from nnbench import stats

from ..format import _isnum, _isnum_text, _published_display
from ..inputs import ReportInputs

COURSE_TITLES = {
    "initialization": "Initialization (the seed's table)",
    "regularization": "Regularization",
    "optimization": "Optimization",
    "gradient_checking": "Gradient checking",
    "gradient-checking": "Gradient checking",
}
FOOTBALL_HINT = (
    "set football_mat in config/config.yaml, or run snakemake --cores all --config football_mat=path/to/data.mat"
)


def course_section(inputs: ReportInputs) -> dict:
    from ...results import read_table

    tables = []
    for experiment, path in inputs.course_files():
        df = read_table(path, {"experiment": "str", "model": "str"}).fillna("")
        kind = "difference" if "difference" in df.columns else "accuracy"
        metrics = (
            [("difference", "difference")]
            if kind == "difference"
            else [("train", "train_accuracy"), ("test", "test_accuracy")]
        )
        rows = []
        for r in df.to_dict("records"):
            row = {
                "model": r.get("model", ""),
                "note": r.get("note", ""),
                "metrics": {},
                "deviation": r.get("deviation", ""),
                "rtol": r.get("published_rtol", ""),
            }
            rtol = float(row["rtol"]) if _isnum_text(row["rtol"]) else None  # else: at the printed precision
            verdicts = []
            for short, col in metrics:
                ours_text = (r.get(col) or "").strip()
                ours = float(ours_text) if _isnum_text(ours_text) else math.nan
                pub = (r.get(f"published_{col}") or "").strip()
                pub_disp, ours_disp = _published_display(pub, ours, kind, rtol)
                ok = stats.reproduces(ours, pub, rtol) if _isnum(ours) else None
                row["metrics"][short] = {
                    "ours": ours_disp,
                    "published": pub_disp,
                    "reproduced": ok,
                    "ours_value": ours_text,
                    "published_value": pub,
                }
                if stats.published_exponent(pub) is not None:
                    verdicts.append(ok)
            if not verdicts:
                row["verdict"] = "n/a"
            elif any(v is None for v in verdicts):
                row["verdict"] = "not run"
            else:
                row["verdict"] = "reproduced" if all(verdicts) else "not reproduced"
            rows.append(row)
        ran = any(m["ours_value"] for row in rows for m in row["metrics"].values())
        # a metric with neither our number nor a published one in any row gets no columns
        shown = {
            k: any(row["metrics"][k]["ours_value"] or row["metrics"][k]["published_value"] for row in rows)
            for k, _ in metrics
        }
        deviations = [float(r["deviation"]) for r in rows if _isnum_text(r["deviation"])]
        tables.append(
            {
                "experiment": experiment,
                "title": COURSE_TITLES.get(experiment, experiment.replace("_", " ")),
                "kind": kind,
                "rows": rows,
                "file": path.name,
                "ran": ran,
                "shown": shown,
                "kernels": sorted(set(df["blas_kernel"]) - {""}) if "blas_kernel" in df.columns else [],
                "deviation": f"{max(deviations):.2g}" if deviations else "",
                "n_reproduced": sum(r["verdict"] == "reproduced" for r in rows),
                "n_compared": sum(r["verdict"] in ("reproduced", "not reproduced") for r in rows),
            }
        )
    lead = next((t for t in tables if t["experiment"] == "initialization"), None)
    others = [t for t in tables if t is not lead]
    reg = next((t for t in tables if t["experiment"] == "regularization"), None)
    football = str(inputs.config.get("football_mat") or "")
    football_missing = (not football and "football_mat" in inputs.config) or reg is None or not reg["ran"]
    return {
        "lead": lead,
        "others": others,
        "football_missing": football_missing,
        "football_hint": FOOTBALL_HINT,
        "football_mat": football,
        "has_any": bool(tables),
    }
