"""Run where the notes are: with no NOTES_DIR, source_notes/ or the vault in the current folder;
outputs inside the vault are never read back and stay out of git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from exporter.cli import main
from exporter.core.config import load

from .conftest import ROOT, SAMPLE_ASSETS, SAMPLE_NOTES, write_note

WHERE = ("Outputs are in dist/ inside the notes folder: never read as notes; dist/.gitignore "
         "keeps them out of git (--out names another folder)")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_key: None) -> Path:
    """A vault of two notes at the current folder, no source_notes/ in it."""
    folder = tmp_path / "MyVault"
    write_note(folder, "Lambda.md", "# Lambda\n\n## Limits\n- 15 minutes\n")
    write_note(folder, "Storage/S3.md", "# S3\n\n## Classes\n- Standard\n- Glacier\n")
    monkeypatch.chdir(folder)
    return folder


@pytest.mark.parametrize("marker", [".obsidian", "notes only"])
def test_build_with_no_args_in_a_vault_writes_a_deck_and_says_where(vault: Path,
                                                                   marker: str) -> None:
    if marker == ".obsidian":
        (vault / ".obsidian").mkdir()
        (vault / ".obsidian" / "app.json").write_text("{}", encoding="utf-8")
    code, out, err = run("build", "--no-pdf")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Read 2 notes (4 sections) from the current folder (MyVault)"
    assert lines[-2].startswith("Wrote dist/myvault.apkg (")
    assert lines[-1] == WHERE
    assert (vault / "dist" / "myvault.apkg").is_file()


def test_check_with_no_args_in_a_vault_reads_it_and_writes_nothing(vault: Path) -> None:
    code, out, err = run("check")
    assert code == 0, err
    assert out.splitlines()[0] == "Read 2 notes (4 sections) from the current folder (MyVault)"
    assert sorted(p.name for p in vault.iterdir()) == ["Lambda.md", "Storage"]


def test_source_notes_here_is_still_the_default(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's first command, `notes-export build` in this repository's root."""
    shutil.copytree(SAMPLE_NOTES, tmp_path / "source_notes")
    shutil.copytree(SAMPLE_ASSETS, tmp_path / "assets")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    write_note(tmp_path, "README.md", "# A project, not a note\n")
    monkeypatch.chdir(tmp_path)
    code, out, err = run("build", "--no-pdf")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "Read 1 note (17 sections) from source_notes"
    assert "Images embedded: 11" in lines
    assert lines[-1].startswith("Wrote dist/aws-other-compute.apkg (")
    assert not (tmp_path / "dist" / ".gitignore").exists()  # outside the notes: not ours


def test_empty_folder_is_a_usage_error_naming_what_was_looked_for(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "a.png").write_bytes(b"not a note")
    monkeypatch.chdir(tmp_path)
    for command in ("build", "check"):
        code, out, err = run(command)
        assert code == 2 and out == ""
        assert err == (f"Error: no notes found in '{tmp_path}': no source_notes/ folder, no "
                       ".obsidian/ folder and no Markdown (.md) notes; run in your vault or "
                       "name the notes folder (NOTES_DIR)\n")
    assert not (tmp_path / "dist").exists()


def test_outputs_inside_the_vault_are_never_read_back(vault: Path,
                                                      rendered: list[str]) -> None:
    """Deck, PDF, HTML and state file in dist/: the second build reads the same notes and files
    as the first, so every rendering comes from the note cache."""
    code, first, err = run("build", "--html")
    assert code == 0, err
    written = sorted(p.name for p in (vault / "dist").iterdir())
    assert written == [".gitignore", ".myvault.notes-export.json", ".notes-export-cache",
                       "myvault.apkg", "myvault.html", "myvault.pdf"]
    assert rendered == ["Lambda.md", "Storage/S3.md"]
    rendered.clear()
    code, second, err = run("build", "--html")
    assert code == 0, err
    assert rendered == []
    assert first.splitlines()[0] == second.splitlines()[0]


def test_configured_out_folder_inside_the_vault_is_never_read(vault: Path) -> None:
    write_note(vault, "exports/Left over.md", "# Left over\n\n## Not a note\n- x\n")
    code, out, err = run("check", "--out", "exports")
    assert code == 0, err
    assert out.splitlines()[0].startswith("Read 2 notes (4 sections)")
    code, out, err = run("build", "--no-pdf", "--out", "exports")
    assert code == 0, err
    assert "Cards: 2 " in out
    assert WHERE not in out  # a folder the user named is theirs: no .gitignore put in it
    assert not (vault / "exports" / ".gitignore").exists()


@pytest.mark.parametrize("command", ["build", "sync"])
def test_git_status_is_clean_after_a_build_in_a_vault_repository(vault: Path,
                                                                 command: str) -> None:
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "notes"], check=True)
    if command == "sync":  # its state file goes into dist/ too
        from anki.collection import Collection

        collection = vault.parent / "collection.anki2"
        Collection(str(collection)).close()
        code, _, err = run("sync", "--collection", str(collection))
    else:
        code, _, err = run("build", "--no-pdf")
    assert code == 0, err
    status = subprocess.run(["git", "status", "--porcelain", "--ignored=no"], check=True,
                            capture_output=True, text=True).stdout
    assert status == ""
    assert (vault / "dist" / ".gitignore").read_text(encoding="utf-8").endswith("\n*\n")


def test_an_existing_gitignore_in_the_out_folder_is_kept(vault: Path) -> None:
    write_note(vault, "dist/.gitignore", "*.pdf\n")
    assert run("build", "--no-pdf")[0] == 0
    assert (vault / "dist" / ".gitignore").read_text(encoding="utf-8") == "*.pdf\n"


def test_written_paths_are_shown_relative_to_the_current_folder(vault: Path) -> None:
    code, out, err = run("build", "--no-pdf", "--out", str(vault / "exports"))
    assert code == 0, err
    assert "Wrote exports/myvault.apkg (" in out


def test_assets_folder_inside_the_vault_is_the_vaults_own(vault: Path) -> None:
    """Inside the vault, images in assets/ are found by Obsidian's rules, not as an assets
    folder beside the notes; beside source_notes/ it is the assets folder as before."""
    (vault / "assets").mkdir()
    assert load(Path("."), {}).asset_dirs == []
    (vault / "source_notes").mkdir()
    assert load(Path("source_notes"), {}).asset_dirs == [Path("assets")]
