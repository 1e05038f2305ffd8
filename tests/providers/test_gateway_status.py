"""The gateway lane and the spend as the views and scripts see them: status, warnings, run --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import FakeOpenAIServer
from tui_updater.characters.demo import create_demo_db
from tui_updater.config import ConfigError, ProviderSettings, Settings, load_settings
from tui_updater.core.models import TokenUsage
from tui_updater.core.pricing import cost_of, spend_json, task_model
from tui_updater.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]


def online(tmp_path: Path, base_url: str) -> Settings:
    return Settings.for_tests(
        tmp_path,
        db_path=create_demo_db(tmp_path / "dev.db"),
        offline=False,
        provider=ProviderSettings(base_url=base_url, api_key="sk-test-key"),
    )


def test_defaults_are_generous_and_uncapped() -> None:
    provider = ProviderSettings()
    assert provider.max_in_flight >= 64 and provider.requests_per_minute == 0


async def test_queue_status_carries_the_lane_and_a_big_ask_is_warned(tmp_path: Path) -> None:
    async with FakeOpenAIServer() as server:
        runtime = await Runtime.open(online(tmp_path, server.base_url), synchronous="NORMAL")
        try:
            status = await runtime.service.queue_status()
            assert status.gateway is not None
            assert (status.gateway["limit"], status.gateway["maxInFlight"]) == (64, 64)
            assert status.to_json()["gateway"]["inFlight"] == 0
            assert status.gateway["spent"] == {
                "promptTokens": 0,
                "completionTokens": 0,
                "totalTokens": 0,
                "requests": 0,
                "cost": None,
            }
            await runtime.engine.pause()  # the warning is about the ask, not the run
            task = await runtime.service.submit("MBTI_ASSIGNMENT", {"concurrency": 100})
            logs = await runtime.service.task_logs(task.task_id)
            assert any("above the gateway's cap of 64" in line.message for line in logs)
            quiet = await runtime.service.submit("MBTI_ASSIGNMENT", {"concurrency": 50})
            assert not any(
                "gateway's cap" in line.message
                for line in await runtime.service.task_logs(quiet.task_id)
            )
        finally:
            await runtime.close()


def test_pricing_per_model() -> None:
    usage = TokenUsage(prompt_tokens=2_000_000, completion_tokens=1_000_000, requests=10)
    price = {"input": 0.15, "output": 0.6, "request": 0.01}
    assert cost_of(usage, price) == pytest.approx(0.3 + 0.6 + 0.1)
    assert cost_of(usage, None) is None
    image_schema = {"properties": {"model": {}, "size": {}}}
    assert task_model({}, image_schema, "chat-m", "image-m") == "image-m"
    assert task_model({"model": "flux"}, image_schema, "chat-m", "image-m") == "flux"
    assert task_model({}, {"properties": {}}, "chat-m", "image-m") == "chat-m"
    assert spend_json(usage, "chat-m", {})["cost"] is None


def test_prices_in_config_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[provider.prices]\n"gpt-4o-mini" = { input = 0.15, output = 0.6 }\n')
    settings = load_settings({"config": str(config), "demo": True}, env={})
    assert settings.provider.prices == {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}
    config.write_text('[provider.prices]\n"gpt-4o-mini" = { input = "cheap" }\n')
    with pytest.raises(ConfigError, match="prices"):
        load_settings({"config": str(config), "demo": True}, env={})


def test_run_json_includes_the_spend(tmp_path: Path) -> None:
    db = create_demo_db(tmp_path / "dev.db")
    config = tmp_path / "config.toml"
    config.write_text('[provider.prices]\n"gpt-4o-mini" = { input = 1.0, output = 2.0 }\n')
    with FakeOpenAIServer() as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWAPI", "OPENAI"))}
        env.update(NEWAPI_BASE_URL=server.base_url, NEWAPI_KEY="sk-test-key")
        done = subprocess.run(
            [sys.executable, "-m", "tui_updater", "run", "MBTI_ASSIGNMENT", "--json"]
            + ["--db", str(db), "--config", str(config)]
            + [f"--{name}-dir={tmp_path / name}" for name in ("data", "state", "log", "backup")],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )
        requests = server.count("chat/completions")
    assert done.returncode == 0, done.stderr
    spend = json.loads(done.stdout)["spend"]
    assert spend["model"] == "gpt-4o-mini" and spend["requests"] == requests > 0
    expected = (spend["promptTokens"] * 1.0 + spend["completionTokens"] * 2.0) / 1_000_000
    assert spend["cost"] == pytest.approx(expected, abs=1e-6) and spend["cost"] > 0
