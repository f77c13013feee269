""".ci/audit: fails on a vulnerability, says so when packages could not be audited, and fails when pip-audit breaks."""

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _audit(tmp_path, report: dict | None, exit_code: int, **env) -> subprocess.CompletedProcess:
    """Run .ci/audit with a stand-in pip-audit that writes ``report`` and exits with ``exit_code``."""
    (tmp_path / "report.json").write_text(json.dumps(report) if report is not None else "")
    stub = tmp_path / "pip-audit"
    stub.write_text('#!/usr/bin/env bash\nwhile [ $# -gt 0 ]; do [ "$1" = --output ] && cp "$REPORT" "$2"; shift; done\n'
                    f"exit {exit_code}\n")
    stub.chmod(0o755)
    return subprocess.run([str(ROOT / ".ci" / "audit")], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PIP_AUDIT": str(stub), "REPORT": str(tmp_path / "report.json"), **env})


CLEAN = {"name": "django", "version": "5.2", "vulns": []}
OFFLINE = {"name": "celery", "skip_reason": "Dependency not found on PyPI and could not be audited: celery (5.5)"}
EDITABLE = {"name": "stocktool", "skip_reason": "distribution marked as editable"}


def test_a_clean_report_passes(tmp_path):
    run = _audit(tmp_path, {"dependencies": [CLEAN, EDITABLE], "fixes": []}, 0)
    assert run.returncode == 0 and "1 packages audited, 0 vulnerable, 0 not audited" in run.stdout


def test_a_vulnerability_fails_and_is_named(tmp_path):
    vulnerable = {"name": "jinja2", "version": "3.1.2", "vulns": [{"id": "GHSA-h5c8-rqwp-cp95", "fix_versions": ["3.1.3"]}]}
    run = _audit(tmp_path, {"dependencies": [CLEAN, vulnerable], "fixes": []}, 1)
    assert run.returncode == 1
    assert "VULNERABLE jinja2 3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)" in run.stdout


def test_packages_that_could_not_be_audited_are_reported_not_failed(tmp_path):
    run = _audit(tmp_path, {"dependencies": [OFFLINE, EDITABLE], "fixes": []}, 0)
    assert run.returncode == 0
    assert "NOT AUDITED: 1 of 1 packages (none could be: is PyPI's JSON API reachable from here?)" in run.stdout
    assert "celery (5.5)" in run.stdout
    assert _audit(tmp_path, {"dependencies": [CLEAN, OFFLINE]}, 0, AUDIT_REQUIRE_ALL="1").returncode == 1


@pytest.mark.parametrize(("report", "exit_code"), [(None, 0), ({"dependencies": []}, 2)])
def test_a_broken_pip_audit_fails(tmp_path, report, exit_code):
    run = _audit(tmp_path, report, exit_code)
    assert run.returncode == 2 and "pip-audit failed" in run.stderr
