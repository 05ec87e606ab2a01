"""The package's shape, kept so: subpackages in layers, imports only downward, no import cycle
(imports inside functions and under ``TYPE_CHECKING`` counted), no private name used outside
its module, the app layer free of WeasyPrint and pypdf until a PDF is wanted, and a wheel that
holds every subpackage."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "exporter"
# Lower layers first: a module may import its own subpackage and any layer below it. ``deck``
# and ``sheet`` share a layer, so neither imports the other; so do ``cards`` and ``render``.
LAYERS = {"core": 0, "cache": 1, "read": 2, "cards": 3, "render": 3, "deck": 4, "sheet": 4,
          "app": 5, "cli": 6, "__main__": 7}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str:
    """The module ``name`` refers to: itself, or the package an attribute of it lives in."""
    while name not in MODULES and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _absolute(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = package if is_package else package[:-1]
    base = base[:len(base) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str) -> list[tuple[str, int, list[str]]]:
    """Every exporter module ``module`` imports, anywhere in it: (module, line, names taken)."""
    found = []
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(_resolve(a.name), node.lineno, []) for a in node.names
                      if a.name.split(".")[0] == "exporter"]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, node)
            if base.split(".")[0] != "exporter":
                continue
            for alias in node.names:
                target = f"{base}.{alias.name}"
                if target in MODULES:  # from package import module
                    found.append((target, node.lineno, []))
                else:
                    found.append((_resolve(base), node.lineno, [alias.name]))
    return found


def layer(module: str) -> tuple[str, int] | None:
    """The subpackage (or top-level module) ``module`` belongs to, and its layer."""
    parts = module.split(".")
    if len(parts) == 1:
        return None  # exporter/__init__.py: the version, which any layer may read
    return parts[1], LAYERS[parts[1]]


def test_every_subpackage_has_a_layer() -> None:
    tops = {m.split(".")[1] for m in MODULES if "." in m}
    assert tops <= set(LAYERS), tops - set(LAYERS)


def test_imports_point_only_downward() -> None:
    wrong = []
    for module in MODULES:
        mine = layer(module)
        for target, line, _ in imports(module):
            theirs = layer(target)
            if mine is None or theirs is None or theirs[0] == mine[0]:
                continue
            if theirs[1] >= mine[1]:
                wrong.append(f"{MODULES[module].relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle() -> None:
    graph = {m: sorted({t for t, _, _ in imports(m) if t != m}) for m in MODULES}
    cycles = _strongly_connected(graph)
    assert not cycles, "\n".join(" ↔ ".join(sorted(c)) for c in cycles)


def _strongly_connected(graph: dict[str, list[str]]) -> list[set[str]]:
    """Tarjan's algorithm: every group of more than one module that import each other."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, []):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.add(top)
                if top == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_private_name_used_outside_its_module() -> None:
    wrong = []
    for module in MODULES:
        aliases: dict[str, str] = {}  # a local name → the exporter module it is
        tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
        for target, line, names in imports(module):
            wrong += [f"{module}:{line} imports {target}.{n}" for n in names
                      if n.startswith("_") and not n.startswith("__")]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and _absolute(module, node).startswith("exporter"):
                for alias in node.names:
                    full = f"{_absolute(module, node)}.{alias.name}"
                    if full in MODULES:
                        aliases[alias.asname or alias.name] = full
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in aliases and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                wrong.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    assert not wrong, "\n".join(wrong)


def test_the_app_layer_loads_neither_weasyprint_nor_pypdf() -> None:
    """A build whose sheet is cached, ``check`` and ``sync`` never pay for loading them."""
    app = [*sorted(m for m in MODULES if m.startswith("exporter.app.")), "exporter.cli"]
    code = (f"import sys\nfor name in {app!r}:\n    __import__(name)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('weasyprint', 'pypdf')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_wheel_holds_every_subpackage(tmp_path: Path) -> None:
    """Built from a copy of this checkout with the project's build backend (setuptools, in the
    test extras: no network, nothing written into the checkout)."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, project / name)
    shutil.copytree(PACKAGE, project / "exporter",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = ("import sys\nfrom setuptools import build_meta\n"
            "print(build_meta.build_wheel(sys.argv[1]))")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                          text=True, cwd=project)
    assert done.returncode == 0, done.stderr[-2000:]
    wheel = tmp_path / done.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    wanted = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*")
              if p.is_file() and "__pycache__" not in p.parts}
    assert wanted <= names, sorted(wanted - names)
