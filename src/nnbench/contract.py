"""The numerical contract: which numbers are bit-identical, which agree only within a tolerance, and why.

**Bit-identical** (tested by running twice and comparing bytes): the same machine, the same BLAS library
and kernel, the same package versions, whatever ``--cores``, job order, working directory or the seeds
trained beside a run. Every operation then runs the same instructions on the same operands in the same
order; nothing reads a clock, a thread count or an address.

**Within a tolerance** (tested in CI by forcing other OpenBLAS kernels): another CPU, BLAS kernel or OS.
A kernel decides how a matrix product is blocked and whether it fuses multiply-adds (FMA: Haswell, Zen,
SkylakeX; none on Sandybridge, Nehalem and older), so products differ in their last bits, and NumPy's own
SIMD paths (``NPY_DISABLE_CPU_FEATURES``) do the same for sums and transcendental functions. Such a
difference of ~1e-16 relative then grows as training amplifies it: ``CROSS_KERNEL`` states how far the
recorded metrics of one run may move, measured on the CI grid under every kernel this CPU can run
(``docs/design.md``, "The numerical contract", has the measurements). A run that diverges on one kernel
and not on another is a difference, never within tolerance.

The course's published numbers reproduce at the precision the course printed them; the two gradient-check
differences it prints with 16 digits reproduce within the relative tolerance stated beside each in
``nnbench.course.PUBLISHED_RTOL``.
"""

from __future__ import annotations

import functools

# How far one run's metrics may move between two BLAS kernels (absolute, per metric in runs.csv).
# Accuracies are counts over at most a few thousand examples: a kernel may move a prediction that sits on
# the decision boundary, one example in a test split of ~100 (0.01); costs are smooth in the weights.
CROSS_KERNEL = {
    "train_acc": 0.01,
    "val_acc": 0.01,
    "test_acc": 0.01,
    "train_cost": 1e-6,
    "test_cost": 1e-6,
    "final_cost": 1e-6,
    "epochs_run": 0,
    "status": 0,
}


@functools.cache
def blas() -> dict[str, str]:
    """The BLAS NumPy calls: ``{"blas": "<library> <version>", "blas_kernel": "<the kernel it chose>"}``
    as threadpoolctl reports them (OpenBLAS picks its kernel from the CPU, or from ``OPENBLAS_CORETYPE``)."""
    import numpy  # noqa: F401  (loads the BLAS library threadpoolctl inspects)
    from threadpoolctl import threadpool_info

    for lib in threadpool_info():
        if lib.get("user_api") == "blas":
            return {
                "blas": f"{lib.get('internal_api', '?')} {lib.get('version') or '?'}",
                "blas_kernel": str(lib.get("architecture") or "unknown"),
            }
    return {"blas": "unknown", "blas_kernel": "unknown"}
