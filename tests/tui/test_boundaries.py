"""The dashboard talks to the engine only through core.service: no store, engine or provider imports."""

from __future__ import annotations

import ast
from pathlib import Path

import tui_updater.tui

ALLOWED = ("tui_updater.core", "tui_updater.errors", "tui_updater.tui")


def test_tui_imports_only_the_service_interface() -> None:
    root = Path(tui_updater.tui.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name.startswith("tui_updater") and not name.startswith(ALLOWED):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
