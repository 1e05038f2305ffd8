"""The dashboard mode (default): the engine in the same event loop, or --connect to a server."""

from __future__ import annotations

import asyncio
import inspect
import sys
from typing import Any

from tui_updater.config import Settings
from tui_updater.errors import TavernError

EXIT_BAD_INPUT = 2


def dashboard_command(settings: Settings, *, connect_url: str | None, token: str | None) -> int:
    """Run the dashboard until the user quits; 2 with a one-line error when it cannot start."""
    from tui_updater.logs import setup_logging

    # Never write to stderr while the TUI owns the terminal: records go to the log file.
    setup_logging(level=settings.log_level, log_dir=settings.log_dir, stderr=False)
    if connect_url:
        try:
            from tui_updater.server.client import RemoteService  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            print("error: --connect is not available yet", file=sys.stderr)
            return EXIT_BAD_INPUT
        return asyncio.run(_run_remote(RemoteService, connect_url, token))
    return asyncio.run(_run_local(settings))


async def _run_local(settings: Settings) -> int:
    """The engine in this process, or (when another process owns the state dir) that owner's."""
    from tui_updater.commands.attach import own_or_attach

    try:
        attached = await own_or_attach(settings, mode="dashboard")
    except TavernError as exc:  # ConfigError, CharacterDbError, …: one line, no traceback
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from tui_updater.tui.app import TavernApp

    app = TavernApp(attached.service, remote=attached.runtime is None)
    try:
        await app.run_async()
    finally:
        # An own engine's running tasks are interrupted here and resume on the next start.
        await attached.aclose()
    return int(app.return_code or 0)


async def _maybe_await(value: Any) -> None:
    if inspect.isawaitable(value):
        await value


async def _run_remote(remote_cls: Any, url: str, token: str | None) -> int:
    service = remote_cls(url, token)
    try:
        await service.info()  # fail fast with one line when the server is not there
    except TavernError as exc:
        print(f"error: cannot connect to {url}: {exc}", file=sys.stderr)
        await _close(service)
        return EXIT_BAD_INPUT
    from tui_updater.tui.app import TavernApp

    app = TavernApp(service, remote=True)
    try:
        await app.run_async()
    finally:
        await _close(service)
    return int(app.return_code or 0)


async def _close(service: Any) -> None:
    for closer in ("aclose", "close"):
        if hasattr(service, closer):
            await _maybe_await(getattr(service, closer)())
            return
