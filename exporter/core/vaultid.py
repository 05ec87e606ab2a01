"""Which vault a card belongs to: a name every clone of the vault shares, kept in each Anki note.

A vault is named by ``vault_id`` in its config file when the user sets one, else by its
Obsidian name (``vault``), else by its folder's name, as Obsidian names a vault. Every clone of a
vault, on another machine or in CI, has the same config and the same folder name, so it is the
same vault; two vaults side by side have different folders, so they are different vaults unless
the user says otherwise. The name gives two things:

* a **namespace** for GUIDs: a card's GUID hashes the namespace with the note's path and the
  card's key, so two vaults that both have ``Index.md › Overview`` never share a GUID, and an
  ``.apkg`` of one vault can never update a note of another;
* a **tag** every note carries (``notes-export::vault::<name>-<hash>``): Anki keeps it, and
  ``sync`` adds, updates, moves and deletes only notes that carry this vault's tag. A deck name
  or a state file alone never makes a note ours.

Cards made before vault identities (notes-export 0.1) had GUIDs without the namespace: each card
also knows that ``legacy`` GUID, so a note made by 0.1 keeps its Anki note and review history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

import genanki

from exporter.core.text import slugify

TAG_PREFIX = "notes-export::vault::"
MAX_LENGTH = 200


@dataclass(frozen=True)
class VaultId:
    """One vault's identity: the name it was made from, its GUID namespace and its Anki tag."""

    name: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()

    @property
    def namespace(self) -> str:
        """What every GUID of this vault starts from (hex: never confused with a path)."""
        return f"vault:{self.digest[:16]}"

    @property
    def tag(self) -> str:
        """The Anki tag that says a note is this vault's: readable, and unique by its hash."""
        return f"{TAG_PREFIX}{slugify(self.name)[:40]}-{self.digest[:8]}"

    def guid(self, *key: str) -> str:
        """The GUID of the card with this identity key (note identity, kind, headings, …)."""
        return str(genanki.guid_for(self.namespace, *key))


def legacy_guid(*key: str) -> str:
    """The GUID notes-export 0.1 gave the same key, before GUIDs had a vault namespace."""
    return str(genanki.guid_for(*key))


def of(vault_id: str | None, vault_name: str | None, folder_name: str) -> VaultId:
    """The vault's identity: ``vault_id``, else Obsidian's vault name, else the folder's name."""
    name = next(n for n in (vault_id, vault_name, folder_name, "notes") if n and n.strip())
    return VaultId(name.strip())


def vault_tags(tags: Iterable[str]) -> set[str]:
    """The vault tags among a note's tags (Anki compares tags without case)."""
    return {t for t in tags if t.casefold().startswith(TAG_PREFIX)}


def owner(tags: Iterable[str], ours: VaultId) -> str:
    """``ours``, ``other`` (another vault's tag) or ``none`` (made before vault identities)."""
    found = {t.casefold() for t in vault_tags(tags)}
    if ours.tag.casefold() in found:
        return "ours"
    return "other" if found else "none"
