"""The PDF writer: every sheet of the build, and the HTML each was laid out from (``--html``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from exporter.app.writers import Build, Stage
from exporter.core.config import Config
from exporter.sheet import sheet_stage


class SheetWriter:
    """Writes OUT/<deck>.pdf (or one per note or folder, ``--pdf-per``)."""

    name = "PDFs"

    def enabled(self, config: Config) -> bool:
        """Unless ``--no-pdf``."""
        return config.write_pdf

    def write(self, build: Build, stage: Stage) -> list[Path]:
        """Lay out and write each sheet, dated by the newest card's time."""
        config, vault = build.config, build.result.vault
        date = dt.datetime.fromtimestamp(max(build.history.times.values(), default=build.epoch),
                                         dt.UTC).date()
        jobs = sheet_stage.plan_sheets(config, vault, date)
        pdfs = [config.out_dir / f"{job.stem}.pdf" for job in jobs]
        sources = sheet_stage.write_sheets(jobs, [stage(p) for p in pdfs], config.out_dir,
                                           vault.diagnostics, build.progress)
        build.result.fitted += [f"{p.name}: {note}" for p, s in zip(pdfs, sources, strict=True)
                                if (note := sheet_stage.fit_note(s))]
        if not config.write_html:
            return pdfs
        pages = [config.out_dir / f"{job.stem}.html" for job in jobs]
        for page, source in zip(pages, sources, strict=True):
            stage(page).write_text(source, encoding="utf-8")
        return pdfs + pages
