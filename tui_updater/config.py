"""Settings: defaults < config.toml < environment < command line, and the platformdirs paths.

Each setting is declared once below: its type, its bounds and the environment variables that set
it. ``load_settings`` reads the three layers (see ``config_layers``), lays them over one
another and pydantic validates the result; a refusal names the file, variable or flag it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from tui_updater.errors import ConfigError

APP_NAME = "tavern-updater-tui"
OPENAI_BASE_URL = "https://api.openai.com/v1"
MAX_AVATAR_SIZE_PX = 2048  # an 8000 px avatar costs ~775 MB per image while it is encoded


class Env:
    """Field metadata: the environment variables that set a setting, the first one set wins."""

    __slots__ = ("names",)

    def __init__(self, *names: str) -> None:
        self.names = names


def mask_secret(value: str | None) -> str:
    """Show that a secret is set without showing it."""
    if not value:
        return "(not set)"
    return f"{value[:3]}…{value[-2:]}" if len(value) > 12 else "****"


def gateway_url_problem(base_url: str) -> str | None:
    """Why ``base_url`` cannot address a gateway (scheme, host, port), or None when it can.

    A URL without a scheme means https, as the gateway client reads it.
    """
    text = base_url.strip()
    parts = urlsplit(text if "://" in text else "https://" + text)
    if parts.scheme not in ("http", "https"):
        return f"{base_url!r} is unusable: the scheme must be http or https"
    try:
        hostname, _port = parts.hostname, parts.port
    except ValueError as exc:
        return f"{base_url!r} is unusable: {exc}"
    if not hostname or any(c.isspace() for c in hostname):
        return f"{base_url!r} is unusable: expected http(s)://host[:port]"
    return None


PositiveInt = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]


class Section(BaseModel):
    """A ``[section]`` of config.toml: exact types (no "5" for 5), unknown keys refused."""

    model_config = ConfigDict(
        defer_build=True, frozen=True, extra="forbid", strict=True, allow_inf_nan=False
    )


class ProviderSettings(Section):
    base_url: Annotated[str | None, Env("NEWAPI_BASE_URL", "OPENAI_BASE_URL")] = None
    api_key: Annotated[
        str | None, Env("NEWAPI_KEY", "NEWAPI_API_KEY", "OPENAI_API_KEY"), Field(repr=False)
    ] = None
    chat_model: Annotated[str, Env("NEWAPI_CHAT_MODEL", "CHAT_MODEL")] = "gpt-4o-mini"
    image_model: Annotated[str, Env("DEFAULT_MODEL")] = "nano-banana"
    image_api: Annotated[Literal["images", "chat"], Env("NEWAPI_IMAGE_API")] = "images"
    # The gateway lane's starting (and highest) limit; it adapts below on push-back.
    max_in_flight: Annotated[PositiveInt, Env("MAX_CONCURRENT_GENERATIONS")] = 64
    requests_per_minute: Annotated[int, Env("NEWAPI_RPM"), Field(ge=0)] = 0  # 0: no cap
    connect_timeout_s: PositiveFloat = 10.0
    read_timeout_s: PositiveFloat = 180.0
    total_timeout_s: PositiveFloat = 300.0  # one whole exchange: connect + write + read
    download_timeout_s: PositiveFloat = 60.0  # one image download, start to last byte
    max_image_bytes: PositiveInt = 20_000_000
    # Hosts ("name" or "name:port") image URLs may reach although they are loopback, private or
    # link-local (an own file server); the gateway's host is always allowed.
    allow_image_hosts: tuple[str, ...] = ()
    proxy: str | None = None  # else HTTP(S)_PROXY / ALL_PROXY / NO_PROXY from the environment
    mbti_batch_size: Annotated[int, Field(ge=1, le=50)] = 10  # characters per MBTI request
    # model -> {"input": per 1M prompt tokens, "output": per 1M completion tokens,
    #           "request": per request}, in the currency of the gateway's price list
    prices: dict[str, dict[str, NonNegativeFloat]] = {}

    @field_validator("base_url")
    @classmethod
    def _usable_base_url(cls, value: str | None) -> str | None:
        problem = gateway_url_problem(value) if value and value.strip() else None
        if problem is not None:
            raise PydanticCustomError("base_url", problem)
        return value

    @field_validator("allow_image_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = (value,)  # one host, not its characters
        if not isinstance(value, list | tuple) or not all(
            isinstance(v, str) and v.strip() for v in value
        ):
            raise PydanticCustomError("hosts", "expected a list of host names")
        return tuple(v.strip() for v in value)

    @field_validator("prices")
    @classmethod
    def _price_names(cls, prices: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for model, price in prices.items():
            unknown = set(price) - {"input", "output", "request"}
            if unknown:
                raise ValueError(
                    f"{model}: unknown price {', '.join(sorted(unknown))}; "
                    "use input, output (per 1M tokens) and request"
                )
        return prices

    @model_validator(mode="before")
    @classmethod
    def _openai_when_only_a_key(cls, data: Any) -> Any:
        # A key without a gateway URL is an OpenAI key (what the OpenAI SDKs assume too).
        if isinstance(data, dict) and data.get("api_key") and not data.get("base_url"):
            return {**data, "base_url": OPENAI_BASE_URL}
        return data

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.base_url)


class EngineSettings(Section):
    max_running_tasks: PositiveInt = 2
    item_max_attempts: PositiveInt = 5
    task_max_attempts: PositiveInt = 3
    retry_base_delay_s: PositiveFloat = 1.0
    retry_max_delay_s: PositiveFloat = 60.0
    retention_days: PositiveInt = 30


class CharacterSettings(Section):
    table: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    avatar_public_prefix: str = "/uploads/characters/avatars/"
    avatar_size_px: Annotated[int, Field(ge=64, le=MAX_AVATAR_SIZE_PX)] = 512

    @field_validator("columns", mode="before")
    @classmethod
    def _column_pairs(cls, value: Any) -> Any:
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise PydanticCustomError("columns", 'expected logical = "real_column" pairs')
        return value


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 3002  # 0: any free port (the log says which)
    token: Annotated[str | None, Env("TAVERN_UPDATER_TOKEN"), Field(repr=False)] = None
    allow_origins: tuple[str, ...] = ()
    max_body_bytes: PositiveInt = 1_048_576

    @field_validator("allow_origins", mode="before")
    @classmethod
    def _origin_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return (value,)  # one origin, not its characters
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise PydanticCustomError("origins", "expected a list of strings")
        return tuple(value)


LogLevel = Literal["debug", "info", "warning", "error"]
PATH_FIELDS = (
    "db_path", "state_dir", "data_dir", "log_dir", "backup_dir", "avatar_dir", "migrations_dir",
)  # fmt: skip


class Settings(BaseModel):
    """Everything the process is configured with; frozen once loaded. Built directly (tests, an
    embedding program) it reads nothing but its arguments: the environment and config.toml come
    in only through ``load_settings``, which merges them as layers."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True
    )

    db_path: Annotated[Path, Env("TAVERN_DB")]
    demo: bool = False
    offline: Annotated[bool, Env("MOCK_MODE")] = False
    state_dir: Annotated[Path, Env("TAVERN_UPDATER_STATE_DIR")]
    data_dir: Annotated[Path, Env("TAVERN_UPDATER_DATA_DIR")]
    log_dir: Annotated[Path, Env("TAVERN_UPDATER_LOG_DIR")]
    backup_dir: Annotated[Path, Env("TAVERN_UPDATER_BACKUP_DIR")]
    avatar_dir: Annotated[Path, Env("TAVERN_UPDATER_AVATAR_DIR")]
    migrations_dir: Annotated[Path, Env("TAVERN_UPDATER_MIGRATIONS_DIR")]
    config_file: Path | None = None
    log_level: Annotated[LogLevel, Env("LOG_LEVEL")] = "info"
    silent: bool = False
    backups_keep: Annotated[int, Field(ge=1, strict=True)] = 10
    site_name: str | None = None  # a short name for the character database, shown beside its path
    provider: ProviderSettings = Field(default_factory=ProviderSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    characters: CharacterSettings = Field(default_factory=CharacterSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    @model_validator(mode="before")
    @classmethod
    def _derived_defaults(cls, data: Any) -> Any:
        """Directories default to the platform's; backups, avatars, migrations and the demo
        database live in the data dir; no database configured means the demo database."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        missing = [key for key in ("data_dir", "state_dir", "log_dir") if data.get(key) is None]
        if missing:
            platform = default_paths()
            data.update({key: platform[key] for key in missing})
        if isinstance(data["data_dir"], str | Path):
            base = Path(data["data_dir"]).expanduser().resolve()
            for key, name in (
                ("backup_dir", "backups"),
                ("avatar_dir", "avatars"),
                ("migrations_dir", "migrations"),
            ):
                if data.get(key) is None:
                    data[key] = base / name
            if not data.get("db_path"):
                data["demo"] = True
                data["db_path"] = base / "demo" / "dev.db"
        return data

    @field_validator(*PATH_FIELDS, mode="after")
    @classmethod
    def _absolute(cls, path: Path) -> Path:
        return path.expanduser().resolve()

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            return "warning" if value == "warn" else value
        return value

    @property
    def tasks_db_path(self) -> Path:
        return self.state_dir / "tasks.db"

    @property
    def use_offline_provider(self) -> bool:
        return self.offline or not self.provider.configured

    def evolve(self, **changes: Any) -> Settings:
        return self.model_copy(update=changes)

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
        return base.model_copy(update=overrides)


SECTIONS: dict[str, type[Section]] = {
    "provider": ProviderSettings,
    "engine": EngineSettings,
    "characters": CharacterSettings,
    "server": ServerSettings,
}


def default_paths() -> dict[str, Path]:
    from platformdirs import PlatformDirs

    dirs = PlatformDirs(APP_NAME, appauthor=False)
    return {
        "config_dir": Path(dirs.user_config_dir),
        "state_dir": Path(dirs.user_state_dir),
        "data_dir": Path(dirs.user_data_dir),
        "log_dir": Path(dirs.user_log_dir),
    }


def load_settings(
    cli: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Layer defaults < config.toml < environment < command line into frozen Settings.

    ``cli`` keys: db, demo, offline, state_dir, data_dir, log_dir, backup_dir, avatar_dir,
    migrations_dir, config, log_level, silent, host, port, token, allow_origins. ``env`` defaults
    to ``os.environ``.
    """
    from tui_updater.config_layers import merged, read_layers

    layers, config_file = read_layers(cli or {}, env)
    try:
        # The paths are required of a Settings built directly; here the layers or
        # _derived_defaults give them.
        return Settings(**merged(layers), config_file=config_file)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(str(part) for part in error["loc"])
        where = next(filter(None, (layer.origin_of(loc) for layer in layers)), ".".join(loc))
        raise ConfigError(f"{where}: {problem(error)}") from None


def problem(error: Any) -> str:
    """What is wrong, in the words of config.toml rather than pydantic's."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind in ("int_type", "int_parsing", "int_from_float"):
        if isinstance(value, float):
            return f"expected a whole number, got {value!r}"
        return "expected a number"
    messages = {
        "float_type": "expected a number",
        "float_parsing": "expected a number",
        "finite_number": f"must be a finite number, got {value!r}",
        "greater_than": f"must be greater than {ctx.get('gt')}",
        "greater_than_equal": f"must be at least {ctx.get('ge')}",
        "less_than_equal": f"must be at most {ctx.get('le')}",
        "string_type": "expected a string",
        "bool_type": "expected true or false",
        "literal_error": f"expected {ctx.get('expected')}, got {value!r}",
        "path_type": "expected a path as a string",
        "extra_forbidden": "unknown setting",
    }
    return messages.get(kind, str(error.get("msg", "invalid value")))


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
