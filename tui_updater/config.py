"""Settings: defaults < config.toml < environment < command line, and the platformdirs paths."""

from __future__ import annotations

import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from tui_updater.errors import ConfigError

APP_NAME = "tavern-updater-tui"


def mask_secret(value: str | None) -> str:
    """Show that a secret is set without showing it."""
    if not value:
        return "(not set)"
    return f"{value[:3]}…{value[-2:]}" if len(value) > 12 else "****"


@dataclass(frozen=True)
class ProviderSettings:
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    chat_model: str = "gpt-4o-mini"
    image_model: str = "nano-banana"
    image_api: Literal["images", "chat"] = "images"
    max_in_flight: int = 64  # the gateway lane's starting (and highest) limit; it adapts below
    requests_per_minute: int = 0  # 0: no cap unless configured
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 180.0
    total_timeout_s: float = 300.0  # one whole exchange: connect + write + read
    download_timeout_s: float = 60.0  # one image download, start to last byte
    max_image_bytes: int = 20_000_000
    proxy: str | None = None  # else HTTP(S)_PROXY / ALL_PROXY / NO_PROXY from the environment
    mbti_batch_size: int = 10  # characters per MBTI request (1: one request each)
    # model -> {"input": per 1M prompt tokens, "output": per 1M completion tokens,
    #           "request": per request}, in the currency of the gateway's price list
    prices: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.base_url)


@dataclass(frozen=True)
class EngineSettings:
    max_running_tasks: int = 2
    item_max_attempts: int = 5
    task_max_attempts: int = 3
    retry_base_delay_s: float = 1.0
    retry_max_delay_s: float = 60.0
    retention_days: int = 30


@dataclass(frozen=True)
class CharacterSettings:
    table: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    avatar_public_prefix: str = "/uploads/characters/avatars/"
    avatar_size_px: int = 512


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    port: int = 3002
    token: str | None = field(default=None, repr=False)
    allow_origins: tuple[str, ...] = ()
    max_body_bytes: int = 1_048_576


@dataclass(frozen=True)
class Settings:
    db_path: Path
    demo: bool
    offline: bool
    state_dir: Path
    data_dir: Path
    log_dir: Path
    backup_dir: Path
    avatar_dir: Path
    migrations_dir: Path
    config_file: Path | None = None
    log_level: str = "info"
    silent: bool = False
    backups_keep: int = 10
    provider: ProviderSettings = field(default_factory=ProviderSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    characters: CharacterSettings = field(default_factory=CharacterSettings)
    server: ServerSettings = field(default_factory=ServerSettings)

    @property
    def tasks_db_path(self) -> Path:
        return self.state_dir / "tasks.db"

    @property
    def use_offline_provider(self) -> bool:
        return self.offline or not self.provider.configured

    def evolve(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def for_tests(cls, root: Path, **overrides: Any) -> Settings:
        """Settings rooted in a temporary directory, every directory created."""
        dirs = {
            name: root / name
            for name in ("state", "data", "log", "backups", "avatars", "migrations")
        }
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        base = cls(
            db_path=root / "dev.db",
            demo=False,
            offline=True,
            state_dir=dirs["state"],
            data_dir=dirs["data"],
            log_dir=dirs["log"],
            backup_dir=dirs["backups"],
            avatar_dir=dirs["avatars"],
            migrations_dir=dirs["migrations"],
            engine=EngineSettings(retry_base_delay_s=0.01, retry_max_delay_s=0.05),
        )
        return replace(base, **overrides)


# --- loading ---------------------------------------------------------------------------------


def default_paths() -> dict[str, Path]:
    from platformdirs import PlatformDirs

    dirs = PlatformDirs(APP_NAME, appauthor=False)
    return {
        "config_dir": Path(dirs.user_config_dir),
        "state_dir": Path(dirs.user_state_dir),
        "data_dir": Path(dirs.user_data_dir),
        "log_dir": Path(dirs.user_log_dir),
    }


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def _table(toml: Mapping[str, Any], section: str) -> dict[str, Any]:
    """A top-level config.toml table; ConfigError when the key holds something else."""
    value = toml.get(section, {})
    if not isinstance(value, dict):
        raise ConfigError(f"config.toml: {section} must be a table ([{section}])")
    return dict(value)


def _check_value(section: str, key: str, hint: Any, value: Any) -> Any:
    """``value`` checked against a settings field's type; ConfigError naming the key if wrong."""
    where = f"config.toml [{section}] {key}"
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _check_value(section, key, non_none[0], value) if len(non_none) == 1 else value
    if origin is Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where}: expected one of {choices}, got {value!r}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false")
        return value
    if hint is int or hint is float:
        whole = hint is int
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number")
        if whole and not isinstance(value, int):
            raise ConfigError(f"{where}: expected a whole number, got {value!r}")
        if value <= 0:
            raise ConfigError(f"{where}: must be greater than 0")
        if key == "port" and value > 65535:
            raise ConfigError(f"{where}: must be at most 65535")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string")
        return value
    if origin is dict:  # prices: model -> {input, output, request}
        ok = isinstance(value, dict) and all(
            isinstance(entry, dict)
            and set(entry) <= {"input", "output", "request"}
            and all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in entry.values()
            )
            for entry in value.values()
        )
        if not ok:
            raise ConfigError(
                f'{where}: expected tables like "model" = {{ input = 0.15, output = 0.6, request = 0 }}'
            )
        return {str(k): {n: float(v) for n, v in e.items()} for k, e in value.items()}
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings")
        return tuple(value)
    return value


