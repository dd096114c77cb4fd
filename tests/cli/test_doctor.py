"""``gtoken doctor``: each finding with its fix, exit 3 when there is a problem."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Gtoken, Run


def test_a_healthy_setup(gtoken: Gtoken, signed_in: Run, client_secrets: Path) -> None:
    run = gtoken("doctor", "--client-secrets", str(client_secrets))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.lines
    assert all(line.startswith(("ok ", " ")) for line in run.lines)
    assert any(line.startswith("ok       client secrets: ") for line in run.lines)
    assert "0 problems" in run.stderr


def test_a_problem_is_explained_with_its_fix_and_exits_3(
    gtoken: Gtoken, signed_in: Run, tmp_path: Path
) -> None:
    bad = tmp_path / "client_secret.json"
    bad.write_text("{}")

    run = gtoken("doctor", env={"GTOKEN_CLIENT_SECRETS": str(bad)})

    assert run.returncode == 3
    problem = run.lines.index(next(line for line in run.lines if line.startswith("problem")))
    assert run.lines[problem].startswith(f"problem  client secrets: {bad}")
    assert run.lines[problem + 1].lstrip().startswith("fix: ")
    assert "1 problem" in run.stderr


def test_json(gtoken: Gtoken) -> None:
    run = gtoken("doctor", "--json")
    findings = json.loads(run.stdout)
    assert run.returncode == 0
    assert {f["level"] for f in findings} <= {"ok", "warning", "problem"}
    assert all(set(f) == {"level", "subject", "detail", "fix"} for f in findings)
    assert any(f["subject"] == "accounts" and f["level"] == "warning" for f in findings)
