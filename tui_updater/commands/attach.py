"""Become the state dir's owner, or attach to the process that is: every command starts here.

The first process opens the engine (and serves it on the control socket); any other gets a
RemoteService over the owner's Unix socket. While the owner is still starting (its socket not
yet listening) or has just exited (its lock free again), this waits and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

from tui_updater.config import Settings
from tui_updater.errors import TavernError
from tui_updater.ownership import OwnerInfo, StateDirOwned

ATTACH_PATIENCE_S = 30.0
CONTROL_URL = "http://localhost"  # the Host the control app is served as; the socket is the route


@dataclass
class Attached:
    """What a command works through: this process's own runtime, or the owner's service."""

    service: Any  # core.service.UpdaterService
    runtime: Any = None  # runtime.Runtime when this process owns the state dir
    owner: OwnerInfo | None = None  # the owner attached to, when not

    async def aclose(self) -> None:
        if self.runtime is not None:
            await self.runtime.close()
        else:
            with contextlib.suppress(Exception):
                await self.service.aclose()


async def own_or_attach(
    settings: Settings, *, mode: str, attach: bool = True, patience_s: float = ATTACH_PATIENCE_S
) -> Attached:
    """Own the state dir, or (``attach``) connect to its owner; StateDirOwned when not allowed."""
    from tui_updater.commands.startup import open_runtime

    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    while True:
        try:
            runtime = await open_runtime(settings, mode=mode)
            return Attached(runtime.service, runtime=runtime)
        except StateDirOwned as owned:
            if not attach or (owned.owner is None and loop.time() > deadline):
                raise
            if owned.owner is not None:
                from tui_updater.server.client import RemoteService

                remote = RemoteService(CONTROL_URL, None, uds=owned.owner.socket)
                try:
                    await remote.info()
                    return Attached(remote, owner=owned.owner)
                except TavernError:
                    await remote.aclose()
                    if loop.time() > deadline:
                        raise owned from None
        await asyncio.sleep(0.05)  # the owner is starting up or shutting down
