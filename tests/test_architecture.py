"""The dependency direction handlers → bot → storage, checked on the source."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The CLI and the demo are the composition root: they wire Bolt listeners to the domain.
COMPOSITION_ROOT = {"bot/cli.py", "bot/demo.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("path", sources("bot"), ids=str)
def test_the_domain_never_imports_bolt_or_the_handlers(path: Path) -> None:
    if str(path.relative_to(ROOT)) in COMPOSITION_ROOT:
        return
    assert not imported_modules(path) & {"slack_bolt", "handlers"}


@pytest.mark.parametrize("path", sources("storage"), ids=str)
def test_storage_depends_on_nothing_above_it(path: Path) -> None:
    assert not imported_modules(path) & {"slack_bolt", "slack_sdk", "handlers", "bot"}


@pytest.mark.parametrize("path", sources("handlers"), ids=str)
def test_handlers_build_no_queries(path: Path) -> None:
    assert not imported_modules(path) & {"sqlmodel"}
    assert "select(" not in path.read_text()
