"""A semester of editing against a real Anki collection: 20 rounds of random edits (reword a
question, rename a heading, edit a cloze line, move a note, edit an image, delete a section, add
a card), each followed by a build and an import (or a sync), every card answered between rounds.

Each card of the generated vault carries a token (S… for a section, Q… for a question, C… for a
cloze) that no edit touches, so the test knows which Anki note should be which card.
"""

from __future__ import annotations

import hashlib
import io
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from anki.collection import Collection
from PIL import Image

from exporter.app.pipeline import Result, export
from exporter.app.sync import sync
from exporter.core.config import Config
from exporter.core.model import Card

from .conftest import EPOCH, answer_all, import_apkg

ROUNDS = 20
FOLDERS = ("Term 1", "Term 2", "Archive")
_TOKEN = re.compile(r"\b([SQC]\d+)\b")


@dataclass
class Sec:
    """A section of a generated note: heading, a line with its token, an image, card lines."""

    heading: str
    token: str
    image: str | None = None
    items: list[str] = field(default_factory=list)


@dataclass
class Doc:
    """A generated note."""

    folder: str
    name: str
    sections: list[Sec]


class Semester:
    """The vault as data, the random edits, and the files they become."""

    def __init__(self, root: Path, seed: int) -> None:
        self.notes, self.assets = root / "notes", root / "assets"
        self.assets.mkdir(parents=True)
        self.rng = random.Random(seed)
        self.counter = 0
        self.docs = [Doc(FOLDERS[i % 2], f"Course {i}", [self._section() for _ in range(3)])
                     for i in range(4)]
        for doc in self.docs[:2]:
            doc.sections[0].image = f"figure {doc.name}.png"
            self._paint(doc.sections[0].image)
        self.write()

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def _qa(self) -> str:
        n = self._next()
        return f"Question {n} about the course::answer number {n} Q{n}"

    def _cloze(self) -> str:
        n = self._next()
        return f"The {{{{c1::term {n}}}}} belongs to alpha beta gamma delta epsilon C{n}"

    def _section(self) -> Sec:
        n = self._next()
        return Sec(f"Topic {n}", f"S{n}", None, [self._qa(), self._cloze()])

    def _paint(self, name: str) -> None:
        colour = tuple(self.rng.randrange(256) for _ in range(3))
        buffer = io.BytesIO()
        Image.new("RGB", (6, 4), colour).save(buffer, format="PNG")
        (self.assets / name).write_bytes(buffer.getvalue())

    def write(self) -> None:
        for path in self.notes.rglob("*.md"):
            path.unlink()
        for doc in self.docs:
            lines = []
            for sec in doc.sections:
                lines += [f"# {sec.heading}", f"Notes for this topic {sec.token}"]
                lines += [f"![[{sec.image}]]"] if sec.image else []
                lines += [f"- {item}" for item in sec.items] + [""]
            path = self.notes / doc.folder / f"{doc.name}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("\n".join(lines), encoding="utf-8")

    def tokens(self) -> set[str]:
        """Every card the vault holds now, by token."""
        found = set()
        for doc in self.docs:
            for sec in doc.sections:
                found.add(sec.token)
                found |= {m for item in sec.items for m in _TOKEN.findall(item)}
        return found

    # --- the edits: each returns False when it does not apply to the note it was given ---

    def reword(self, doc: Doc) -> bool:
        found = [(s, i) for s in doc.sections for i, t in enumerate(s.items) if "::answer" in t]
        if not found:
            return False
        sec, index = self.rng.choice(found)
        sec.items[index] = f"Reworded question {self._next()}?::" + sec.items[index].split("::")[1]
        return True

    def rename(self, doc: Doc) -> bool:
        self.rng.choice(doc.sections).heading = f"Renamed topic {self._next()}"
        return True

    def edit_cloze(self, doc: Doc) -> bool:
        found = [(s, i) for s in doc.sections for i, t in enumerate(s.items) if "{{c1::" in t]
        if not found:
            return False
        sec, index = self.rng.choice(found)
        words = ["alpha", "beta", "gamma", "delta", "epsilon"]
        word = next((w for w in self.rng.sample(words, 5) if f" {w} " in sec.items[index]), None)
        if word is None:
            return False
        sec.items[index] = sec.items[index].replace(f" {word} ", " omega ", 1)
        return True

    def move(self, doc: Doc) -> bool:
        doc.folder = self.rng.choice([f for f in FOLDERS if f != doc.folder])
        return True

    def edit_image(self, doc: Doc) -> bool:
        images = [s.image for s in doc.sections if s.image]
        if not images:
            return False
        self._paint(images[0])
        return True

    def delete_section(self, doc: Doc) -> bool:
        if len(doc.sections) < 2:
            return False
        candidates = [s for s in doc.sections if not s.image]
        if not candidates:
            return False
        doc.sections.remove(self.rng.choice(candidates))
        return True

    def add_card(self, doc: Doc) -> bool:
        if self.rng.random() < 0.5:
            doc.sections.insert(self.rng.randrange(len(doc.sections) + 1), self._section())
        else:
            self.rng.choice(doc.sections).items.append(self._qa())
        return True

    def edit_round(self) -> list[str]:
        """Two or three edits of different kinds, each on a note of its own."""
        kinds = [self.reword, self.rename, self.edit_cloze, self.move, self.edit_image,
                 self.delete_section, self.add_card]
        done = []
        docs = self.rng.sample(self.docs, len(self.docs))
        for doc in docs[:self.rng.choice((2, 3))]:
            for edit in self.rng.sample(kinds, len(kinds)):
                if edit(doc):
                    done.append(f"{edit.__name__}({doc.name})")
                    break
        self.write()
        return done


