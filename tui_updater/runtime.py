"""The composition root: builds the store, provider, character database, backups and engine.

This is the only module that names concrete implementations.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tui_updater import __version__
from tui_updater.config import Settings, ensure_dirs
from tui_updater.core.service import ServiceInfo
from tui_updater.engine.clock import Clock, RealClock, WallClock
from tui_updater.engine.engine import Engine
from tui_updater.engine.schedules import Scheduler
from tui_updater.engine.service import LocalService
from tui_updater.errors import ConfigError
from tui_updater.tasks.resources import TaskResources

if TYPE_CHECKING:
    from tui_updater.characters.backups import BackupStore
    from tui_updater.control import ControlSocket
    from tui_updater.ownership import OwnerLock


def build_provider(settings: Settings) -> Any:
    """The offline provider when no gateway is configured (or --offline), else the gateway."""
    if settings.use_offline_provider:
        from tui_updater.providers.offline import OfflineProvider

        return OfflineProvider()
    from tui_updater import process

    process.import_aiohttp()  # before the provider's modules import it their way
    from tui_updater.providers.openai_compat import OpenAICompatProvider

    return OpenAICompatProvider(settings.provider)


def open_backups(settings: Settings) -> BackupStore:
    """The backup directory's store (list, restore, prune to ``backups_keep``)."""
    from tui_updater.characters.backups import BackupStore

    return BackupStore(settings.backup_dir, keep=settings.backups_keep)


def service_info(settings: Settings, provider: Any) -> ServiceInfo:
    described = provider.describe() if hasattr(provider, "describe") else {}
    info = ServiceInfo(
        database=str(settings.db_path.resolve()),
        demo=settings.demo,
        provider=str(described.get("name", getattr(provider, "name", "offline"))),
        online=bool(getattr(provider, "online", False)),
        chat_model=str(getattr(provider, "chat_model", "")),
        image_model=str(getattr(provider, "image_model", "")),
        version=__version__,
    )
    extra: dict[str, Any] = {}  # extra keys of the header's info (see ServiceInfo)
    if settings.provider.prices:
        extra["prices"] = settings.provider.prices
    if settings.site_name:
        extra["siteName"] = settings.site_name
    if extra:
        info = ServiceInfo.from_json({**info.to_json(), **extra})
    return info


# Commands that own the state dir only for a moment keep schedules but never fire them: a rule
# fires in the dashboard or --serve that keeps running (and the next one to start).
ONE_SHOT_MODES = ("run", "schedules")


@dataclass
class Runtime:
    """Everything one process runs, opened and closed together."""

    settings: Settings
    engine: Engine
    service: LocalService
    resources: TaskResources
    store: Any
    scheduler: Scheduler | None = None
    owner: OwnerLock | None = None
    control: ControlSocket | None = None

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        synchronous: str = "FULL",
        mode: str = "engine",
        control: bool = True,
    ) -> Runtime:
        """Own the state dir (StateDirOwned when another process does), open everything, and
        serve the engine on the control socket so other processes become its clients (the
        server is built on the first connection: see ``tui_updater.control``)."""
        from tui_updater.ownership import OwnerLock

        ensure_dirs(settings)
        owner = OwnerLock.acquire(settings.state_dir, mode=mode)
        try:
            runtime = await cls._open_owned(settings, clock=clock, synchronous=synchronous)
        except BaseException:
            owner.release()
            raise
        runtime.owner = owner
        if mode not in ONE_SHOT_MODES and runtime.scheduler is not None:
            runtime.scheduler.start()
        if control:
            try:
                runtime.control = _serve_control(runtime, owner)
            except BaseException:
                await runtime.close()
                raise
        return runtime

    @classmethod
    async def _open_owned(
        cls, settings: Settings, *, clock: Clock | None, synchronous: str
    ) -> Runtime:
        from tui_updater.cards.service import CardExporter
        from tui_updater.characters.browse import CharacterBrowser
        from tui_updater.characters.db import CharacterDb
        from tui_updater.characters.demo import ensure_demo_db
        from tui_updater.characters.identity import BoundDatabase
        from tui_updater.store.sqlite import SqliteTaskStore
        from tui_updater.tasks.registry import default_registry

        if settings.demo:
            ensure_demo_db(
                settings.db_path.parent.parent
                if settings.db_path.parent.name == "demo"
                else settings.data_dir
            )
        elif not settings.db_path.is_file():
            raise ConfigError(
                f"character database {settings.db_path} does not exist (check --db or TAVERN_DB; --demo uses the bundled demo)"
            )
        # Built before tasks.db opens: a provider refusing its settings leaves no thread behind.
        provider = build_provider(settings)
        store = SqliteTaskStore(settings.tasks_db_path, synchronous=synchronous)
        try:
            await store.open()  # closes itself when it fails
        except BaseException:
            await provider.aclose()
            raise
        characters = None
        try:
            characters = await CharacterDb.open(settings.db_path, settings.characters, store)
            backups = open_backups(settings)
            resources = TaskResources(
                settings=settings, provider=provider, characters=characters, backups=backups
            )
            engine = Engine(
                store,
                default_registry(),
                resources,
                settings.engine,
                clock=clock,
                database=await BoundDatabase.of(characters),
            )
            # Only the state dir's owner gets here, so only it fires schedules.
            scheduler = Scheduler(
                engine, store, clock if isinstance(clock, WallClock) else RealClock()
            )
            service = LocalService(
                engine,
                service_info(settings, provider),
                backups=backups,
                characters=characters,
                browser=CharacterBrowser(characters, changes=store, avatar_dir=settings.avatar_dir),
                db_path=settings.db_path,
                gateway_state=getattr(provider, "gateway_state", None),
                cards=CardExporter(characters, settings.avatar_dir, settings.data_dir / "cards"),
                scheduler=scheduler,
            )
            await engine.start()
        except BaseException:
            if characters is not None:
                await characters.close()
            if provider is not None:
                await provider.aclose()
            await store.close()
            raise
        return cls(settings, engine, service, resources, store, scheduler)

    async def close(self) -> None:
        if self.control is not None:
            with contextlib.suppress(Exception):
                await self.control.aclose()
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                await self.scheduler.stop()
        with contextlib.suppress(Exception):
            await self.engine.stop()
        with contextlib.suppress(Exception):
            await self.resources.characters.close()
        with contextlib.suppress(Exception):
            await self.resources.provider.aclose()
        try:
            await self.store.close()
        finally:
            if self.owner is not None:
                self.owner.release()


def _serve_control(runtime: Runtime, owner: OwnerLock) -> ControlSocket:
    """The engine's REST + WebSocket app on the state dir's control socket (this user only)."""
    from tui_updater.control import ControlSocket

    settings = runtime.settings

    def make_app() -> Any:
        from tui_updater.server.app import create_app

        # The socket's 0600 mode is the access check; the loopback Host rule still applies.
        local = settings.server.model_copy(update={"host": "localhost", "token": None})
        return create_app(runtime.service, local, migrations_dir=settings.migrations_dir)

    owner.clear_stale_socket()
    return ControlSocket(owner.socket, make_app)
