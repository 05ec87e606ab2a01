"""Sync and the note types: which type each model's cards go into, and moving notes between them.

Our note types are found by their names (model.MODEL_NAMES); a type the config maps a model to
(``note_types``) is found by its name too, and must have the fields it names. A note moves from
one to the other through Anki's *Change Note Type* (``change_notetype_of_notes``), which keeps
the note's id, its cards' ids and their review history; sync never deletes and re-adds it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from exporter.core.errors import NoteTypeError
from exporter.core.model import MODEL_NAMES, Card
from exporter.core.note_types import OUR_FIELDS, NoteType
from exporter.deck.state import State

MODEL_CLOZE = 1  # Anki's note type kind of a cloze type


@dataclass
class Types:
    """The note types of the collection sync deals with, by id."""

    own: dict[str, int | None]  # model → our note type's id (None: not in the collection yet)
    target: dict[str, int | None]  # model → where its cards belong now (theirs or ours)
    layout: dict[int, list[int]] = field(default_factory=dict)  # id → where our fields are
    names: dict[int, str] = field(default_factory=dict)  # id → name
    earlier: dict[str, int] = field(default_factory=dict)  # GUID → the type it was sent in

    @property
    def all(self) -> set[int]:
        """Every type whose notes may be this vault's (they carry its tag too)."""
        return {*filter(None, self.own.values()), *filter(None, self.target.values()),
                *self.earlier.values()}

    def allowed(self, card: Card) -> set[int]:
        """The types a note of ``card`` may be in now: where it belongs, ours, or the type
        the previous build sent it in."""
        found = {self.own[card.model], self.target[card.model], self.earlier.get(card.guid)}
        return {mid for mid in found if mid is not None}


def find(col: Any, note_types: Mapping[str, NoteType], previous: State) -> Types:
    """Our note types and the user's in ``col``; a NoteTypeError naming the config key when
    one the config maps is missing or does not fit."""
    own = {model: _id(col.models.by_name(name)) for model, name in MODEL_NAMES.items()}
    types = Types(own, dict(own))
    for model, mid in own.items():
        if mid is not None:
            types.layout[mid] = list(range(len(OUR_FIELDS[model])))
            types.names[mid] = MODEL_NAMES[model]
    for model, mapping in sorted(note_types.items()):
        found = col.models.by_name(mapping.name)
        if not found:
            raise NoteTypeError(
                f"'{mapping.key}.name': the collection has no note type named "
                f"'{mapping.name}'; create it in Anki (Tools › Manage Note Types) or fix the "
                "name in the config; nothing was changed")
        mid = int(found["id"])
        types.target[model] = mid
        types.layout[mid] = _layout(found, mapping)
        types.names[mid] = mapping.name
    for guid, entry in previous.items():
        if entry.note_type:
            sent_in = col.models.by_name(entry.note_type)
            if sent_in:
                types.earlier[guid] = int(sent_in["id"])
                types.names.setdefault(int(sent_in["id"]), entry.note_type)
    return types


def _id(notetype: Any) -> int | None:
    return int(notetype["id"]) if notetype else None


def _layout(found: Any, mapping: NoteType) -> list[int]:
    """Where each of our fields is in the user's type; checks that it fits the mapping."""
    is_cloze = found.get("type") == MODEL_CLOZE
    if is_cloze != (mapping.kind == "cloze"):
        what, fix = (("is no cloze note type", "map cloze cards to a cloze type (its template "
                      "shows {{cloze:Field}})") if mapping.kind == "cloze" else
                     ("is a cloze note type", "map them to a standard type"))
        raise NoteTypeError(f"'{mapping.key}.name': the note type '{mapping.name}' in the "
                              f"collection {what}: {fix}; nothing was changed")
    ords = {str(f["name"]): int(f["ord"]) for f in found["flds"]}
    missing = [name for name in mapping.fields if name not in ords]
    if missing:
        raise NoteTypeError(
            f"'{mapping.key}.fields': the note type '{mapping.name}' in the collection has no "
            f"field {', '.join(map(repr, missing))} (it has {', '.join(ords)}); nothing was "
            "changed")
    return [ords[name] for name in mapping.fields]


def values(flds: str, layout: list[int]) -> list[str]:
    """Our fields' values in a note's fields, by the type's layout."""
    fields = flds.split("\x1f")
    return [fields[i] if i < len(fields) else "" for i in layout]


def convert(col: Any, nids: list[int], old: int, new: int, layout: Mapping[int, list[int]]
            ) -> None:
    """Move notes of type ``old`` to type ``new`` with Anki's Change Note Type: ids, cards and
    review history kept; each of our fields goes where the new type holds it."""
    info = col.models.change_notetype_info(old_notetype_id=old, new_notetype_id=new)
    request = info.input
    request.note_ids.extend(nids)
    if old in layout and new in layout:
        fields = list(request.new_fields)
        for ours, index in enumerate(layout[new]):
            fields[index] = layout[old][ours]
        del request.new_fields[:]
        request.new_fields.extend(fields)
    col.models.change_notetype_of_notes(request)
