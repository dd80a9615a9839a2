"""nnbench.progress: bars on a terminal, nothing in logs; NNBENCH_PROGRESS forces them off (or on)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnbench import progress as P

ROOT = Path(__file__).resolve().parents[1]


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_enabled_follows_the_terminal_and_the_variable(monkeypatch):
    monkeypatch.delenv(P.ENV, raising=False)
    assert P.enabled(Tty()) and not P.enabled(io.StringIO())
    for off in ("0", "off", "False", " no "):
        monkeypatch.setenv(P.ENV, off)
        assert not P.enabled(Tty())
    for on in ("1", "on", "TRUE"):
        monkeypatch.setenv(P.ENV, on)
        assert P.enabled(io.StringIO())
    monkeypatch.setenv(P.ENV, "maybe")
    with pytest.raises(ValueError, match="NNBENCH_PROGRESS='maybe': expected 0 or 1"):
        P.enabled()


def test_quiet_when_not_a_terminal(monkeypatch, capsys):
    monkeypatch.delenv(P.ENV, raising=False)  # pytest's captured stderr is not a terminal
    assert list(P.progress(range(5), desc="training")) == [0, 1, 2, 3, 4]
    with P.progress(total=3, desc="figures") as bar:
        bar.update(3)
    out = capsys.readouterr()
    assert out.err == "" and out.out == ""


def test_shown_when_forced(monkeypatch, capsys):
    monkeypatch.setenv(P.ENV, "1")
    assert sum(P.progress(range(4), desc="training", unit="model")) == 6
    err = capsys.readouterr().err
    assert "training:" in err and "/4 " in err and "model" in err


def test_a_long_command_is_quiet_in_a_log(tmp_path):
    """`nnbench studies schedules` (a bar over its configurations) with standard error redirected to a file, as in
    the workflow's `> log 2>&1`: the log holds the command's own lines and no bar."""
    import json

    settings = {
        "dataset": "moons", "dataset_options": {"n_samples": 60, "noise": 0.2}, "hidden": [3],
        "optimizers": ["sgd"], "schedules": ["constant"], "batch_sizes": [16], "checkpoints": [2], "seeds": 1,
    }  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != P.ENV}
    env["PYTHONPATH"] = str(ROOT / "src")
    log = tmp_path / "study.log"
    argv = ["studies", "schedules", "--config-json", json.dumps({"studies": {"schedules": settings}})]
    with log.open("w") as f:
        proc = subprocess.run(
            [sys.executable, "-m", "nnbench", *argv, "--out", str(tmp_path / "s.csv")],
            stdout=f,
            stderr=subprocess.STDOUT,
            env=env,
        )
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "nnbench studies schedules:" in text  # its own last line
    assert "schedules study" not in text and "config/s" not in text and "\r" not in text  # no bar
    # the same command with the bar forced on: it goes to the log (what NNBENCH_PROGRESS=1 is for)
    with log.open("w") as f:
        subprocess.run(
            [sys.executable, "-m", "nnbench", *argv, "--out", str(tmp_path / "s.csv")],
            stdout=f,
            stderr=subprocess.STDOUT,
            env={**env, P.ENV: "1"},
        )
    assert "schedules study" in log.read_text()
