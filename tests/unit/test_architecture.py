"""The shape of chalicelib/, held by tests that fail on the first import that breaks it.

- Data flows one way: no two packages of chalicelib/ import each other, directly or round a
  longer loop, counting imports inside functions too.
- Only the modules that own tables or clients (``*store*``, ``repository``, ``models``,
  ``aws.py``, ``db.py``) import pynamodb or boto3; services and pure code do not.
- The Env is built in one place, the runtime; the city is the directory's top district,
  never a literal.
"""

from __future__ import annotations

import ast
import graphlib
import re
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIB = ROOT / "chalicelib"
ADAPTERS = re.compile(r"(store|repository|models)\.py$|^chalicelib/(aws|db)\.py$")


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(LIB.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path) -> list[str]:
    """Every module this one imports, at any depth of its code (function bodies included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            out.append(module)
            out += [f"{module}.{a.name}" for a in node.names]
    return out


def node_of(module: str) -> str | None:
    """The package-level node: ``chalicelib.sla.sweep`` → ``sla``; top-level modules are their own."""
    parts = module.split(".")
    return parts[1] if parts[0] == "chalicelib" and len(parts) > 1 else None


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    nodes = {node_of(name) for name in modules()} - {None}
    for name, path in modules().items():
        here = node_of(name)
        if here is None or name.endswith(".__main__"):
            continue  # a command-line entry point composes the runtime, like app.py: above everything
        graph[here]
        for target in imports(name, path):
            there = node_of(target)
            if there in nodes and there != here:
                graph[here].add(there)
    return graph


def test_no_package_imports_one_that_imports_it_back():
    graph = package_graph()
    assert {"petitions", "intake", "notify", "sla", "runtime", "unit_of_work"} <= set(graph)
    try:
        order = list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        pytest.fail(f"import cycle between packages: {' → '.join(cycle.args[1])}")
    # and the layering reads as DESIGN.md says: features below the unit of work, it below the runtime
    assert order.index("petitions") < order.index("unit_of_work") < order.index("runtime")
    assert order.index("timing") < order.index("petitions") < order.index("sla") < order.index("unit_of_work")


def test_the_cycle_check_sees_a_cycle_inside_a_function():
    """The checker itself: a function-level import that closes a loop is reported."""
    graph = package_graph()
    graph["timing"].add("petitions")  # as if timing/stage.py imported petitions inside a function
    with pytest.raises(graphlib.CycleError):
        list(graphlib.TopologicalSorter(graph).static_order())


def test_only_stores_and_adapters_import_pynamodb_or_boto3():
    offenders = []
    for name, path in modules().items():
        rel = str(path.relative_to(ROOT))
        if ADAPTERS.search(rel) or name.startswith("chalicelib.local"):
            continue  # chalicelib/local builds the emulated cloud itself
        for target in imports(name, path):
            if target.split(".")[0] in ("pynamodb", "boto3", "botocore"):
                offenders.append(f"{rel} imports {target}")
    assert offenders == []


def test_the_env_is_built_only_by_the_runtime():
    builders = [
        str(path.relative_to(ROOT))
        for name, path in modules().items()
        if re.search(r"(?<![\w.])Env\(", path.read_text(encoding="utf-8")) and not name.endswith("domain")
    ]
    assert builders == ["chalicelib/runtime.py"]


def test_the_city_code_is_data_not_a_literal():
    literal = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in modules().values()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "210900" in line and not line.lstrip().startswith("#")
    ]
    # the local stage's command-line help names a seeded city operator; nothing decides by it
    assert all(where.startswith(("chalicelib/local/", "chalicelib/sla/calendars.py")) for where in literal), (
        literal
    )
