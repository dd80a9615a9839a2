"""The workflow on a real Slurm cluster through ``--profile profiles/slurm`` (issue 14).

These tests run only where a Slurm cluster answers (``sinfo``) and Snakemake's Slurm executor plugin is
installed (``pip install -e '.[slurm]'``); elsewhere they are skipped. CI brings up a single-node cluster
(munged, MariaDB, slurmdbd, slurmctld, slurmd) and runs this module with

    tests/slurm/cluster.sh test

which stops every daemon it started, by PID, whatever the outcome.

1. The CI grid through the profile exits 0, in exactly the submissions the profile's groups and the
   workflow's local rules give (at most 8), and its tables equal a local ``--cores 2`` run's on the same
   machine byte for byte, apart from the ``seconds`` columns (wall times).
2. A training submission cancelled with ``scancel`` while it runs is resubmitted by Snakemake (the profile's
   ``retries``) and the run still exits 0 with the same tables: nothing is lost. (With the plugin's default
   status command, sacct, this run hung: the profile's ``slurm-status-command: squeue`` is what passes it.)

As in tests/test_reliability.py, the copies get placeholder course tables (the course experiments take a
minute and are not under test here), so the runs train the grid, run the studies and render the report.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from test_reliability import ROOT, copy_workflow

pytestmark = pytest.mark.slurm

RUN_TIMEOUT = 900  # seconds; a run that takes longer is stopped and its Slurm jobs cancelled
# The CI grid through the profile, with status checks from 1 s after a submission (the profile's 20 s suits
# a real cluster's queue, not a test's).
SLURM_ARGS = [
    "--profile",
    "profiles/slurm",
    "--configfile",
    "config/ci.yaml",
    "--slurm-init-seconds-before-status-checks",
    "1",
]


def slurm_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    try:
        proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return False
    return proc.returncode == 0 and any(s.startswith(("idle", "mix", "alloc")) for s in proc.stdout.split())


if not slurm_answers():
    pytest.skip(
        "no Slurm cluster answers (sinfo); CI brings one up with tests/slurm/cluster.sh test", allow_module_level=True
    )
pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")


# ----------------------------------------------------------------------------------------------- helpers


def snakemake_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "snakemake", *map(str, args)]


def sacct(workdir: Path, since: str) -> list[dict]:
    """The Slurm jobs submitted from ``workdir`` since ``since`` (sacct's -S format), oldest first: JobID,
    State, Comment (the executor writes ``rule_NAME`` or ``rule_GROUP_RULES``)."""
    out = subprocess.run(
        ["sacct", "-X", "-n", "-P", "-S", since, "-o", "JobID,State,Comment,WorkDir"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    jobs = []
    for line in out.splitlines():
        job_id, state, comment, work_dir = line.split("|", 3)
        if Path(work_dir) == workdir:
            jobs.append({"id": job_id, "state": state.split()[0], "comment": comment})
    return sorted(jobs, key=lambda j: int(j["id"]))


def queued(workdir: Path) -> list[dict]:
    """The jobs of ``workdir`` in Slurm's queue now (squeue: sacct stores a job's comment only once it ended)."""
    out = subprocess.run(
        ["squeue", "-h", "-o", "%i|%T|%k|%Z"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    jobs = []
    for line in out.splitlines():
        job_id, state, comment, work_dir = line.split("|", 3)
        if Path(work_dir) == workdir:
            jobs.append({"id": job_id, "state": state, "comment": comment})
    return jobs


def cancel_leftovers(workdir: Path, since: str) -> None:
    ids = [j["id"] for j in sacct(workdir, since) if j["state"] in ("PENDING", "RUNNING", "REQUEUED")]
    if ids:
        subprocess.run(["scancel", *ids], timeout=60)


def now() -> str:
    return datetime.now().strftime("%Y-%m-%dT%H:%M:%S")


def wait(proc: subprocess.Popen, workdir: Path, since: str) -> subprocess.CompletedProcess:
    """Wait for a Snakemake run; past RUN_TIMEOUT, stop it (SIGKILL: the executor ignores SIGTERM while it
    polls) and cancel its Slurm jobs."""
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        cancel_leftovers(workdir, since)
        pytest.fail(f"the run took over {RUN_TIMEOUT} s:\n{out[-6000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


def start(wf: Path, *args) -> subprocess.Popen:
    return subprocess.Popen(snakemake_cmd(*args), cwd=wf, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def local_rules() -> set[str]:
    """The rules of the ``localrules:`` directive (workflow/rules/common.smk), and ``all`` (no command)."""
    text = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    block = re.search(r"^localrules:\n((?:[ \t]+\w+,?\n)+)", text, re.M)
    assert block, "no localrules: block in workflow/rules/common.smk"
    return set(re.findall(r"\w+", block.group(1))) | {"all"}


def expected_submissions(wf: Path) -> int:
    """The submissions the profile should make for the pending jobs of ``wf``: a dry run with the profile
    prints each group job as a ``Group job NAME`` block (one submission each) and every other job as a
    top-level ``rule NAME:`` line, a submission unless the rule is a local rule."""
    dry = subprocess.run(snakemake_cmd(*SLURM_ARGS, "-n"), cwd=wf, capture_output=True, text=True, timeout=600)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    groups = re.findall(r"\] Group job (\w+)", dry.stdout)
    single = [r for r in re.findall(r"^rule (\w+):$", dry.stdout, re.M) if r not in local_rules()]
    assert "train" in groups and "train" not in single
    return len(groups) + len(single)


def tables(wf: Path) -> dict[str, bytes]:
    """Every table under results/tables, as bytes; CSV files without their wall times, the one thing that
    differs between two runs of the same config: the columns named ``seconds*`` and the rows of the
    ``seconds`` metric (the fair comparison's time-to-target profiles and scores)."""
    out = {}
    for path in sorted((wf / "results" / "tables").iterdir()):
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            if "metric" in frame.columns:
                frame = frame[frame["metric"] != "seconds"]
            frame = frame.drop(columns=[c for c in frame.columns if c.startswith("seconds")])
            out[path.name] = frame.to_csv(index=False).encode()
        else:
            out[path.name] = path.read_bytes()
    return out


def assert_same_tables(slurm: Path, local: Path) -> None:
    a, b = tables(slurm), tables(local)
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"tables differ from the local run's: {differ}"


# ------------------------------------------------------------------------------------------------ tests


WALL = {}  # wall seconds of the runs, printed for the record (no assertion on time)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    wf = copy_workflow(tmp_path_factory.mktemp("local"))
    t0 = time.monotonic()
    proc = subprocess.run(
        snakemake_cmd("--cores", 2, "--configfile", "config/ci.yaml"),
        cwd=wf,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    WALL["local"] = time.monotonic() - t0
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return wf


def test_ci_grid_through_the_profile(local_run, tmp_path):
    wf = copy_workflow(tmp_path / "slurm")
    shutil.copytree(ROOT / "profiles", wf / "profiles")
    expected = expected_submissions(wf)
    assert 1 <= expected <= 8
    since = now()
    t0 = time.monotonic()
    run = wait(start(wf, *SLURM_ARGS), wf, since)
    WALL["slurm"] = time.monotonic() - t0
    assert run.returncode == 0, run.stdout[-6000:]
    jobs = sacct(wf, since)
    print(
        f"CI grid (placeholder course tables): local --cores 2 {WALL['local']:.1f} s, then through "
        f"profiles/slurm {WALL['slurm']:.1f} s in {len(jobs)} submissions: "
        + ", ".join(f"{j['id']} {j['comment']} {j['state']}" for j in jobs)
    )
    assert [j["state"] for j in jobs] == ["COMPLETED"] * expected, jobs
    # every training job went to a group submission, no local rule was submitted
    assert any(j["comment"].startswith("rule_train") for j in jobs)
    assert not any(j["comment"] == f"rule_{rule}" for j in jobs for rule in local_rules()), jobs
    assert_same_tables(wf, local_run)


def test_cancelled_training_submission_is_resubmitted(local_run, tmp_path):
    wf = copy_workflow(tmp_path / "cancel")
    shutil.copytree(ROOT / "profiles", wf / "profiles")
    since = now()
    proc = start(wf, *SLURM_ARGS)
    cancelled = None
    try:
        deadline = time.monotonic() + RUN_TIMEOUT
        # Cancel the training submission once it runs and has written its first cell file: mid-run.
        while cancelled is None and proc.poll() is None and time.monotonic() < deadline:
            running = [j for j in queued(wf) if j["comment"].startswith("rule_train") and j["state"] == "RUNNING"]
            if running and any((wf / "results" / "runs").rglob("*.json")):
                cancelled = running[0]["id"]
                subprocess.run(["scancel", cancelled], check=True, timeout=60)
            else:
                time.sleep(0.2)
    finally:
        run = wait(proc, wf, since)
    assert cancelled is not None, "the training submission was never seen running:\n" + run.stdout[-6000:]
    assert run.returncode == 0, run.stdout[-6000:]
    jobs = sacct(wf, since)
    train = [j for j in jobs if j["comment"].startswith("rule_train")]
    print("submissions: " + ", ".join(f"{j['id']} {j['comment']} {j['state']}" for j in jobs))
    assert [(j["id"], j["state"]) for j in train][0] == (cancelled, "CANCELLED"), train
    assert train[-1]["state"] == "COMPLETED", train  # resubmitted after the cancellation, and finished
    assert_same_tables(wf, local_run)
