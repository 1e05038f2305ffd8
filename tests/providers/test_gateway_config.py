"""A gateway URL that cannot work stops the real CLI at start: exit 2, one line naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_updater.config import ProviderSettings
from tui_updater.errors import ConfigError
from tui_updater.providers.http import GatewayClient


def run_cli(tmp_path: Path, env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI", "TAVERN"))}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), **env_extra)
    dirs = ["--data-dir", str(tmp_path / "data"), "--state-dir", str(tmp_path / "state")]
    return subprocess.run(
        [sys.executable, "-m", "tui_updater", "run", "MBTI_ASSIGNMENT", "--demo", *dirs],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,  # main printed the error and then never exited
        cwd=Path(__file__).resolve().parents[2],
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://gateway.example/v1", "the scheme must be http or https"),
        ("::::", "Port could not be cast"),
        ("http://", "expected http(s)://host[:port]"),
        ("https://gateway.example:99999/v1", "Port out of range"),
    ],
)
def test_a_bad_gateway_url_exits_2_naming_the_setting(tmp_path: Path, url: str, why: str) -> None:
    result = run_cli(tmp_path, {"NEWAPI_BASE_URL": url, "NEWAPI_KEY": "sk-test-0123456789"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "NEWAPI_BASE_URL" in lines[0] and repr(url) in lines[0] and why in lines[0]


def test_the_same_check_guards_the_client_and_the_settings() -> None:
    with pytest.raises(ConfigError, match="scheme must be http or https"):
        GatewayClient("ftp://gateway.example", "sk-x")
    with pytest.raises(ValueError, match="scheme must be http or https"):
        ProviderSettings(base_url="ftp://gateway.example", api_key="sk-x")
    assert (
        ProviderSettings(base_url="gateway.example", api_key="sk-x").base_url == "gateway.example"
    )
