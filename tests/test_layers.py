"""The import graph of the project's packages: no circles, and layers that point one way.

Every import counts, at module level, inside functions and under `if TYPE_CHECKING:` alike: a
function-local or type-only import that closes a circle only hides it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fupin.settings import PROJECT_ROOT

PACKAGES = ("bot", "fupin", "actions", "nlu", "web")
# Generated migration scripts are not part of any layer.
EXCLUDED = (Path("fupin/migrations/versions"),)
WEB = ("aiohttp", "sanic", "httpx", "fastapi", "flask", "starlette")


@dataclass(frozen=True)
class Import:
    """One import statement: the importing module, what it imports, and where."""

    module: str
    target: str  # a project module when it names one (`from bot.telegram import texts` → bot.telegram.texts)
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _sources() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
            relative = path.relative_to(PROJECT_ROOT)
            if not any(relative.is_relative_to(excluded) for excluded in EXCLUDED):
                found[_module_name(path)] = path
    return found


def _imports(module: str, path: Path, modules: set[str]) -> Iterator[Import]:
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield Import(module, submodule if submodule in modules else base, node.lineno)


def _all_imports() -> list[Import]:
    sources = _sources()
    modules = set(sources)
    return [found for module, path in sources.items() for found in _imports(module, path, modules)]


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    # Tarjan's strongly connected components; every component of two or more modules is a circle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _violations(importers: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    return [
        f"{found.module}:{found.line} imports {found.target}"
        for found in _all_imports()
        if _within(found.module, importers)
        and not any(_within(found.module, exempt) for exempt in allowed)
        and any(_within(found.target, prefix) for prefix in forbidden)
    ]


def test_the_graph_sees_the_packages() -> None:
    imports = _all_imports()
    assert {found.module.split(".")[0] for found in imports} == set(PACKAGES)
    # Submodules are resolved, and function-local imports are seen.
    assert any(found.target == "bot.telegram.texts" for found in imports)
    assert any(_within(found.module, "bot.dialogue") and _within(found.target, "rasa") for found in imports)


def test_no_import_circles() -> None:
    modules = set(_sources())
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for found in _all_imports():
        if found.target in modules and found.target != found.module:
            graph[found.module].add(found.target)
    assert _cycles(graph) == []


def test_the_domain_knows_no_channel_dialogue_or_web() -> None:
    assert _violations("fupin", ("bot", "actions", "nlu", "rasa", "rasa_sdk", "telegram", *WEB)) == []


def test_actions_know_no_channel() -> None:
    assert _violations("actions", ("bot", "telegram")) == []


@pytest.mark.parametrize("front_end", ["bot.telegram", "bot.cli", "bot.console"])
def test_front_ends_reach_rasa_only_through_the_dialogue(front_end: str) -> None:
    assert _violations(front_end, ("rasa", "rasa_sdk")) == []


def test_only_the_dialogue_package_of_bot_imports_rasa() -> None:
    assert _violations("bot", ("rasa", "rasa_sdk"), allowed=("bot.dialogue",)) == []


def test_the_web_console_calls_the_domain_only() -> None:
    assert _violations("web", ("bot", "actions", "nlu", "rasa", "rasa_sdk", "telegram")) == []


def test_the_telegram_front_end_stays_out_of_the_command_line() -> None:
    assert _violations("bot.telegram", ("bot.cli",)) == []
