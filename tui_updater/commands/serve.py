"""``--serve``: the headless engine behind REST + WebSocket, until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from tui_updater.config import Settings
from tui_updater.errors import TavernError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
logger = logging.getLogger("tui_updater")


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def serve(settings: Settings, *, stop: asyncio.Event | None = None) -> int:
    """Open the runtime, serve until ``stop`` is set (or a signal arrives), then shut down cleanly."""
    from tui_updater.commands.startup import open_runtime
    from tui_updater.server.app import create_app
    from tui_updater.server.embedded import start_server

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    # Windows event loops have no signal handlers; there Ctrl-C ends the process directly.
    for signum in (signal.SIGINT, signal.SIGTERM) if sys.platform != "win32" else ():
        try:
            loop.add_signal_handler(signum, stop.set)
            installed.append(signum)
        except (RuntimeError, ValueError):
            pass  # not the main thread
    try:
        runtime = await open_runtime(settings, mode="serve")
    except BaseException:
        for signum in installed:
            loop.remove_signal_handler(signum)
        raise
    try:
        app = create_app(runtime.service, settings.server, migrations_dir=settings.migrations_dir)
        try:
            running = await start_server(app, settings.server.host, settings.server.port)
        except OSError as exc:
            logger.error("%s", exc)
            return EXIT_FAILED
        info = await runtime.service.info()
        demo = " (demo database)" if info.demo else ""
        logger.info("database: %s%s; provider: %s", info.database, demo, info.provider)
        logger.info("server listening on %s", _url(settings.server.host, running.port))
        if settings.server.token:
            logger.info("every request needs 'Authorization: Bearer <token>'")
        await stop.wait()
        logger.info(
            "shutting down: closing connections, interrupting running tasks (they resume on the next start)"
        )
        running.stop_accepting()
        await app.state.hub.aclose()  # WebSocket clients get close code 1001
        await running.stop()
    finally:
        await runtime.close()
        for signum in installed:
            loop.remove_signal_handler(signum)
    logger.info("server stopped")
    return EXIT_OK


def serve_command(settings: Settings) -> int:
    from tui_updater.logs import setup_logging
    from tui_updater.server.security import check_bind

    setup_logging(
        level=settings.log_level, log_dir=settings.log_dir, stderr=True, silent=settings.silent
    )
    try:
        check_bind(settings.server)
    except TavernError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return asyncio.run(serve(settings))
    except TavernError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return EXIT_OK
