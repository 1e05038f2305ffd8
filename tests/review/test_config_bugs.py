"""config.toml values of the wrong type: a clear ConfigError naming the key, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_updater.config import load_settings
from tui_updater.errors import ConfigError


def _load(tmp_path: Path, text: str):
    config = tmp_path / "config.toml"
    config.write_text(text, "utf-8")
    dirs = {k: str(tmp_path / k) for k in ("data_dir", "state_dir", "log_dir")}
    return load_settings({"config": str(config), **dirs}, env={})


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
