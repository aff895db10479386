"""The shape of the code, checked on the source: layers point one way and nothing imports in a
circle.

    handlers (Bolt edge, wiring) → bot (domain) → storage
    sandbox (the fake Slack) stands alone; only handlers' demo and the tests use it
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "sandbox", "storage")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every module `path` imports, as dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top_levels(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imports(path)}


@pytest.mark.parametrize("path", sources("bot"), ids=str)
def test_the_domain_never_imports_bolt_the_edge_or_the_fake(path: Path) -> None:
    assert not top_levels(path) & {"slack_bolt", "handlers", "sandbox"}


@pytest.mark.parametrize("path", sources("storage"), ids=str)
def test_storage_depends_on_nothing_above_it(path: Path) -> None:
    """Of slack-sdk, only its OAuth stores: they are storage (installations, in our database)."""
    assert not top_levels(path) & {"slack_bolt", "handlers", "bot", "sandbox"}
    slack = {target for target in imports(path) if target.split(".")[0] == "slack_sdk"}
    assert all(target.startswith("slack_sdk.oauth.") for target in slack)


@pytest.mark.parametrize("path", sources("sandbox"), ids=str)
def test_the_fake_slack_knows_nothing_of_rolecall(path: Path) -> None:
    assert not top_levels(path) & {"bot", "handlers", "storage"}


@pytest.mark.parametrize("path", sources("handlers"), ids=str)
def test_handlers_build_no_queries(path: Path) -> None:
    assert not top_levels(path) & {"sqlmodel"}
    assert "select(" not in path.read_text()


def test_no_module_imports_itself_in_a_circle() -> None:
    modules = {module_name(p): p for package in PACKAGES for p in sources(package)}
    graph = {
        name: {target for target in imports(path) if target in modules and target != name}
        for name, path in modules.items()
    }
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str], done: set[str]) -> None:
        if name in trail:
            cycles.append([*trail[trail.index(name) :], name])
            return
        if name in done:
            return
        for target in sorted(graph[name]):
            visit(target, [*trail, name], done)
        done.add(name)

    finished: set[str] = set()
    for name in sorted(graph):
        visit(name, [], finished)
    assert cycles == []
