"""Settings layering: defaults < config.toml < environment < command line; errors name the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from tui_updater.config import Settings, load_settings, mask_secret
from tui_updater.errors import ConfigError


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_layers_in_order(tmp_path: Path):
    config = write_config(
        tmp_path,
        '[general]\ndb = "/from/toml.db"\n[provider]\nchat_model = "toml-model"\nmax_in_flight = 3\n[engine]\nmax_running_tasks = 5\n',
    )
    env = {
        "NEWAPI_BASE_URL": "http://gw.local",
        "NEWAPI_KEY": "sk-secret-value-123",
        "CHAT_MODEL": "env-model",
    }
    settings = load_settings({"config": str(config), "data_dir": str(tmp_path / "d")}, env)
    assert settings.db_path == Path("/from/toml.db") and not settings.demo
    assert settings.provider.chat_model == "env-model"  # env beats toml
    assert settings.provider.max_in_flight == 3 and settings.engine.max_running_tasks == 5
    assert not settings.use_offline_provider
    cli = load_settings(
        {"config": str(config), "db": str(tmp_path / "cli.db"), "offline": True}, env
    )
    assert (
        cli.db_path == (tmp_path / "cli.db").resolve() and cli.use_offline_provider
    )  # CLI beats all
    assert "sk-secret" not in repr(settings)
    assert mask_secret("sk-secret-value-123") == "sk-…23"


def test_no_database_means_demo_and_openai_fallback(tmp_path: Path):
    settings = load_settings(
        {"data_dir": str(tmp_path), "config": None},
        {"OPENAI_API_KEY": "k", "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert settings.demo and settings.db_path == tmp_path / "demo" / "dev.db"
    assert settings.provider.base_url == "https://api.openai.com/v1"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[engine]\nmax_runing_tasks = 3\n", "unknown setting 'max_runing_tasks'"),
        ("[engine]\nmax_running_tasks = 'two'\n", "max_running_tasks: expected a number"),
        ("[general\n", "not valid TOML"),
        ("[provider]\nmax_in_flight = 0\n", "must be greater than 0"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, needle: str):
    config = write_config(tmp_path, text)
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        load_settings({"config": str(config)}, {})


def test_bad_environment_value_is_named(tmp_path: Path):
    with pytest.raises(ConfigError, match="NEWAPI_RPM"):
        load_settings(
            {"data_dir": str(tmp_path)}, {"NEWAPI_RPM": "fast", "XDG_CONFIG_HOME": str(tmp_path)}
        )


# --- wrong types in config.toml: a ConfigError naming the key, never a traceback -------------


def _load(tmp_path: Path, text: str, env: dict[str, str] | None = None):
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    dirs = {k: str(tmp_path / k) for k in ("data_dir", "state_dir", "log_dir")}
    return load_settings({"config": str(config), **dirs}, env=env or {})


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[characters]\ntable = 5\n", "table"),
        ("[server]\nallow_origins = 5\n", "allow_origins"),
        ('provider = "x"\n', "provider"),
        ("general = 3\n", "general"),
        ("[general]\ndb = 5\n", "db"),
        ("[provider]\nchat_model = 5\n", "chat_model"),
        ('[provider]\nimage_api = "foo"\n', "image_api"),
        ("[provider]\nbase_url = 5\n", "base_url"),
        ("[engine]\nmax_running_tasks = 1.5\n", "max_running_tasks"),
        ("[server]\nport = 99999\n", "port"),
        ("[general]\nbackups_keep = true\n", "backups_keep"),
    ],
)
def test_wrong_types_are_config_errors_naming_the_key(tmp_path: Path, text: str, named: str):
    with pytest.raises(ConfigError, match=named):
        _load(tmp_path, text)


def test_a_single_origin_string_is_one_origin_not_its_characters(tmp_path: Path):
    settings = _load(tmp_path, '[server]\nallow_origins = "http://a.example"\n')
    assert settings.server.allow_origins == ("http://a.example",)


def test_valid_values_still_load(tmp_path: Path):
    settings = _load(
        tmp_path,
        '[provider]\nimage_api = "chat"\nread_timeout_s = 30\n'
        '[server]\nallow_origins = ["http://a", "http://b"]\nport = 8080\n'
        '[characters]\ntable = "Persona"\n',
    )
    assert settings.provider.image_api == "chat"
    assert settings.provider.read_timeout_s == 30
    assert settings.server.allow_origins == ("http://a", "http://b")
    assert settings.characters.table == "Persona"


# --- bad input: every refusal names the key and where it came from ------------------------


def test_errors_name_the_file_they_came_from(tmp_path: Path):
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, "[engine]\nmax_running_tasks = 'two'\n")
    assert str(caught.value).startswith(f"{tmp_path / 'config.toml'} [engine] max_running_tasks:")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[provider]\nread_timeout_s = inf\n", "read_timeout_s: must be a finite number"),
        ("[provider]\nconnect_timeout_s = nan\n", "connect_timeout_s: must be a finite number"),
        ("[engine]\nretry_max_delay_s = -inf\n", "retry_max_delay_s: must be a finite number"),
        ("[characters]\navatar_size_px = 8000\n", "avatar_size_px: must be at most 2048"),
        ("[characters]\navatar_size_px = 8\n", "avatar_size_px: must be at least 64"),
        ("[characters.columns]\nbackstory = 5\n", "characters.columns"),
        ("[provider]\nnope = 1\n", "unknown setting 'nope'"),
        ("[general]\nofline = true\n", "unknown setting 'ofline'"),
        ("[sever]\nport = 1\n", r"unknown section \[sever\]"),
        ('db = "/x.db"\n', r"db is outside any table; put it under one of \[general\]"),
        ("[general]\nlog_level = 'loud'\n", "log_level: expected 'debug', 'info'"),
    ],
)
def test_bad_values_are_refused_with_the_key(tmp_path: Path, text: str, needle: str):
    with pytest.raises(ConfigError, match=needle):
        _load(tmp_path, text)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"MOCK_MODE": "yes"}, "environment variable MOCK_MODE: expected 1 or 0, got 'yes'"),
        (
            {"NEWAPI_IMAGE_API": "bad"},
            "environment variable NEWAPI_IMAGE_API: expected 'images' or 'chat', got 'bad'",
        ),
        ({"MAX_CONCURRENT_GENERATIONS": "0"}, "MAX_CONCURRENT_GENERATIONS: must be greater than 0"),
        ({"NEWAPI_RPM": "-5"}, "environment variable NEWAPI_RPM: must be at least 0"),
        ({"LOG_LEVEL": "chatty"}, "environment variable LOG_LEVEL: expected 'debug'"),
    ],
)
def test_bad_environment_values_name_the_variable(tmp_path: Path, env: dict[str, str], needle: str):
    with pytest.raises(ConfigError, match=needle):
        _load(tmp_path, "", env)


def test_command_line_values_are_checked_too(tmp_path: Path):
    with pytest.raises(ConfigError, match="--port: must be at most 65535"):
        load_settings(
            {"data_dir": str(tmp_path), "config": str(write_config(tmp_path, "")), "port": 70000},
            {},
        )


@pytest.mark.parametrize(
    ("env", "offline"),
    [
        ({}, False),
        ({"MOCK_MODE": "1"}, True),
        ({"MOCK_MODE": "TRUE"}, True),
        ({"MOCK_MODE": "0"}, False),
    ],
)
def test_mock_mode_values(tmp_path: Path, env: dict[str, str], offline: bool):
    assert _load(tmp_path, "", env).offline is offline


def test_layering_details_kept_from_before(tmp_path: Path):
    env = {
        "TAVERN_DB": "/env.db",
        "NEWAPI_KEY": "k",
        "CHAT_MODEL": "plain",
        "NEWAPI_CHAT_MODEL": "newapi",
        "LOG_LEVEL": "warn",
        "NEWAPI_RPM": "0",
    }
    settings = _load(
        tmp_path, '[general]\ndb = "/toml.db"\n[provider]\nbase_url = "http://gw/v1"\n', env
    )
    assert settings.db_path == Path("/env.db") and not settings.demo  # env beats toml
    assert settings.provider.base_url == "http://gw/v1"  # a key alone does not replace the URL
    assert settings.provider.chat_model == "newapi"  # NEWAPI_CHAT_MODEL beats CHAT_MODEL
    assert settings.log_level == "warning" and settings.provider.requests_per_minute == 0
    assert _load(tmp_path, "", {**env, "DEBUG": "1"}).log_level == "debug"
    data = str(tmp_path / "d")
    cli = load_settings(
        {"demo": True, "db": "/cli.db", "log_level": "error", "data_dir": data},
        {**env, "DEBUG": "1"},
    )
    assert cli.demo and cli.db_path == Path(data).resolve() / "demo" / "dev.db"  # --demo wins
    assert cli.log_level == "error"  # the command line beats DEBUG=1
    assert cli.backup_dir == Path(data).resolve() / "backups"


def test_settings_are_frozen_and_direct_construction_reads_no_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NEWAPI_KEY", "sk-from-the-machine")
    monkeypatch.setenv("MOCK_MODE", "yes")
    settings = Settings.for_tests(tmp_path, offline=False)
    assert settings.provider.api_key is None and not settings.offline
    with pytest.raises(ValidationError):
        settings.demo = True  # type: ignore[misc]


def test_binary_config_file_is_one_line_naming_it(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match=f"{config}: not a UTF-8 text file"):
        load_settings({"config": str(config), "data_dir": str(tmp_path)}, {})
    done = subprocess.run(
        [sys.executable, "-m", "tui_updater", "--config", str(config), "backups", "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {config}: not a UTF-8 text file (byte 0); config.toml must be TOML text"
    ]
