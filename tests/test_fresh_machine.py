"""Pass where the README's commands are typed: PDF bytes that do not depend on the clock when
WeasyPrint subsets fonts with fontTools (no libharfbuzz-subset0), and a fuzz test that is the
same on every run."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest

from .conftest import build


def test_pdf_bytes_do_not_depend_on_the_clock_when_fonttools_subsets(
        sample: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from fontTools.misc import timeTools
    from weasyprint.pdf import fonts

    # What a machine without libharfbuzz-subset0 does: WeasyPrint falls back to fontTools,
    # which stamps the wall clock into each subset font unless SOURCE_DATE_EPOCH is set.
    monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    clock = SimpleNamespace(time=lambda: 1_800_000_000.0)
    monkeypatch.setattr(timeTools, "time", clock)
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        build(sample, out="first", anki=False)
    assert "Using fontTools instead of HarfBuzz-Subset" in caplog.text
    clock.time = lambda: 1_900_000_000.0  # three years later
    build(sample, out="second", anki=False)
    first = (sample / "first" / "aws-other-compute.pdf").read_bytes()
    second = (sample / "second" / "aws-other-compute.pdf").read_bytes()
    assert first == second
    assert "SOURCE_DATE_EPOCH" not in __import__("os").environ  # put back as it was
