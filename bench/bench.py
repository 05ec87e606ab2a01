"""Benchmark notes-export on synthetic vaults and print one table. Run by hand, not by tests:

    python bench/bench.py                       # 100 and 1,000 notes, PDFs included
    python bench/bench.py --sizes 100,1000,5000 --pdf-sizes 100,1000

For each size it times, in fresh processes (wall time and peak resident memory):
``check``, ``build --no-pdf``, both again warm (the note cache) and after one note changed,
the PDFs alone (``--pdf-per folder``), an incremental rebuild
after one note changed, ``watch`` (one-paragraph edits, from save to the deck replaced, with
the time of each stage), bare WeasyPrint on the exact HTML that build laid out (the floor for the
PDF), and md2anki on the same questions as one flat file when a Python 3.12+ with md2anki is
on PATH (``python3.12 -m md2anki``). ``--sheet-sizes``: the default build (deck and one sheet
for the whole vault) cold and after one note changed, with the PDF's share of each (from the -v
log) and the chunked sheet's layout, frame and join times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from vaultgen import flat_questions, make_vault

ROOT = Path(__file__).resolve().parents[1]
IMAGE = ROOT / "assets" / "Pasted image 20250217143901.png"
BARE = """
import sys, time
from pathlib import Path
from weasyprint import HTML
from exporter.sheet import weasy
from exporter.core.config import load
from exporter.sheet.columns import VaultFetcher
from exporter.sheet.sheet_html import MEDIA_BASE
from exporter.app.pipeline import load_vault
vault = load_vault(load(Path(sys.argv[1]), {}))
fetcher = weasy.url_fetcher(VaultFetcher(vault.assets))
for page in sys.argv[2:]:
    HTML(string=Path(page).read_text(), base_url=MEDIA_BASE, url_fetcher=fetcher).write_pdf(
        page + ".bare.pdf")
"""


def run(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MiB, and stdout of one command in a fresh process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    out = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        err = process.stderr.read() if process.stderr else ""
        raise SystemExit(f"{' '.join(command)} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024, out


def exporter(*args: str) -> list[str]:
    return [sys.executable, "-m", "exporter", *args]


def bench_size(notes: int, with_pdf: bool, work: Path) -> list[tuple[str, ...]]:
    vault = make_vault(work / f"v{notes}", notes, IMAGE)
    rows = []

    def row(what: str, result: tuple[float, float, str], cards: str = "",
            images: int = notes) -> None:
        rows.append((f"{notes:,}", what, cards, f"{images:,}", f"{result[0]:.2f}",
                     f"{result[1]:.0f}"))

    checked = run(exporter("check", str(vault), "-q", "--format", "json"), work)
    cards = next((line.split(":")[1].strip(" ,") for line in checked[2].splitlines()
                  if '"cards"' in line), "?")
    row("check", checked, cards)
    deck = exporter("build", str(vault), "--out", str(work / f"o{notes}"), "--no-pdf", "-q")
    cold = run(deck, work)
    row("build --no-pdf", cold, cards)
    rows.extend(warm_rows(notes, vault, work, checked[0], cold[0], cards))
    if with_pdf:
        out = work / f"p{notes}"
        pdf_args = ["build", str(vault), "--out", str(out), "--no-anki", "--pdf-per", "folder",
                    "--html", "-q"]
        row("PDFs (--pdf-per folder, 2 cores)", run(exporter(*pdf_args), work), cards)
        pages = sorted(str(p) for p in out.rglob("*.html")
                       if ".notes-export-cache" not in p.parts)
        row("bare WeasyPrint, same HTML (1 core)",
            run([sys.executable, "-c", BARE, str(vault), *pages], work), cards)
        changed = next(vault.rglob("*.md"))
        changed.write_text(changed.read_text(encoding="utf-8") + "\n- one more point\n",
                           encoding="utf-8")
        row("rebuild after one note changed", run(exporter(*pdf_args[:-1], "-q"), work), cards)
    flat = flat_questions(work / f"flat{notes}" / "questions.md", notes)
    row("build --no-pdf, same questions as one file",
        run(exporter("build", str(flat.parent), "--out", str(work / f"f{notes}"), "--no-pdf",
                     "-q"), work), str(notes), 0)
    md2anki = shutil.which("python3.12") or shutil.which("python3.13")
    probe = [md2anki, "-c", "import md2anki"] if md2anki else None
    if probe and subprocess.run(probe, capture_output=True, check=False).returncode == 0:
        row("md2anki, same questions as one file",
            run([md2anki, "-m", "md2anki", str(flat), "-o-anki", str(work / f"m{notes}.apkg")],
                work), str(notes), 0)
    return rows


def warm_rows(notes: int, vault: Path, work: Path, cold_check: float, cold_build: float,
              cards: str) -> list[tuple[str, ...]]:
    """The note cache (OUT/.notes-export-cache/notes): nothing changed, then one note edited,
    for ``check --out`` and ``build --no-pdf``; each with its ratio to the cold run."""
    out = str(work / f"o{notes}")
    check = exporter("check", str(vault), "--out", out, "-q")
    build = exporter("build", str(vault), "--out", out, "--no-pdf", "-q")
    notes_md = sorted(vault.rglob("*.md"))
    # A first build has no previous state to follow; the same build with the state and without
    # the note cache is the cold run a warm one replaces.
    shutil.rmtree(Path(out) / ".notes-export-cache")
    wall, peak, _ = run(build, work)
    rows = [(f"{notes:,}", f"build --no-pdf again, note cache deleted ({wall / cold_build:.2f}× "
             "first build)", cards, f"{notes:,}", f"{wall:.2f}", f"{peak:.0f}")]
    cold_build = wall
    for what, command, cold, edited in (("check", check, cold_check, notes_md[-1]),
                                        ("build --no-pdf", build, cold_build, notes_md[-2])):
        for label in ("warm, nothing changed", "warm, one note edited"):
            if "edited" in label:
                edited.write_text(edited.read_text(encoding="utf-8") + "\n- one more point\n",
                                  encoding="utf-8")
            wall, peak, _ = run(command, work)
            rows.append((f"{notes:,}", f"{what} {label} ({wall / cold:.2f}× cold)", cards,
                         f"{notes:,}", f"{wall:.2f}", f"{peak:.0f}"))
    return rows


WATCH = """
import json, sys, threading, time
from pathlib import Path
from exporter.core.config import load
from exporter.app import engine, watch
vault, out, rounds_wanted = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
sessions, reports = [], []
real = engine.remembered
engine.remembered = lambda *args, **kwargs: sessions.append(real(*args, **kwargs)) or sessions[-1]
stop = threading.Event()
thread = threading.Thread(target=watch.watch, args=(
    load(vault, {"out_dir": out, "write_pdf": False}),
    lambda result, changed: reports.append((time.perf_counter(), result, changed,
                                            dict(sessions[0].timings))), stop))