def _build(root: Path, out: Path, epoch: int, previous: Path | None = None) -> Result:
    return export(_config(root, out, epoch, previous))


def _config(root: Path, out: Path, epoch: int, previous: Path | None = None) -> Config:
    return Config(notes_dir=root / "notes", asset_dirs=[root / "assets"], out_dir=out,
                  deck_name="Semester", write_pdf=False, epoch=epoch, previous=previous)


def _token_of(fields: list[str]) -> str:
    tokens = _TOKEN.findall(" ".join(fields))
    sections = [t for t in tokens if t.startswith("S")]
    return (sections or tokens)[0]


def _notes(col: Collection) -> dict[str, list[int]]:
    """Token → the ids of the notes that show that card."""
    found: dict[str, list[int]] = defaultdict(list)
    for nid in col.find_notes(""):
        found[_token_of(col.get_note(nid).fields)].append(nid)
    return found


def _history(col: Collection, notes: dict[str, list[int]]) -> dict[str, tuple[int, list[int]]]:
    """Token → its note id and the review counts of its cards, in card order."""
    return {token: (nids[0], [col.get_card(c).reps for c in sorted(col.card_ids_of_note(nids[0]))])
            for token, nids in notes.items()}


def _check_round(col: Collection, semester: Semester, result: Result,
                 before: dict[str, tuple[int, list[int]]], what: list[str]) -> None:
    notes = _notes(col)
    duplicates = {t: n for t, n in notes.items() if len(n) > 1}
    assert not duplicates, f"duplicate notes after {what}"
    live = semester.tokens()
    assert live <= set(notes), f"cards missing after {what}"
    now = _history(col, notes)
    for token in live & set(before):
        assert now[token] == before[token], f"{token} lost its note or history after {what}"
    by_guid = {guid: nid for nid, guid in col.db.all("select id, guid from notes")}
    for card in result.cards:
        note = col.get_note(by_guid[card.guid])
        assert note.fields == [card.front, card.back, card.context, card.source], what
    _check_images(col, semester, result.cards)


def _check_images(col: Collection, semester: Semester, cards: list[Card]) -> None:
    """Every image's current bytes are in the collection, under the name its card shows."""
    media = Path(col.media.dir())
    for path in semester.assets.iterdir():
        data = path.read_bytes()
        name = f"{path.stem}-{hashlib.sha256(data).hexdigest()[:12]}{path.suffix}".lower()
        showing = [c for c in cards if f'src="{name}"' in c.back]
        assert showing, f"no card shows the current {path.name}"
        assert (media / name).read_bytes() == data


@pytest.mark.parametrize("workflow", ["state", "previous"])
def test_semester_of_imports_keeps_every_card_and_its_history(
        tmp_path: Path, collection: Collection, workflow: str) -> None:
    """``state``: one output folder and its state file; ``previous``: a fresh folder per round,
    with the last round's deck as the only state (a CI artifact)."""
    semester = Semester(tmp_path, seed=2026)
    history: dict[str, tuple[int, list[int]]] = {}
    previous = None
    renamed = moved = 0
    for round_ in range(ROUNDS + 1):
        what = semester.edit_round() if round_ else ["first build"]
        out = tmp_path / ("dist" if workflow == "state" else f"round{round_}")
        result = _build(tmp_path, out, EPOCH + 3600 * round_, previous)
        assert not [d for d in result.diagnostics if d.code == "ambiguous-identity"], what
        assert result.report is not None
        renamed += result.report.renamed
        moved += result.report.moved
        log = import_apkg(collection, out / "semester.apkg")
        assert log["conflicting"] == 0
        _check_round(collection, semester, result, history, what)
        answer_all(collection)
        history = _history(collection, _notes(collection))
        previous = out / "semester.apkg" if workflow == "previous" else None
    assert renamed >= 10 and moved >= 5  # the rounds did exercise renames and moves


def test_semester_of_syncs_matches_the_vault_exactly(tmp_path: Path,
                                                     collection: Collection) -> None:
    semester = Semester(tmp_path, seed=2026)
    path = Path(collection.path)
    collection.close()
    history: dict[str, tuple[int, list[int]]] = {}
    for round_ in range(ROUNDS + 1):
        what = semester.edit_round() if round_ else ["first sync"]
        config = _config(tmp_path, tmp_path / "dist", EPOCH + 3600 * round_)
        result, _ = sync(config, path, echo=lambda line: None)
        col = Collection(str(path))
        try:
            ours = {guid: (flds.split("\x1f"), set(tags.split()))
                    for guid, flds, tags in col.db.all("select guid, flds, tags from notes")}
            assert ours == {c.guid: ([c.front, c.back, c.context, c.source], set(c.tags))
                            for c in result.cards}, what
            decks = {guid: col.decks.name(did) for guid, did in col.db.all(
                "select n.guid, c.did from cards c join notes n on n.id = c.nid")}
            assert decks == {c.guid: c.deck for c in result.cards}, what
            assert set(_notes(col)) == semester.tokens()
            _check_round(col, semester, result, history, what)
            answer_all(col)
            history = _history(col, _notes(col))
        finally:
            col.close()
        _, again = sync(config, path, echo=lambda line: None)
        assert again.empty, f"a second sync changed {again.lines()} after {what}"
