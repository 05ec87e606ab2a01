"""A session's notes kept on disk between runs, in the session cache (cachestore.py's
``session/``): each note as it was read (split, its cards' syntax read), its rendering and its
cards, so a warm ``check --out`` or ``build`` reads, renders and makes cards only for what
changed.

The entry is keyed by the options that reach a note's reading, rendering or cards (those that
declare "notes" or "cards", ``Config.options_for("cards")``); the store names it by the code
too, so ``check`` and ``build``, with or without the PDF, share one. Pickle runs code when it
loads, and the entry sits in an output folder a pull request can fill: the store checks its
signature (this user's key, kept outside any output folder) before anything is unpickled, and
anything that does not verify is ignored and replaced. Deleting it is always safe.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path

from exporter.cache import cachestore
from exporter.cache.cachestore import Store
from exporter.core.config import Config

log = logging.getLogger(__name__)


def stamp(config: Config) -> str:
    """The session's key: every option that may reach a note's reading, rendering or cards."""
    options = config.options_key("cards")
    return hashlib.sha256(options.encode()).hexdigest()


def path_of(config: Config) -> Path:
    """Where the snapshot of ``config.out_dir`` lives, for its options and this code."""
    return cachestore.entry_path(cachestore.root_of(config.out_dir), cachestore.SESSION,
                                 stamp(config))


def load(config: Config) -> dict[str, object] | None:
    """The state a session saved for ``config``, or None when absent or not to be trusted."""
    store = _store(config)
    body = None if store is None else store.get(stamp(config))
    if body is None:
        return None
    try:
        state = pickle.loads(body)  # signed by us: never a planted file's bytes
    except (ValueError, pickle.UnpicklingError, EOFError, AttributeError, ImportError,
            TypeError, IndexError, RecursionError) as exc:
        log.debug("session snapshot of %s not used: %s", config.out_dir, exc)
        return None
    return state if isinstance(state, dict) else None


def save(config: Config, kept: dict[str, object]) -> None:
    """Write what an engine kept (its notes, renderings and cards) for the next run, in place of
    any other options' (best effort)."""
    store = _store(config)
    if store is None:
        return
    key = stamp(config)
    try:
        body = pickle.dumps(kept, pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as exc:
        # the run goes on; the next one starts from the note cache
        log.debug("session snapshot of %s not written: %s", config.out_dir, exc)
        return
    if store.put(key, body):
        store.prune([key])


def _store(config: Config) -> Store | None:
    return cachestore.open_store(cachestore.root_of(config.out_dir), cachestore.SESSION)
