"""What is actually loaded at run time, which the static import-linter contracts in
pyproject.toml cannot see: imports made through importlib or plug-ins, and ``--help`` staying lazy."""

from __future__ import annotations

import subprocess
import sys


def test_engine_imports_neither_textual_nor_httpx():
    code = (
        "import sys, tui_updater.engine.engine, tui_updater.engine.service, tui_updater.engine.bus;"
        "bad = [m for m in ('textual', 'httpx', 'starlette', 'aiosqlite', 'uvicorn') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_is_lazy():
    code = (
        "import sys; from tui_updater.cli import build_parser; build_parser();"
        "print(','.join(m for m in ('textual', 'httpx', 'aiosqlite', 'starlette') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
