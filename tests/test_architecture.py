"""Rules about the package's structure that import-linter cannot state.

The layers and the faces' boundaries are import-linter contracts in pyproject.toml
(`make lint`); here: no import cycle between any two modules (counting imports under
TYPE_CHECKING and inside functions), and only the settings read the environment.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

import meeting_storage

PACKAGE = Path(meeting_storage.__file__).resolve().parent
MODULES = sorted(PACKAGE.rglob("*.py"))
ENVIRONMENT_READERS = {"environ", "environb", "getenv", "getenvb"}


def relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_modules(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def environment_reads(tree: ast.Module) -> list[str]:
    """`os.environ`, `os.getenv(...)` and `from os import environ/getenv`, with line numbers."""
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_READERS
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            found.append(f"line {node.lineno}: os.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [
                f"line {node.lineno}: from os import {alias.name}"
                for alias in node.names
                if alias.name in ENVIRONMENT_READERS
            ]
    return found


def test_the_scan_sees_the_whole_package() -> None:
    names = {relative(path) for path in MODULES}
    assert {
        "meeting_storage/core/settings.py",
        "meeting_storage/service/facade.py",
        "meeting_storage/index/s3json.py",
        "meeting_storage/analysis/extract.py",
    } <= names


def test_the_detectors_detect() -> None:
    """The checks below would be worthless if the detectors never fired."""
    sample = ast.parse(
        "import os\nimport streamlit as st\nfrom streamlit.components import v1\n"
        "from os import getenv\nx = os.environ['A']\ny = os.getenv('B')\n"
    )
    assert imported_modules(sample) == ["os", "streamlit", "streamlit.components", "os"]
    assert environment_reads(sample) == [
        "line 4: from os import getenv",
        "line 5: os.environ",
        "line 6: os.getenv",
    ]
    assert environment_reads(
        parse(PACKAGE / "core" / "settings.py")
    )  # it really reads the environment


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if p.name != "settings.py" or p.parent != PACKAGE / "core"],
    ids=relative,
)
def test_only_settings_reads_the_environment(path: Path) -> None:
    reads = environment_reads(parse(path))
    assert reads == [], f"{relative(path)} reads the environment ({reads}); use Settings"


def import_cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), i.e. import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(modules):
        if module not in index:
            visit(module)
    return cycles


def test_the_cycle_finder_finds_cycles() -> None:
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d")]:
        graph.add_import(importer=importer, imported=imported)
    assert import_cycles(graph, set(graph.modules)) == [["p.a", "p.b", "p.c"]]


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph("meeting_storage", exclude_type_checking_imports=False)
    modules = set(graph.modules)
    assert import_cycles(graph, modules) == []


CLIENT_HOLDERS = ("storage", "index", "analysis", "queue")  # the backends: boto3 clients


def client_uses(tree: ast.Module) -> list[str]:
    """`something.client` and `something._client`, with line numbers."""
    return [
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"client", "_client"}
    ]


def test_the_client_detector_detects() -> None:
    assert client_uses(ast.parse("x = storage.audio.client.head_bucket()")) == ["line 1: .client"]


@pytest.mark.parametrize(
    "path",
    [p for p in MODULES if p.relative_to(PACKAGE).parts[0] not in CLIENT_HOLDERS],
    ids=relative,
)
def test_only_the_backends_touch_a_boto3_client(path: Path) -> None:
    uses = client_uses(parse(path))
    assert uses == [], (
        f"{relative(path)} reaches into a backend's client ({uses}); use the storage's own "
        "methods, or `storage.bucket` for the bucket's configuration"
    )
