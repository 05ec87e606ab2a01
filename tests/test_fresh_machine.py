"""Pass where the README's commands are typed: PDF bytes that depend neither on the clock (fonts
are subset by fontTools, which stamps it) nor on libharfbuzz-subset0, and a fuzz test that is
the same on every run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from .conftest import build, write_note


def test_pdf_bytes_do_not_depend_on_the_clock_when_fonttools_subsets(
        sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fontTools import subset
    from fontTools.misc import timeTools
    from weasyprint.pdf import fonts

    # What a machine without libharfbuzz-subset0 does: WeasyPrint falls back to fontTools,
    # which stamps the wall clock into each subset font unless SOURCE_DATE_EPOCH is set.
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    subsets: list[Any] = []  # what fontTools subset (WeasyPrint warns so only since 70)
    original = subset.Subsetter.subset
    monkeypatch.setattr(subset.Subsetter, "subset",
                        lambda self, font: (subsets.append(font), original(self, font))[1])
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    clock = SimpleNamespace(time=lambda: 1_800_000_000.0)
    monkeypatch.setattr(timeTools, "time", clock)
    build(sample, out="first", anki=False)
    assert any("DejaVu" in (font["name"].getDebugName(1) or "") for font in subsets)
    clock.time = lambda: 1_900_000_000.0  # three years later
    build(sample, out="second", anki=False)
    first = (sample / "first" / "aws-other-compute.pdf").read_bytes()
    second = (sample / "second" / "aws-other-compute.pdf").read_bytes()
    assert first == second
    assert "SOURCE_DATE_EPOCH" not in __import__("os").environ  # put back as it was


def test_emoji_and_variable_fonts_do_not_stamp_the_clock_either(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fontTools.misc import timeTools

    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    if "Noto Color Emoji" not in fonts:
        pytest.skip("needs fonts-noto-color-emoji (.ci/run installs it)")
    # Colour-emoji fonts are subset by fontTools even where HarfBuzz-Subset is installed.
    write_note(tmp_path / "notes", "e.md", "# Emoji\nlaunch 🚀 done ✅ 中文 → λ\n")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    clock = SimpleNamespace(time=lambda: 1_800_000_000.0)
    monkeypatch.setattr(timeTools, "time", clock)
    outputs = []
    for name, now in (("one", 1_800_000_000.0), ("two", 1_900_000_000.0)):
        clock.time = lambda now=now: now
        build(tmp_path, out=name, anki=False, deck="E")
        outputs.append((tmp_path / name / "e.pdf").read_bytes())
    assert outputs[0] == outputs[1]


def test_pdf_bytes_do_not_depend_on_libharfbuzz_subset(
        sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from weasyprint.pdf import fonts

    if fonts.harfbuzz_subset is None:
        pytest.skip("needs libharfbuzz-subset0 (.ci/run installs it) to build once with it "
                    "and once as a machine without it does")
    mixed = tmp_path / "mixed"
    write_note(mixed / "notes", "m.md", "# Scripts\n**bold** *italic* `code` λ → ✓ 中文\n\n"
               "| a | b |\n| --- | --- |\n| $x^2$ | *y* |\n")
    (mixed / "assets").mkdir()
    projects = [(sample, "aws-other-compute.pdf", "AWS Other Compute"), (mixed, "m.pdf", "M")]
    for project, _, deck in projects:
        build(project, out="with", anki=False, deck=deck)
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)  # what WeasyPrint finds without it
    for project, _, deck in projects:
        build(project, out="without", anki=False, deck=deck)
    for project, name, _ in projects:
        assert (project / "with" / name).read_bytes() == (project / "without" / name).read_bytes()


def test_ci_runs_the_tests_again_without_the_optional_packages() -> None:
    script = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    optional = script.split('OPTIONAL="', 1)[1].split('"', 1)[0].split()
    assert sorted(optional) == sorted(["libharfbuzz-subset0", "fonts-wqy-microhei",
                                       "fonts-symbola", "fonts-noto-color-emoji",
                                       "poppler-utils"])
    required = script.split('REQUIRED="', 1)[1].split('"', 1)[0].split()
    assert "fonts-dejavu-core" in required and "libpango-1.0-0" in required
    rerun = script.split("apt-get remove -y -qq $OPTIONAL", 1)[1]
    assert ".venv/bin/pytest" in rerun and "trap install_optional EXIT" in script


def test_the_fuzz_test_is_the_same_on_every_ci_run() -> None:
    from hypothesis import settings

    from . import test_fuzz

    ci = settings.get_profile("ci")
    assert ci.derandomize and ci.database is None
    examples = getattr(test_fuzz.test_random_notes_never_crash_and_stay_sanitised,
                       "hypothesis_explicit_examples", [])
    assert any("\x00" in "".join(e.args) for e in examples)
    root = Path(__file__).resolve().parents[1]
    assert not (root / ".hypothesis").exists() or \
        not any((root / ".hypothesis").iterdir())  # its caches live in the temp folder
