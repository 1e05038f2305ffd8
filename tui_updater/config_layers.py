"""The three layers of settings: command line, environment, config.toml; each remembers where
every value came from so an error can name it, and ``merged`` lays them over one another."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from tui_updater.config import SECTIONS, Env, Settings, default_paths
from tui_updater.errors import ConfigError

SettingPath = tuple[str, ...]

# config.toml [general] keys → Settings fields
GENERAL_KEYS = {
    "db": "db_path", "data_dir": "data_dir", "state_dir": "state_dir", "log_dir": "log_dir",
    "backup_dir": "backup_dir", "avatar_dir": "avatar_dir", "migrations_dir": "migrations_dir",
    "log_level": "log_level", "backups_keep": "backups_keep", "site_name": "site_name",
}  # fmt: skip
# load_settings' command-line keys → (Settings field, the flag named in errors)
CLI_KEYS: dict[str, tuple[SettingPath, str]] = {
    "db": (("db_path",), "--db"),
    "demo": (("demo",), "--demo"),
    "offline": (("offline",), "--offline"),
    "state_dir": (("state_dir",), "--state-dir"),
    "data_dir": (("data_dir",), "--data-dir"),
    "log_dir": (("log_dir",), "--log-dir"),
    "backup_dir": (("backup_dir",), "--backup-dir"),
    "avatar_dir": (("avatar_dir",), "--avatar-dir"),
    "migrations_dir": (("migrations_dir",), "--migrations-dir"),
    "log_level": (("log_level",), "--log-level"),
    "silent": (("silent",), "--silent"),
    "host": (("server", "host"), "--host"),
    "port": (("server", "port"), "--port"),
    "token": (("server", "token"), "--token"),
    "allow_origins": (("server", "allow_origins"), "--allow-origin"),
}
DEBUG_VALUES = ("1", "true", "*")  # DEBUG=express:* and the like is common in Node setups
FLAG_VALUES = {"1": True, "true": True, "0": False, "false": False}


@dataclass
class Layer:
    """One layer's values, nested like Settings, and the origin of each value."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[SettingPath, str] = field(default_factory=dict)

    def set(self, path: SettingPath, value: Any, origin: str) -> None:
        node = self.values
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        self.origins[path] = origin

    def origin_of(self, loc: SettingPath) -> str | None:
        """Where the value at ``loc`` (or the setting that contains it) came from."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.origins:
                return self.origins[loc[:end]]
        return None


def merged(layers: list[Layer]) -> dict[str, Any]:
    """The layers' values, nested, each value from the highest layer (first) that has it."""
    result: dict[str, Any] = {}
    for layer in reversed(layers):
        _lay_over(result, layer.values)
    return result


def _lay_over(below: dict[str, Any], above: Mapping[str, Any]) -> None:
    for key, value in above.items():
        if isinstance(value, Mapping):
            if not isinstance(below.get(key), dict):
                below[key] = {}  # a layer's own dicts are never changed
            _lay_over(below[key], value)
        else:
            below[key] = value


def read_layers(
    cli: Mapping[str, Any], env: Mapping[str, str] | None
) -> tuple[list[Layer], Path | None]:
    """The command line, environment and config.toml layers (highest first), and the file read."""
    environ = os.environ if env is None else env
    named = cli.get("config")
    if named:
        config_file = Path(named)
        if not config_file.is_file():
            raise ConfigError(f"--config {config_file}: no such file")
    else:
        config_file = Path(
            environ.get("TAVERN_UPDATER_CONFIG") or default_paths()["config_dir"] / "config.toml"
        )
    layers = [command_line_layer(cli), environment_layer(environ), config_file_layer(config_file)]
    return layers, config_file if config_file.is_file() else None


def command_line_layer(cli: Mapping[str, Any]) -> Layer:
    layer = Layer()
    for key, value in cli.items():
        if key == "config":
            continue
        if key not in CLI_KEYS:
            raise ValueError(f"load_settings: unknown command-line setting {key!r}")
        # Flags only switch on, and an empty text means "not given" (as argparse leaves them).
        if value is None or value is False or (isinstance(value, str | list | tuple) and not value):
            continue
        path, flag = CLI_KEYS[key]
        layer.set(path, tuple(value) if isinstance(value, list) else value, flag)
    if cli.get("demo"):
        layer.set(("db_path",), None, "--demo")  # --demo wins over any configured database
    return layer


def _env_fields(
    model: type[BaseModel], prefix: SettingPath = ()
) -> Iterator[tuple[SettingPath, FieldInfo, Env]]:
    for name, info in model.model_fields.items():
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            yield from _env_fields(info.annotation, (*prefix, name))
        for meta in info.metadata:
            if isinstance(meta, Env):
                yield (*prefix, name), info, meta


def _from_text(text: str, info: FieldInfo, variable: str) -> Any:
    """An environment variable's text as the field's type (the layer converts its own text)."""
    kinds = {info.annotation, *get_args(info.annotation)}
    if bool in kinds:
        flag = FLAG_VALUES.get(text.strip().lower())
        if flag is None:
            raise ConfigError(f"environment variable {variable}: expected 1 or 0, got {text!r}")
        return flag
    for kind in (int, float):
        if kind in kinds:
            try:
                return kind(text)
            except ValueError:
                raise ConfigError(
                    f"environment variable {variable}: expected a number, got {text!r}"
                ) from None
    return text


def environment_layer(env: Mapping[str, str]) -> Layer:
    layer = Layer()
    for path, info, names in _env_fields(Settings):
        for variable in names.names:
            text = env.get(variable)
            if text:  # set but empty counts as not set
                layer.set(
                    path, _from_text(text, info, variable), f"environment variable {variable}"
                )
                break
    if env.get("DEBUG") in DEBUG_VALUES:
        layer.set(("log_level",), "debug", "environment variable DEBUG")
    return layer


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a UTF-8 text file (byte {exc.start}); config.toml must be TOML text"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def config_file_layer(path: Path) -> Layer:
    layer = Layer()
    known_sections = ("general", *SECTIONS)
    for section, table in read_toml(path).items():
        if not isinstance(table, dict) and section not in known_sections:
            raise ConfigError(
                f"{path}: {section} is outside any table; put it under one of "
                + ", ".join(f"[{name}]" for name in known_sections)
            )
        if section not in known_sections:
            raise ConfigError(
                f"{path}: unknown section [{section}]; known: {', '.join(known_sections)}"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section} must be a table ([{section}])")
        known = GENERAL_KEYS if section == "general" else SECTIONS[section].model_fields
        for key, value in table.items():
            if key not in known:
                raise ConfigError(
                    f"{path} [{section}]: unknown setting {key!r}; known: {', '.join(known)}"
                )
            if section == "general":
                layer.set((GENERAL_KEYS[key],), value, f"{path} [general] {key}")
            elif (section, key) == ("characters", "columns"):
                layer.set((section, key), value, f"{path} [characters.columns]")
            else:
                layer.set((section, key), value, f"{path} [{section}] {key}")
    return layer
