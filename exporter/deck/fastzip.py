"""``watch``'s package file: the collection stored uncompressed, and every media file the last
package held copied from it as it lies (kernel to kernel where the system can), not read and
compressed again. Not byte-reproducible (member names and order follow the session), and never
used by ``build``; Anki reads it as it reads the reproducible one (anki.py)."""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from exporter.core.model import Asset
from exporter.deck import anki

_LOCAL = struct.Struct("<4s2B4HL2L2H")  # the zip format's local file header …
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # … its central directory entry …
_END = struct.Struct("<4s4H2LH")  # … and its end record (zipfile's structs)
_DOS_DATE = (1980 - 1980) << 9 | 1 << 5 | 1  # 1980-01-01, as anki.py's members
_LIMIT = 0xFFFFFFFF - (1 << 20)  # past this an offset or size needs ZIP64: not written here
_MAX_MEMBERS = 0xFFFF - 2
_CHUNK = 1 << 20


class Zip64Error(Exception):
    """The package would need ZIP64 (4 GiB, 65,535 members): written the reproducible way."""


@dataclass(frozen=True)
class _Member:
    """A member as the last package holds it: where its local header starts, and its size."""

    name: str
    key: tuple[Path, str]  # (the media file, its name in the deck); ("", …) for ours
    offset: int
    length: int  # local header and data
    crc: int
    size: int
    stored: int  # bytes of data in the file
    method: int  # 0 stored, 8 deflated


Stamp = tuple[int, int, int, int]


def stamp(path: Path) -> Stamp | None:
    """What tells the package this session wrote from any other file under its name (a rename
    keeps device, inode, size and mtime)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


class PackageZip:
    """The members of the package written last, kept for the next write."""

    def __init__(self) -> None:
        self._members: list[_Member] = []
        self._written: Stamp | None = None
        self.reused = 0  # media members copied from the last package in the last write

    def write(self, tmp: Path, previous: Path, collection: bytes, media: list[Asset]) -> None:
        """Write the package to ``tmp``: media first (copied from ``previous`` when it is the
        package this object wrote last, else read), then the collection and the media index."""
        reuse = self._written is not None and stamp(previous) == self._written
        old = {m.key: m for m in self._members} if reuse else {}
        wanted = {(asset.path, asset.media_name) for asset in media}
        kept = sorted((m for m in old.values() if m.key in wanted), key=lambda m: m.offset)
        self._written, self._members = None, []
        numbers = [int(m.name) for m in kept]
        fresh = iter(range(max(numbers, default=-1) + 1, 1 << 31))
        members: list[_Member] = []
        with tmp.open("wb", buffering=0) as out:
            if kept:
                with previous.open("rb", buffering=0) as source:
                    members += _copy_members(source, out, kept)
            for asset in media:
                if (asset.path, asset.media_name) not in old:
                    old[(asset.path, asset.media_name)] = member = _add_file(
                        out, str(next(fresh)), asset, _tell(out))
                    members.append(member)
            index = {m.name: m.key[1] for m in members}
            members.append(_add_bytes(out, "collection.anki2", collection, _tell(out)))
            members.append(_add_bytes(out, "media", json.dumps(index, sort_keys=True).encode(),
                                      _tell(out)))
            _central_directory(out, members)
        self._members, self._written = members, stamp(tmp)
        self.reused = len(kept)


def _tell(out: BinaryIO) -> int:
    at = out.tell()
    if at > _LIMIT:
        raise Zip64Error(f"{at} bytes")
    return at


def _copy_members(source: BinaryIO, out: BinaryIO, kept: list[_Member]) -> list[_Member]:
    """The kept members copied in runs of neighbours; each keeps its name, gets its new place."""
    moved = []
    for start, length, run in _runs(kept):
        at = _tell(out)
        _copy_range(source, out, start, length)
        moved += [_Member(m.name, m.key, at + m.offset - start, m.length, m.crc, m.size,
                          m.stored, m.method) for m in run]
    return moved


def _runs(members: list[_Member]) -> Iterator[tuple[int, int, list[_Member]]]:
    """Members that lie one after the other, as (start, length, members)."""
    run: list[_Member] = []
    for member in members:
        if run and run[-1].offset + run[-1].length != member.offset:
            yield run[0].offset, run[-1].offset + run[-1].length - run[0].offset, run
            run = []
        run.append(member)
    if run:
        yield run[0].offset, run[-1].offset + run[-1].length - run[0].offset, run


def _copy_range(source: BinaryIO, out: BinaryIO, start: int, length: int) -> None:
    """``length`` bytes of ``source`` from ``start`` appended to ``out``: in the kernel when it
    can (Linux's copy_file_range), else through memory."""
    copy = getattr(os, "copy_file_range", None)
    done = 0
    try:
        while copy is not None and done < length:
            step = copy(source.fileno(), out.fileno(), length - done, start + done)
            if step <= 0:
                break
            done += step
    except OSError:
        pass  # another file system or an old kernel: the rest through memory
    start, length = start + done, length - done
    source.seek(start)
    while length:
        chunk = source.read(min(length, _CHUNK))
        if not chunk:
            raise OSError(f"the previous package ended early at byte {start}")
        out.write(chunk)
        length -= len(chunk)


def _header(name: str, crc: int, size: int, stored: int, method: int) -> bytes:
    encoded = name.encode()
    return _LOCAL.pack(b"PK\x03\x04", 20, 0, 0, method, 0, _DOS_DATE, crc, stored, size,
                       len(encoded), 0) + encoded


def _add_bytes(out: BinaryIO, name: str, data: bytes, at: int) -> _Member:
    """A member stored as it is (the collection: deflating it is most of a cold write's time)."""
    if len(data) > _LIMIT:
        raise Zip64Error(f"{name}: {len(data)} bytes")
    crc = zlib.crc32(data)
    header = _header(name, crc, len(data), len(data), 0)
    out.write(header)
    out.write(data)
    return _Member(name, (Path(), name), at, len(header) + len(data), crc, len(data),
                   len(data), 0)


def _add_file(out: BinaryIO, name: str, asset: Asset, at: int) -> _Member:
    """A media file as anki.py adds it (deflated unless its format is compressed already)."""
    data = asset.path.read_bytes()
    if len(data) > _LIMIT:
        raise Zip64Error(f"{asset.path}: {len(data)} bytes")
    crc = zlib.crc32(data)
    method = 0 if anki.is_packed(asset.path) else 8
    if method:
        packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
        body = packer.compress(data) + packer.flush()
    else:
        body = data
    header = _header(name, crc, len(data), len(body), method)
    out.write(header)
    out.write(body)
    return _Member(name, (asset.path, asset.media_name), at, len(header) + len(body), crc,
                   len(data), len(body), method)


def _central_directory(out: BinaryIO, members: list[_Member]) -> None:
    if len(members) > _MAX_MEMBERS:
        raise Zip64Error(f"{len(members)} members")
    start = _tell(out)
    entries = []
    for m in members:
        encoded = m.name.encode()
        entries.append(_CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, 0, m.method, 0, _DOS_DATE,
                                     m.crc, m.stored, m.size, len(encoded), 0, 0, 0, 0,
                                     0o644 << 16, m.offset) + encoded)
    directory = b"".join(entries)
    out.write(directory)
    out.write(_END.pack(b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), start,
                        0))
