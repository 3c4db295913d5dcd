"""The layout is the architecture: imports flow one way, through the layers DESIGN.md states.

The layers are read from DESIGN.md itself (the fenced block after "Layers"), so the document and
the code cannot drift apart: moving a package or adding an import that climbs a layer fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "kaipai"


def design_layers() -> list[set[str]]:
    """Lowest layer first; each line of the block is one layer of packages."""
    text = (REPO / "docs" / "DESIGN.md").read_text(encoding="utf-8")
    block = re.search(r"### Layers.*?```text\n(.*?)```", text, re.S)
    assert block, "DESIGN.md must state the layers in a ```text block under '### Layers'"
    layers = []
    for line in block.group(1).splitlines():
        names = line.split("#", 1)[0].split()
        if names:
            layers.append(set(names))
    return layers


def package_of(module: str) -> str:
    """kaipai.engine.run -> engine; kaipai.fonts -> fonts."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports() -> list[tuple[str, str, int]]:
    """(importing module file, imported kaipai module, line) for every import, top-level or deferred."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kaipai"):
                targets = (
                    [node.module]
                    if node.module != "kaipai"
                    else [f"kaipai.{a.name}" for a in node.names if is_part(a.name)]
                )
                found += [(str(path.relative_to(SRC)), t, node.lineno) for t in targets]
            elif isinstance(node, ast.Import):
                found += [
                    (str(path.relative_to(SRC)), a.name, node.lineno)
                    for a in node.names
                    if a.name.startswith("kaipai.")
                ]
    return found


def is_part(name: str) -> bool:
    """A package or module of kaipai (not an attribute of the package, such as __version__)."""
    return (SRC / name).is_dir() or (SRC / f"{name}.py").is_file()


def source_package(relative: str) -> str:
    first = relative.split("/", 1)[0]
    return first[:-3] if first.endswith(".py") else first


def test_every_package_has_a_layer() -> None:
    placed = set().union(*design_layers())
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    modules = {p.stem for p in SRC.glob("*.py") if not p.stem.startswith("__")}
    assert packages | modules <= placed, f"place these in DESIGN.md's layers: {sorted((packages | modules) - placed)}"


def test_imports_only_go_down_the_layers() -> None:
    rank = {name: i for i, layer in enumerate(design_layers()) for name in layer}
    wrong = []
    for where, target, line in imports():
        src, dst = source_package(where), package_of(target)
        if src in ("__init__", "__main__") or dst in ("", "__init__") or src == dst:
            continue  # the package's own modules, the version string, python -m kaipai
        if rank[dst] >= rank[src]:
            wrong.append(f"{where}:{line} imports {target} ({src} is layer {rank[src]}, {dst} is layer {rank[dst]})")
    assert not wrong, "imports that go up or sideways:\n" + "\n".join(wrong)


def test_no_two_packages_import_each_other() -> None:
    edges = {
        (source_package(w), package_of(t))
        for w, t, _ in imports()
        if package_of(t) and source_package(w) != package_of(t)
    }
    cycles = sorted(f"{a} <-> {b}" for a, b in edges if (b, a) in edges and a < b)
    assert not cycles, cycles


def test_no_module_reaches_into_another_modules_private_names() -> None:
    private = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kaipai"):
                private += [
                    f"{path.relative_to(SRC)}:{node.lineno} {node.module}.{a.name}"
                    for a in node.names
                    if a.name.startswith("_") and not a.name.startswith("__")
                ]
    assert not private, private


def test_modules_stay_small_or_say_why() -> None:
    long = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > 600 and "long because" not in doc.lower():
            long.append(f"{path.relative_to(SRC)}: {text.count(chr(10))} lines")
    assert not long, f"split these, or say in the docstring why they are long: {long}"
