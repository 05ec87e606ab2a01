"""The workflow and the pre-commit hook that README tells notes repositories to use."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from exporter.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_workflow_checks_builds_and_uploads_on_note_changes() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "notes.yml").read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    for event in ("push", "pull_request"):
        assert triggers[event]["paths"] == ["source_notes/**", "assets/**"]
    steps = workflow["jobs"]["export"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "notes-export check --format github" in runs
    assert "notes-export build --format github" in runs
    assert "SOURCE_DATE_EPOCH" in runs
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"].split() == ["dist/", "!dist/.notes-export-cache/"]


def test_pre_commit_hook_runs_a_real_command() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "notes-export-check")
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    program, *args = hook["entry"].split()
    assert program == "notes-export"
    assert CliRunner().invoke(main, [*args, "--help"]).exit_code == 0