def _coerce(section: str, cls: type, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a config.toml section against a settings dataclass; name unknown or bad keys."""
    known = {f.name: f for f in fields(cls)}
    hints = typing.get_type_hints(cls)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"config.toml [{section}]: unknown setting {key!r}; known: {', '.join(known)}"
            )
        out[key] = _check_value(section, key, hints[key], value)
    return out


def _env_number(env: Mapping[str, str], name: str, kind: type = int) -> Any:
    value = env.get(name)
    if value in (None, ""):
        return None
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(
            f"environment variable {name}: expected a number, got {value!r}"
        ) from None
    if number <= 0:
        raise ConfigError(f"environment variable {name}: must be greater than 0")
    return number


def load_settings(
    cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Layer defaults < config.toml < environment < command line into frozen Settings.

    ``cli`` keys: db, demo, offline, state_dir, data_dir, log_dir, backup_dir, avatar_dir,
    migrations_dir, config, log_level, silent, host, port, token, allow_origins.
    """
    cli = {k: v for k, v in (cli or {}).items() if v is not None}
    env = os.environ if env is None else env
    paths = default_paths()
    config_file = Path(
        cli.get("config") or env.get("TAVERN_UPDATER_CONFIG") or paths["config_dir"] / "config.toml"
    )
    if cli.get("config") and not config_file.is_file():
        raise ConfigError(f"--config {config_file}: no such file")
    toml = _read_toml(config_file)

    general = _table(toml, "general")
    for key in ("db", "data_dir", "state_dir", "log_dir", "backup_dir", "avatar_dir"):
        if key in general and not isinstance(general[key], str):
            raise ConfigError(f"config.toml [general] {key}: expected a path as a string")
    for key in ("migrations_dir", "log_level"):
        if key in general and not isinstance(general[key], str):
            raise ConfigError(f"config.toml [general] {key}: expected a string")
    provider = _coerce("provider", ProviderSettings, _table(toml, "provider"))
    engine = _coerce("engine", EngineSettings, _table(toml, "engine"))
    characters_raw = _table(toml, "characters")
    server = _coerce("server", ServerSettings, _table(toml, "server"))

    # Environment (provider keys: NEWAPI_* first, OpenAI's standard names as the fallback).
    base_url = env.get("NEWAPI_BASE_URL") or env.get("OPENAI_BASE_URL")
    api_key = env.get("NEWAPI_KEY") or env.get("NEWAPI_API_KEY") or env.get("OPENAI_API_KEY")
    if base_url:
        provider["base_url"] = base_url
    if api_key:
        provider["api_key"] = api_key
    if api_key and not provider.get("base_url"):
        provider["base_url"] = "https://api.openai.com/v1"
    for env_name, key in (
        ("DEFAULT_MODEL", "image_model"),
        ("CHAT_MODEL", "chat_model"),
        ("NEWAPI_CHAT_MODEL", "chat_model"),
    ):
        if env.get(env_name):
            provider[key] = env[env_name]
    if env.get("NEWAPI_IMAGE_API") in ("images", "chat"):
        provider["image_api"] = env["NEWAPI_IMAGE_API"]
    for env_name, key in (
        ("MAX_CONCURRENT_GENERATIONS", "max_in_flight"),
        ("NEWAPI_RPM", "requests_per_minute"),
    ):
        number = _env_number(env, env_name)
        if number is not None:
            provider[key] = number
    if env.get("TAVERN_UPDATER_TOKEN"):
        server["token"] = env["TAVERN_UPDATER_TOKEN"]
    if cli.get("host"):
        server["host"] = cli["host"]
    if cli.get("port") is not None:
        server["port"] = int(cli["port"])
    if cli.get("token"):
        server["token"] = cli["token"]
    if cli.get("allow_origins"):
        server["allow_origins"] = tuple(cli["allow_origins"])

    def path_of(key: str, env_name: str, default: Path) -> Path:
        raw = cli.get(key) or env.get(env_name) or general.get(key)
        return Path(raw).expanduser().resolve() if raw else default

    data_dir = path_of("data_dir", "TAVERN_UPDATER_DATA_DIR", paths["data_dir"])
    state_dir = path_of("state_dir", "TAVERN_UPDATER_STATE_DIR", paths["state_dir"])
    log_dir = path_of("log_dir", "TAVERN_UPDATER_LOG_DIR", paths["log_dir"])
    backup_dir = path_of("backup_dir", "TAVERN_UPDATER_BACKUP_DIR", data_dir / "backups")
    avatar_dir = path_of("avatar_dir", "TAVERN_UPDATER_AVATAR_DIR", data_dir / "avatars")
    migrations_dir = path_of(
        "migrations_dir", "TAVERN_UPDATER_MIGRATIONS_DIR", data_dir / "migrations"
    )

    demo = bool(cli.get("demo"))
    db_raw = None if demo else (cli.get("db") or env.get("TAVERN_DB") or general.get("db"))
    if db_raw:
        db_path = Path(db_raw).expanduser().resolve()
    else:
        demo = True
        db_path = data_dir / "demo" / "dev.db"

    log_level = str(
        cli.get("log_level") or env.get("LOG_LEVEL") or general.get("log_level") or "info"
    ).lower()
    if env.get("DEBUG") in ("1", "true", "*") and not cli.get("log_level"):
        log_level = "debug"
    if log_level == "warn":
        log_level = "warning"
    if log_level not in ("debug", "info", "warning", "error"):
        raise ConfigError(f"log level {log_level!r}: use debug, info, warning or error")

    backups_keep = general.get("backups_keep", 10)
    if isinstance(backups_keep, bool) or not isinstance(backups_keep, int) or backups_keep < 1:
        raise ConfigError("config.toml [general] backups_keep: expected a whole number ≥ 1")
    columns = characters_raw.pop("columns", {}) or {}
    if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
        raise ConfigError(
            'config.toml [characters.columns]: expected logical = "real_column" pairs'
        )
    characters = _coerce("characters", CharacterSettings, characters_raw)

    return Settings(
        db_path=db_path,
        demo=demo,
        offline=bool(cli.get("offline")) or env.get("MOCK_MODE") in ("1", "true"),
        state_dir=state_dir,
        data_dir=data_dir,
        log_dir=log_dir,
        backup_dir=backup_dir,
        avatar_dir=avatar_dir,
        migrations_dir=migrations_dir,
        config_file=config_file if config_file.is_file() else None,
        log_level=log_level,
        silent=bool(cli.get("silent")),
        backups_keep=backups_keep,
        provider=ProviderSettings(**provider),
        engine=EngineSettings(**engine),
        characters=CharacterSettings(columns=dict(columns), **characters),
        server=ServerSettings(**server),
    )


def ensure_dirs(settings: Settings) -> None:
    """Create the directories the app writes to."""
    for path in (
        settings.state_dir,
        settings.data_dir,
        settings.log_dir,
        settings.backup_dir,
        settings.avatar_dir,
    ):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot create directory {path}: {exc.strerror}") from None
