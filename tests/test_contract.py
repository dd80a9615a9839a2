"""The numerical contract (nnbench.contract): the BLAS kernel recorded with every result, and `nnbench compare`
bit for bit on one kernel, within the contract's tolerances across kernels."""

import pandas as pd
import pytest
import threadpoolctl

from nnbench import compare, contract
from nnbench.compare import KEYS
from nnbench.spec import RunSpec
from nnbench.trainer import run


def test_blas_names_the_library_and_the_kernel_threadpoolctl_reports():
    info = next(lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas")
    assert contract.blas() == {"blas": f"{info['internal_api']} {info['version']}", "blas_kernel": info["architecture"]}


def test_every_result_record_names_its_blas_kernel():
    spec = RunSpec(dataset="circles", hidden=(4,), optimizer="adam", lr=0.01, epochs=2)
    [result] = run(spec, seeds=[0])
    assert result["versions"]["blas_kernel"] == contract.blas()["blas_kernel"]
    assert result["versions"]["blas"] == contract.blas()["blas"]


def runs(kernel, test_acc=0.9, cost=0.3, status="ok"):
    row = {
        "dataset": "circles",
        "init": "he",
        "reg": "none",
        "opt": "adam",
        "seed": 0,
        "status": status,
        "train_acc": 0.95,
        "test_acc": test_acc,
        "train_cost": cost,
        "blas_kernel": kernel,
    }
    return pd.DataFrame([row]).set_index(KEYS)


def test_same_kernel_compares_bit_for_bit():
    assert compare.differences(runs("Haswell"), runs("Haswell"), tolerance=None) == []
    lines = compare.differences(runs("Haswell"), runs("Haswell", cost=0.3 + 1e-15), tolerance=None)
    assert len(lines) == 1 and "train_cost" in lines[0]


def test_other_kernels_compare_within_the_contract():
    a = runs("Haswell")
    assert compare.differences(a, runs("Nehalem", cost=0.3 + 1e-9, test_acc=0.905), tolerance=None) == []
    assert compare.differences(a, runs("Nehalem", cost=0.3 + 2 * contract.CROSS_KERNEL["train_cost"]), tolerance=None)
    assert compare.differences(a, runs("Nehalem", test_acc=0.93), tolerance=None)
    # a run that diverges on one kernel only is a difference, whatever the tolerance
    assert compare.differences(a, runs("Nehalem", status="diverged"), tolerance=None)
    # a side that does not say its kernel counts as another kernel
    assert compare.differences(a, runs("", cost=0.3 + 1e-9), tolerance=None) == []
    # an explicit tolerance overrides the contract
    assert compare.differences(a, runs("Nehalem", cost=0.3 + 1e-9), tolerance=0.0)


def test_compare_command_says_which_rule_it_used(tmp_path, capsys):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    runs("Haswell").reset_index().to_csv(first, index=False)
    runs("Nehalem", cost=0.3 + 1e-9).reset_index().to_csv(second, index=False)
    assert compare.main([str(first), str(second)]) == 0
    out = capsys.readouterr().out
    assert "Haswell | Nehalem" in out and "cross-kernel tolerances" in out and "no differences" in out
    assert compare.main([str(first), str(first)]) == 0
    assert "bit for bit" in capsys.readouterr().out
    assert compare.main([str(first), str(second), "--tolerance", "0"]) == 1


@pytest.mark.parametrize("metric", sorted(contract.CROSS_KERNEL))
def test_the_contract_covers_every_compared_metric(metric):
    assert metric in compare.METRICS and contract.CROSS_KERNEL[metric] >= 0
