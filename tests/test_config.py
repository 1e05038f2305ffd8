"""Settings layering: defaults < config.toml < environment < command line; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_updater.config import load_settings, mask_secret
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
