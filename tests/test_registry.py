"""Task types by name: built-ins, the original's aliases, and third-party entry points."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.engine.sample_types import Recorder, SampleTask
from tui_updater.errors import UnknownTaskType
from tui_updater.tasks import registry as registry_module


class PluginTask(SampleTask):
    name = "PLUGIN_SAMPLE"
    title = "Plug-in sample"

    def __init__(self) -> None:
        super().__init__(Recorder())


def test_builtins_and_the_originals_aliases():
    registry = registry_module.default_registry(load_entry_points=False)
    assert registry.names() == [
        "CHARACTER_AVATAR",
        "CHARACTER_SETTINGS",
        "MBTI_ASSIGNMENT",
        "DATABASE_UPGRADE",
        "CHARACTER_IMPORT",
    ]
    assert registry.get("import-character-cards").name == "CHARACTER_IMPORT"
    assert registry.get("assign-mbti").name == "MBTI_ASSIGNMENT"
    assert registry.get("character_avatar").name == "CHARACTER_AVATAR"
    with pytest.raises(UnknownTaskType, match="known types: CHARACTER_AVATAR"):
        registry.get("NOPE")


def test_entry_point_types_register_and_broken_ones_do_not_stop_the_app(
    monkeypatch: pytest.MonkeyPatch,
):
    def broken() -> Any:
        raise ImportError("no module named tavern_plugin")

    entries = [
        SimpleNamespace(name="sample", load=lambda: PluginTask),
        SimpleNamespace(name="broken", load=broken),
    ]
    monkeypatch.setattr(
        registry_module,
        "entry_points",
        lambda group: entries if group == registry_module.ENTRY_POINT_GROUP else [],
    )
    registry = registry_module.default_registry()
    assert registry.get("PLUGIN_SAMPLE").title == "Plug-in sample"
    assert "PLUGIN_SAMPLE" in registry.names() and len(registry.names()) == 6
