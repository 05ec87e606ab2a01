"""The workflow and the pre-commit hook that README tells notes repositories to use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from exporter.cli import main

from .conftest import write_note

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "notes.yml"


def test_workflow_checks_builds_and_uploads_on_note_changes() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    for event in ("push", "pull_request"):  # a vault at the root, or the sample's layout
        paths = triggers[event]["paths"]
        assert {"**/*.md", "**/*.png", "source_notes/**", "assets/**", ".obsidian/**"} <= set(
            paths)
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


def _notes_repo(folder: Path) -> Path:
    """A notes repository as users have them: a vault at the root, one commit, no
    source_notes/."""
    write_note(folder, "Lambda.md", "# Lambda\n\n## Limits\n- 15 minutes ![[arch.png]]\n")
    write_note(folder, "Storage/S3.md", "# S3\n\n## Classes\n- Standard\n- Glacier\n")
    (folder / "Storage" / "arch.png").write_bytes((ROOT / "docs" / "cheatsheet-page1.png")
                                                  .read_bytes())
    (folder / ".obsidian").mkdir()
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)
    subprocess.run(["git", "add", "."], cwd=folder, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "notes"], cwd=folder, check=True)
    return folder


def _tools(folder: Path, environ: dict[str, str]) -> dict[str, str]:
    """``notes-export`` as this checkout's code and a ``pip`` that only writes down what it
    was asked (nothing is installed), first on PATH."""
    folder.mkdir()
    (folder / "notes-export").write_text(
        f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m exporter "$@"\n')
    (folder / "pip").write_text(f'#!/bin/sh\necho "$@" >> "{folder}/pip.log"\n')
    for tool in ("notes-export", "pip"):
        (folder / tool).chmod(0o755)
    return {**environ, "PATH": f"{folder}{os.pathsep}{environ['PATH']}"}


def _environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"),
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _step(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A ``run:`` block as GitHub runs it on Linux: bash -e with pipefail."""
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _workflow() -> tuple[dict[str, str], list[dict[str, Any]]]:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    return dict(workflow.get("env", {})), workflow["jobs"]["export"]["steps"]


def test_workflow_steps_run_as_is_in_a_notes_repository(tmp_path: Path) -> None:
    """The workflow's shell steps, copied into a repository holding only a vault: the install
    step asks for the release named at the top (here: this checkout), and the deck, the sheet
    and every upload path are there; git sees no change."""
    repo = _notes_repo(tmp_path / "notes")
    variables, steps = _workflow()
    env = _tools(tmp_path / "bin", {**_environment(tmp_path), **variables,
                                    "NOTES_EXPORT": str(ROOT)})
    for step in steps:
        if "run" not in step or "apt-get" in step["run"]:
            continue  # the system libraries are this machine's already
        done = _step(step["run"], repo, env)
        assert done.returncode == 0, (step.get("name"), done.stdout, done.stderr)
    assert (tmp_path / "bin" / "pip.log").read_text().split() == ["install", str(ROOT)]
    assert (repo / "dist" / "notes.apkg").stat().st_size > 10_000
    assert (repo / "dist" / "notes.pdf").read_bytes().startswith(b"%PDF-")
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    for path in upload["with"]["path"].split():
        assert (repo / path.lstrip("!")).exists(), path
    status = subprocess.run(["git", "status", "--porcelain"], cwd=repo, check=True,
                            capture_output=True, text=True).stdout
    assert status == ""


def test_workflow_install_step_names_what_to_set_and_tests_this_repository(
        tmp_path: Path) -> None:
    repo = _notes_repo(tmp_path / "notes")
    variables, steps = _workflow()
    env = _tools(tmp_path / "bin", {**_environment(tmp_path), **variables})
    install = next(s["run"] for s in steps if s.get("name") == "Install notes-export")
    done = _step(install, repo, env)  # the template as copied, NOTES_EXPORT not yet set
    assert done.returncode == 1
    assert done.stdout.startswith("::error::set NOTES_EXPORT at the top of "
                                  ".github/workflows/notes.yml")
    assert _step(install, ROOT, env).returncode == 0  # here: this checkout, not a release
    assert (tmp_path / "bin" / "pip.log").read_text().split() == ["install", "."]


def test_pre_commit_hook_with_no_args_checks_a_notes_repository(tmp_path: Path) -> None:
    """The hook's entry as pre-commit runs it: in the repository's root, no file names."""
    repo = _notes_repo(tmp_path / "notes")
    hook = next(h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
                if h["id"] == "notes-export-check")
    env = _tools(tmp_path / "bin", _environment(tmp_path))
    done = subprocess.run(hook["entry"].split(), cwd=repo, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ("Read 2 notes (4 sections) from the current folder "
                                           "(notes)")
    assert not (repo / "dist").exists()


def test_pre_commit_try_repo_passes_in_a_notes_repository(tmp_path: Path) -> None:
    """What a notes repository's user types to try the hook: pre-commit clones this repository
    (uncommitted changes included), installs it in a fresh environment from PyPI, and runs the
    hook with no arguments in a vault at the notes repository's root."""
    if not (ROOT / ".git").exists():
        import pytest

        pytest.skip("pre-commit try-repo needs this repository's git history")
    notes = tmp_path / "notes-repo"
    write_note(notes, "Cells.md", "# Cells\nThe unit of life.\n")
    write_note(notes, "Genes.md", "# Genes\nSee [[Cells]].\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=notes, check=True)
    subprocess.run([*git, "add", "."], cwd=notes, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "notes"], cwd=notes, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
           "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    tried = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "notes-export-check",
         "--all-files"], cwd=notes, env=env, capture_output=True, text=True, timeout=900)
    assert tried.returncode == 0, tried.stdout + tried.stderr
    assert "notes-export check" in tried.stdout and "Passed" in tried.stdout
    write_note(notes, "Broken.md", "# Broken\n![[missing.png]]\n")
    subprocess.run([*git, "add", "."], cwd=notes, check=True)
    warned = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "notes-export-check",
         "--all-files", "--verbose"], cwd=notes, env=env, capture_output=True, text=True,
        timeout=900)
    assert warned.returncode == 0, warned.stdout  # a warning alone passes without --strict
    assert "Broken.md:2:1: warning: image 'missing.png' not found" in warned.stdout
