"""Synthetic Obsidian vaults shaped like the sample note, for the benchmark."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

TOPICS = ["Compute", "Storage", "Databases", "Networking", "Security", "Analytics",
          "Messaging", "Monitoring", "Machine Learning", "Migration"]
WORDS = [
    "service", "managed", "scalable", "serverless", "instance", "cluster", "region", "zone",
    "latency", "throughput", "replica", "backup", "snapshot", "policy", "role", "endpoint",
    "gateway", "queue", "stream", "shard", "partition", "capacity", "pricing", "tier", "storage",
    "cache", "index", "table", "bucket", "object", "volume", "network", "subnet", "container",
    "image", "function", "trigger", "event", "schedule", "metric", "alarm", "log", "trace",
]


def _sentence(rng: random.Random, low: int = 4, high: int = 11) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def _note(rng: random.Random, index: int, names: list[str], image: str) -> str:
    """One note: nested headings, bullets, a definition line, a table, links, one or two images."""
    name = names[index]
    lines = [f"# {name}", f"- {name.split()[-1]} = {_sentence(rng, 3, 6)}"]
    for _ in range(rng.randint(2, 4)):
        lines.append(f"- {_sentence(rng)} [[{rng.choice(names)}]]")
        if rng.random() < 0.5:
            lines += [f"\t- {_sentence(rng)}", f"\t- {_sentence(rng)}"]
    lines.append(f"![[{image}]]")
    for sub in ("Benefits", "Use Cases", "Limits"):
        lines += ["", f"## {sub}"]
        lines += [f"- {_sentence(rng)}" for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.3:
            lines.append(f"- see [[#{sub}]] and [[{rng.choice(names)}#Benefits|benefits]]")
    lines += ["", "### Example", f"- {_sentence(rng)}"]
    if rng.random() < 0.6:
        lines.append(f"![[{image}|300]]")
    lines += ["", "## Comparison", "", f"| **{name}** | **Alternative** |", "| --- | --- |"]
    lines += [f"| {_sentence(rng, 2, 4)} | {_sentence(rng, 2, 6)} |" for _ in range(4)]
    lines += ["", f"{name.split()[-1]}::{_sentence(rng, 3, 7)}", ""]
    return "\n".join(lines)


def make_vault(root: Path, notes: int, image: Path, seed: int = 7) -> Path:
    """Write ``notes`` notes in topic folders under ``root/notes`` with one PNG per note."""
    rng = random.Random(seed)
    if root.exists():
        shutil.rmtree(root)
    names = [f"{TOPICS[i % len(TOPICS)]} Service {i:05d}" for i in range(notes)]
    for index, name in enumerate(names):
        folder = root / "notes" / TOPICS[index % len(TOPICS)]
        folder.mkdir(parents=True, exist_ok=True)
        picture = f"Pasted image {index:05d}.png"
        shutil.copyfile(image, folder / picture)
        (folder / f"{name}.md").write_text(_note(rng, index, names, picture), encoding="utf-8")
    return root / "notes"


def flat_questions(path: Path, count: int, seed: int = 7) -> Path:
    """The same kind of content as one flat file of questions, for md2anki."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    blocks = [f"## {_sentence(rng, 3, 6)} {i}?\n\n{_sentence(rng)}\n" for i in range(count)]
    path.write_text("# Questions\n\n" + "\n".join(blocks), encoding="utf-8")
    return path