started = time.perf_counter()
thread.start()
def wait(count):
    while len(reports) < count:
        time.sleep(0.005)
wait(1)
first = reports[0][0] - started
time.sleep(1.0)  # the watcher starts; the first round's garbage is collected
rounds = []
notes = sorted(vault.rglob("*.md"))
for number in range(rounds_wanted):  # a one-paragraph edit of one note, saved
    note = notes[number * 7]
    text = note.read_text(encoding="utf-8") + f"\\nOne more paragraph {number}.\\n"
    saved = time.perf_counter()
    note.write_text(text, encoding="utf-8")
    wait(number + 2)
    done, result, changed, stages = reports[-1]
    rounds.append((done - saved, stages, sessions[0].rendered_notes))
    time.sleep(1.0)  # as a person between saves: the round's garbage is collected
stop.set()
thread.join()
deck = next(out.glob("*.apkg")).stat().st_size
print(json.dumps({"first": first, "rounds": rounds, "deck": deck}))
"""


def watch_rows(notes: int, work: Path, rounds: int = 5) -> list[tuple[str, ...]]:
    """``watch`` itself (watch.py, in a thread): the first build, then one-paragraph edits,
    each timed from saving the note to the deck replaced (the watcher's own wait included; no
    PDF: the sheet's own time is the PDF rows'); the median round, each stage's median, and
    the deck's size (watch writes it the fast way: deck/fastdeck.py)."""
    vault = make_vault(work / f"w{notes}", notes, IMAGE)
    _, peak, out = run([sys.executable, "-c", WATCH, str(vault), str(work / f"wo{notes}"),
                        str(rounds)], work)
    data = json.loads(out)
    seconds = sorted(r[0] for r in data["rounds"])[len(data["rounds"]) // 2]
    rendered = max(r[2] for r in data["rounds"])
    names = list(data["rounds"][0][1])
    split = ", ".join(f"{name} {stage:.2f}" for name in names
                      if (stage := sorted(r[1].get(name, 0.0) for r in data["rounds"])[
                          len(data["rounds"]) // 2]) >= 0.005)
    return [(f"{notes:,}", "watch, first build (in memory from then on)", "", f"{notes:,}",
             f"{data['first']:.2f}", f"{peak:.0f}"),
            (f"{notes:,}", f"watch, one-paragraph edit, save → deck replaced, median of "
             f"{rounds} ({rendered} note rendered; stage medians: {split}; deck "
             f"{data['deck'] / 2**20:.0f} MiB)", "", f"{notes:,}", f"{seconds:.2f}",
             f"{peak:.0f}")]


def bench_fit(notes: int, work: Path) -> list[tuple[str, ...]]:
    """One sheet of ``notes`` notes as it falls, then fitted to four fifths of its pages."""
    vault = make_vault(work / f"fit{notes}", notes, IMAGE)
    rows = []
    free = [*exporter("build", str(vault), "--out", str(work / f"free{notes}"), "--no-anki",
                      "-v")]
    wall, peak, _, err = run_logged(free, work)
    layouts = err.count("exporter.flow: layout pass")
    pdf = next((work / f"free{notes}").glob("*.pdf"))
    pages = _pages(pdf)
    rows.append((f"{notes:,}", f"one sheet, as it falls: {pages} pages, {layouts} layouts",
                 "", f"{notes:,}", f"{wall:.2f}", f"{peak:.0f}"))
    target = max(1, pages * 4 // 5)
    fitted = [*exporter("build", str(vault), "--out", str(work / f"fitted{notes}"), "--no-anki",
                        "--pages", str(target), "-v")]
    wall, peak, out, err = run_logged(fitted, work)
    chosen = next((line.split("fitted to ")[1] for line in out.splitlines()
                   if "fitted to" in line), "no fit")
    layouts = err.count("exporter.flow: layout pass")
    rows.append((f"{notes:,}", f"one sheet, --pages {target}: {chosen}, {layouts} layouts", "",
                 f"{notes:,}", f"{wall:.2f}", f"{peak:.0f}"))
    return rows


def bench_sheet(notes: int, work: Path) -> list[tuple[str, ...]]:
    """The default: deck and one sheet for the whole vault, cold, then after one note changed
    (the sheet's chunks are cached: only the edited note's chunk is laid out again)."""
    vault = make_vault(work / f"sheet{notes}", notes, IMAGE)
    build = exporter("build", str(vault), "--out", str(work / f"sheet-out{notes}"), "-v")
    rows = []
    cold = 0.0
    for what in ("cold", "after one note changed"):
        if what != "cold":
            edited = sorted(vault.rglob("*.md"))[notes // 2]
            edited.write_text(edited.read_text(encoding="utf-8") + "\n- one more point\n",
                              encoding="utf-8")
        wall, peak, _, err = run_logged(build, work)
        pdf = _stage_seconds(err, "PDFs written at") - _stage_seconds(err, "deck written at")
        cold = cold or pdf
        chunks = re.search(r"(\d+) of (\d+) chunks taken from the cache", err)
        split = re.search(r"laid out in ([\d.]+) s; frame of (\d+) pages ([\d.]+) s; joined in "
                          r"([\d.]+) s", err)
        detail = (f"{int(chunks[2]) - int(chunks[1])} of {chunks[2]} chunks laid out"
                  if chunks else "one layout")
        if split:
            detail += (f", {split[2]} pages; layout {split[1]} s, frame {split[3]} s, "
                       f"join {split[4]} s")
        rows.append((f"{notes:,}", f"deck + one sheet, {what}: PDF {pdf:.1f} s "
                     f"({pdf / cold:.2f}× cold PDF; {detail})", "", f"{notes:,}",
                     f"{wall:.2f}", f"{peak:.0f}"))
    return rows


def _stage_seconds(log: str, marker: str) -> float:
    """When the -v log says a stage ended (seconds from the start)."""
    found = re.search(re.escape(marker) + r" ([\d.]+) s", log)
    return float(found[1]) if found else 0.0


def run_logged(command: list[str], cwd: Path) -> tuple[float, float, str, str]:
    """As ``run``, with stderr too (the -v log says how many layouts a sheet took)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, text=True)
        _, _, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read(), err.read()


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--pdf-sizes", default="100,1000")
    parser.add_argument("--sheet-sizes", default="1000",
                        help="deck and one sheet of this many notes, cold and after an edit")
    parser.add_argument("--watch-sizes", default="5000",
                        help="watch: one-paragraph edits, timed from save to deck replaced")
    parser.add_argument("--fit-sizes", default="200",
                        help="one sheet of this many notes, as it falls and fitted to pages")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    pdf_sizes = {int(s) for s in args.pdf_sizes.split(",") if s}
    rows: list[tuple[str, ...]] = []
    with tempfile.TemporaryDirectory(prefix="notes-export-bench-") as tmp:
        for size in sizes:
            rows += bench_size(size, size in pdf_sizes, Path(tmp))
        for size in (int(s) for s in args.sheet_sizes.split(",") if s):
            rows += bench_sheet(size, Path(tmp))
        for size in (int(s) for s in args.watch_sizes.split(",") if s):
            rows += watch_rows(size, Path(tmp))
        for size in (int(s) for s in args.fit_sizes.split(",") if s):
            rows += bench_fit(size, Path(tmp))
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    header = ("notes", "run", "cards", "images", "wall s", "peak MiB")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *rows]:
        cells = (str(c).ljust(w) for c, w in zip(line, widths, strict=True))
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
