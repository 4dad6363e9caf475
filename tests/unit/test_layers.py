"""The layers run one way: read every import statement under bot/ and check who imports whom.

listeners -> services and jobs -> domain types and db; views are pure builders; the matcher
stands alone. Imports inside functions and under TYPE_CHECKING count too: they are still a
dependency, and a function-level import is the usual way a cycle gets hidden.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot

PACKAGE = Path(bot.__file__).resolve().parent
REPO = PACKAGE.parent

# Each layer (a folder under bot/) and what it must not import; its own modules it always may.
# Jobs talk to Slack, so slack_sdk is theirs; the matcher may import nothing else from bot.
RULES: dict[str, tuple[str, ...]] = {
    "services": ("bot.views", "bot.listeners", "slack_sdk", "slack_bolt"),
    "jobs": ("bot.views", "bot.listeners", "slack_bolt"),
    "views": ("bot.services", "bot.jobs", "bot.listeners", "sqlalchemy", "db"),
    "matching": ("bot", "sqlalchemy", "db", "slack_sdk", "slack_bolt"),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path, module: str) -> Iterator[tuple[int, str]]:
    """Each module (or module.attribute) a file imports, with its line, relative ones resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}".rstrip(".")
            yield from ((node.lineno, f"{base}.{alias.name}") for alias in node.names)


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def offending_imports(layer: str) -> list[str]:
    own = f"bot.{layer}"
    offences = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, name in imported_names(path, module_name(path)):
            if within(name, own):
                continue
            for prefix in RULES[layer]:
                if within(name, prefix):
                    where = path.relative_to(REPO)
                    offences.append(f"{where}:{line} imports {name} (not allowed: {prefix})")
    return offences


@pytest.mark.parametrize(
    "layer",
    ["services", "jobs", "views", "matching"],
)
def test_a_layer_imports_nothing_above_it_or_beside_it(layer: str) -> None:
    offences = offending_imports(layer)
    assert not offences, f"bot/{layer} breaks the layering rule:\n" + "\n".join(offences)


def test_the_check_reads_relative_function_level_and_type_only_imports(tmp_path: Path) -> None:
    # The rule above must not pass just because it cannot see an import.
    source = tmp_path / "engine.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import model\n"
        "from ..views.blocks import section\n"
        "if TYPE_CHECKING:\n"
        "    import sqlalchemy.orm\n"
        "def run() -> None:\n"
        "    from db import models\n"
    )
    names = [name for _, name in imported_names(source, "bot.matching.engine")]
    assert names == [
        "typing.TYPE_CHECKING",
        "bot.matching.model",
        "bot.views.blocks.section",
        "sqlalchemy.orm",
        "db.models",
    ]
