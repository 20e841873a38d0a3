"""What the docs state about the code, checked against the code.

The command table against the parser, the error-code table against the error classes, every
variable in `.env.example` against the settings, the code map against the tree, and every
link between the docs against the files.
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pytest

from meeting_storage.cli.main import build_parser
from meeting_storage.core import errors
from tests.conftest import PROJECT_ROOT

DOCS = PROJECT_ROOT / "docs"
CLI_DOC = DOCS / "cli.md"
ARCHITECTURE_DOC = DOCS / "architecture.md"
MAPPED_FOLDERS = ("meeting_storage", "ui", "pages")
# Codes that belong to a face rather than to an error class.
FACE_CODES = {"usage"}


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """The body rows of the Markdown table whose header row starts with `header`."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
        rows.append([cell.strip() for cell in cells])
    return rows


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def parser_commands() -> dict[tuple[str, ...], argparse.ArgumentParser]:
    found: dict[tuple[str, ...], argparse.ArgumentParser] = {}
    for name, parser in subcommands(build_parser()).items():
        nested = subcommands(parser)
        if nested:
            found.update({(name, sub): child for sub, child in nested.items()})
        else:
            found[(name,)] = parser
    return found


def documented_commands() -> dict[tuple[str, ...], str]:
    """Each command of the table's first column, with the usage text written for it."""
    found = {}
    for row in table_rows(CLI_DOC.read_text(encoding="utf-8"), "| command |"):
        for usage in re.findall(r"`([^`]+)`", row[0]):
            words = []
            for word in usage.split():
                if not re.fullmatch(r"[a-z][a-z0-9-]*", word):
                    break
                words.append(word)
            found[tuple(words)] = usage
    return found


def documented_options(usage: str) -> set[str]:
    return set(re.findall(r"--[a-z][a-z0-9-]*", usage))


def parser_options(parser: argparse.ArgumentParser) -> set[str]:
    return {option for action in parser._actions for option in action.option_strings}


def error_codes() -> set[str]:
    codes = set()
    pending: list[type[errors.MeetingStorageError]] = [errors.MeetingStorageError]
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        if cls is not errors.MeetingStorageError:
            codes.add(cls.code)
    return codes


def test_the_table_parser_reads_tables() -> None:
    rows = table_rows("text\n| a | b |\n|---|---|\n| `x \\| y` | 2 |\n\nafter", "| a |")
    assert rows == [["`x \\| y`", "2"]]


def test_every_command_is_documented_and_every_documented_command_exists() -> None:
    documented = documented_commands()
    commands = parser_commands()
    assert sorted(documented) == sorted(commands)


@pytest.mark.parametrize("command", sorted(documented_commands()), ids=" ".join)
def test_documented_options_exist(command: tuple[str, ...]) -> None:
    usage = documented_commands()[command]
    parser = parser_commands()[command]
    missing = documented_options(usage) - parser_options(parser)
    assert missing == set(), f"`{usage}` documents options the parser does not have"


def test_the_error_code_table_matches_the_error_classes() -> None:
    rows = table_rows(CLI_DOC.read_text(encoding="utf-8"), "| code |")
    documented = {row[0].strip("`") for row in rows}
    assert documented - FACE_CODES == error_codes()


def settings_variables() -> set[str]:
    """The environment variable names the settings module reads (string literals in calls)."""
    tree = ast.parse((PROJECT_ROOT / "meeting_storage/core/settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            for argument in node.args:
                if (
                    isinstance(argument, ast.Constant)
                    and isinstance(argument.value, str)
                    and re.fullmatch(r"[A-Z][A-Z0-9_]{3,}", argument.value)
                ):
                    names.add(argument.value)
    return names


def example_variables() -> set[str]:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_the_settings_scan_finds_what_settings_read() -> None:
    assert {
        "S3_BUCKET_NAME",
        "AWS_REGION",
        "INDEX_BACKEND",
        "MAX_UPLOAD_MB",
    } <= settings_variables()


def test_env_example_names_every_setting_and_only_settings() -> None:
    assert sorted(example_variables()) == sorted(settings_variables())


def mapped_paths() -> set[str]:
    """The files and folders of the code map in docs/architecture.md, as paths."""
    text = ARCHITECTURE_DOC.read_text(encoding="utf-8")
    block = text.split("<!-- code map -->", 1)[1].split("```", 2)[1]
    paths: set[str] = set()
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        name = line.split()[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "/".join([folder for _, folder in stack] + [name.rstrip("/")])
        paths.add(path)
        if name.endswith("/"):
            stack.append((indent, name.rstrip("/")))
    return paths


def tree_modules() -> set[str]:
    return {
        path.relative_to(PROJECT_ROOT).as_posix()
        for folder in MAPPED_FOLDERS
        for path in (PROJECT_ROOT / folder).rglob("*.py")
        if path.name != "__init__.py"
    }


def test_the_code_map_names_every_module() -> None:
    missing = tree_modules() - mapped_paths()
    assert missing == set(), f"docs/architecture.md does not map {sorted(missing)}"


def test_everything_in_the_code_map_exists() -> None:
    stale = {path for path in mapped_paths() if not (PROJECT_ROOT / path).exists()}
    assert stale == set(), f"docs/architecture.md maps files that do not exist: {sorted(stale)}"


@pytest.mark.parametrize(
    "page", [PROJECT_ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name
)
def test_links_between_documents_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" in target:
            continue
        if not (page.parent / target).exists():
            broken.append(target)
    assert broken == [], f"{page.name} links to missing files: {broken}"


@pytest.mark.parametrize(
    "page", [PROJECT_ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=lambda p: p.name
)
def test_source_paths_named_in_the_docs_exist(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    named = set(re.findall(r"\b(?:meeting_storage|ui|pages|tests|bench)/[\w/]+\.py\b", text))
    missing = sorted(path for path in named if not (PROJECT_ROOT / path).exists())
    assert missing == [], f"{page.name} names files that do not exist: {missing}"
