"""The import graph between the project's modules: no circle, no arrow from a lower layer up.

Every import counts, the ones inside functions too: a function-local import is still a
dependency a reader has to follow, and where circles hide.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("twinzoo", "torch_models", "keras_models", "conformance", "export", "benchmark")

# (module prefix, layer): a module may import only from its own part or from a lower layer;
# parts on one layer are siblings and do not see each other. The longest prefix names the part.
LAYERS: tuple[tuple[str, int], ...] = (
    ("twinzoo", 0),
    ("torch_models", 1), ("keras_models", 1),
    ("conformance", 2),                 # the package's __init__: environment and catalogue only
    ("conformance.lib", 3),             # what export and benchmark use of conformance
    ("conformance.checks", 4), ("export", 4),
    ("conformance.port", 5),            # a port's certificate runs the checks on the ported weights
    ("conformance.selftest", 5), ("export.cli", 5),
    ("conformance.cli", 6), ("benchmark", 6),
)


def part_of(module: str) -> str:
    """The part a module belongs to (``X.__main__`` runs ``X.cli``: one part)."""
    module = module.removesuffix(".__main__") + ".cli" if module.endswith(".__main__") else module
    best = ""
    for prefix, _ in LAYERS:
        if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return best


def layer_of(module: str) -> int:
    return dict(LAYERS)[part_of(module)]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The project modules ``path`` imports anywhere in its body, resolved to module names
    (``from pkg import mod`` names the module ``pkg.mod`` when it is one)."""
    me = module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != me:
                found.add(target)
    return found


def import_graph() -> nx.DiGraph:
    paths = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    modules = {module_name(p) for p in paths}
    graph = nx.DiGraph()
    graph.add_nodes_from(modules)
    for path in paths:
        for target in imports_of(path, modules):
            graph.add_edge(module_name(path), target)
    return graph


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    return import_graph()


def test_every_module_has_a_layer(graph):
    assert not [m for m in graph if not part_of(m)]


def test_no_import_circle(graph):
    circles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not circles, f"modules that import each other, directly or around a circle: {circles}"


def test_no_arrow_up_or_sideways(graph):
    bad = sorted(f"{a} -> {b} ({part_of(a)} {layer_of(a)} -> {part_of(b)} {layer_of(b)})"
                 for a, b in graph.edges if part_of(a) != part_of(b) and layer_of(b) >= layer_of(a))
    assert not bad, "imports that go up a layer or across to a sibling:\n" + "\n".join(bad)


def test_the_scan_sees_local_and_relative_imports(tmp_path):
    """The scanner itself: a function-local import and a relative one are both edges."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n    return b\n")
    (pkg / "b.py").write_text("import pkg.a\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        modules = {"pkg", "pkg.a", "pkg.b"}
        assert imports_of(pkg / "a.py", modules) == {"pkg.b"}
        assert imports_of(pkg / "b.py", modules) == {"pkg.a"}
    finally:
        ROOT = saved
