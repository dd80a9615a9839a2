"""Numbers to text, as the report prints them (the one place for every format of the report)."""

from __future__ import annotations

import math

import pandas as pd

from nnbench import stats


def _isnum(x) -> bool:
    try:
        return x is not None and not pd.isna(x) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def fmt_acc(mean, ci_high) -> str:
    """``"97.3 ± 1.2 %"`` (mean ± (ci_high − mean), percent) — ``nnbench.tables.format_accuracy``'s format."""
    if not _isnum(mean):
        return "—"
    if not _isnum(ci_high):
        return f"{100 * float(mean):.1f} %"
    return f"{100 * float(mean):.1f} ± {100 * (float(ci_high) - float(mean)):.1f} %"


def fmt_pct(x, digits: int = 1) -> str:
    return f"{100 * float(x):.{digits}f} %" if _isnum(x) else "—"


def fmt_p(p) -> str:
    if not _isnum(p):
        return "—"
    p = float(p)
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def fmt_seconds(s) -> str:
    if not _isnum(s):
        return "—"
    s = float(s)
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def fmt_mb(x) -> str:
    return f"{float(x):,.0f} MB" if _isnum(x) else "—"


def _published_display(published: str, ours, kind: str, rtol: float | None = None) -> tuple[str, str]:
    """(published, ours) as printed. Accuracies in percent: the published one at its own precision (at most
    2 decimals on screen; the comparison uses every printed digit), ours with one more decimal (at most 2).
    Differences in scientific notation with 4 significant digits. When ours does not reproduce the published
    number but both would print the same, digits are added until they differ."""
    exp = stats.published_exponent(published)
    differs = _isnum(ours) and exp is not None and stats.reproduces(ours, published, rtol) is False
    if kind == "difference":
        if exp is None:
            return "—", (f"{float(ours):.3e}" if _isnum(ours) else "—")
        digits = 3
        while differs and digits < 17 and f"{float(ours):.{digits}e}" == f"{float(published):.{digits}e}":
            digits += 1
        return f"{float(published):.{digits}e}", (f"{float(ours):.{digits}e}" if _isnum(ours) else "—")
    if exp is None:
        return "—", (fmt_pct(ours, 1) if _isnum(ours) else "—")
    value = float(published)
    scale = 1 if abs(value) > 1 else 100  # printed as a percentage already, or a fraction
    digits = max(0, -exp - (0 if scale == 1 else 2))
    shown, ours_digits = min(digits, 2), min(digits + 1, 2)

    def misleading(d: int) -> bool:  # ours, as shown, would look like it reproduces the published number
        return bool(stats.reproduces(float(f"{100 * float(ours):.{d}f}") / 100, published))

    def same(d: int, p: int) -> bool:  # both print alike
        return f"{100 * float(ours):.{d}f}" == f"{scale * value:.{p}f}"

    while differs and ours_digits < 15 and (misleading(ours_digits) or same(ours_digits, shown)):
        ours_digits += 1
        shown = max(shown, min(digits, ours_digits))
    ours_text = f"{100 * float(ours):.{ours_digits}f} %" if _isnum(ours) else "—"
    return f"{scale * value:.{shown}f} %", ours_text


def _isnum_text(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except (TypeError, ValueError):
        return False
