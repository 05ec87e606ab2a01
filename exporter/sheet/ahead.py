"""A whole sheet's second layout, laid out ahead on a spare core.

Filling the columns takes two layouts one after the other (flow.py): the first, then one with
the images that end a column early shrunk to finish it. The second's plan is known only once
the first is laid out, but after an edit it is most often the plan the sheet's previous build
ended with. So that plan is kept in the sheet's own store (signed, as every cache entry), and
while this process lays out the first, a forked one lays the second out from the kept plan and
writes its PDF. When the first asks for exactly that plan, the forked process did what this
one would have done next (the same function of the same plan, from the same state); otherwise
it is killed and the second is laid out here. Either way the bytes are a cold build's.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

from exporter.cache.cachestore import Store
from exporter.core import processes
from exporter.core.config import SheetOptions
from exporter.render.rendering_json import json_dict, json_int, json_list, json_pair
from exporter.sheet.flow import Flow, Laid, Ranked, better, finishing
from exporter.sheet.sheet_html import Plan

log = logging.getLogger(__name__)
KEY = "second layout's plan"  # the sheet's store keeps one entry under this key
Write = Callable[[Path, Laid], str]  # writes a layout's PDF, returns its HTML


def fill(flow: Flow, options: SheetOptions, plan: Plan, target: Path, store: Store | None,
         write: Write, spare: bool = True) -> str:
    """``flow.fill`` and ``write``, with the second layout laid out ahead when its plan is
    kept in ``store`` and a core is ``spare``; return the HTML written."""
    ahead_ok = spare and processes.Ahead.possible()
    guess = kept(store) if store is not None and ahead_ok else None
    with processes.temporary_folder() as scratch:
        spare_pdf = Path(scratch) / "second.pdf"
        ahead = processes.Ahead(_second, flow, options, guess, spare_pdf, write) \
            if guess else None
        try:
            first = flow.lay_out(options, plan)
            wanted = finishing(options, first)
            if store is not None:
                keep(store, wanted)
            if ahead is not None:
                found = _taken(ahead, first, spare_pdf, target, write) \
                    if wanted == guess else None
                if found is not None:
                    return found
                ahead.stop()  # another plan, or it failed: the spare core is this one's again
            return write(target, flow.best_of(options, first, wanted))
        finally:
            if ahead is not None:
                ahead.stop()


def _taken(ahead: processes.Ahead, first: Laid, spare_pdf: Path, target: Path,
           write: Write) -> str | None:
    """The sheet written to ``target`` as the process ahead settles it (the second layout it
    wrote, or ``first`` when that is the better), its HTML; None when that process failed."""
    ranked = ahead.next()
    if not isinstance(ranked, Ranked):
        return None
    if not better(first, ranked):
        log.debug("second layout laid out ahead, from the kept plan; the first is the better")
        return write(target, first)
    source = ahead.next()
    if not isinstance(source, str):
        return None
    log.debug("second layout laid out ahead, from the kept plan")
    shutil.copyfile(spare_pdf, target)
    return source


def _second(flow: Flow, options: SheetOptions, wanted: Plan, pdf: Path,
            write: Write) -> Iterator[Ranked | str]:
    """Lay the second layout out, say how it ranks, then write it to ``pdf`` (its HTML)."""
    logging.disable(logging.INFO)  # this process's passes are not the build's: not logged
    laid = flow.finish(options, wanted)
    yield Ranked(laid.pages, laid.fill)
    yield write(pdf, laid)


def keep(store: Store, plan: Plan | None) -> None:
    """Keep the second layout's plan (None: the sheet needs none) for the next build, the
    sheet's only entry."""
    body = json.dumps(None if plan is None else _plain(plan), sort_keys=True)
    store.put(KEY, body.encode())
    store.prune([KEY])


def kept(store: Store) -> Plan | None:
    """The plan kept by the sheet's previous build; None when there is none or it does not
    read as one."""
    body = store.get(KEY)
    if body is None:
        return None
    try:
        raw = json.loads(body)
        return None if raw is None else _plan(json_dict(raw))
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        log.debug("the second layout's kept plan not used: %s", exc)
        return None


def _plain(plan: Plan) -> dict[str, object]:
    raw = asdict(plan)
    return {name: sorted(value) if isinstance(value, set) else
            sorted(value.items()) if isinstance(value, dict) else value
            for name, value in raw.items()}


def _plan(raw: dict[str, object]) -> Plan:
    def ints(name: str) -> set[int]:
        return {json_int(v) for v in json_list(raw[name])}

    def pairs(name: str, kind: Callable[[object], float]) -> dict[int, float]:
        return {json_int(k): kind(v) for k, v in (json_pair(p) for p in json_list(raw[name]))}

    return Plan(wide=ints("wide"), shrink=pairs("shrink", _float), flowing=ints("flowing"),
                bands={k: int(v) for k, v in pairs("bands", json_int).items()},
                short=pairs("short", _float), image_scale=_float(raw["image_scale"]))


def _float(value: object) -> float:
    if type(value) not in (int, float):
        raise TypeError("not a number")
    return float(value)  # type: ignore[arg-type]
