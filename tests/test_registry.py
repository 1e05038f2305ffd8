"""Task types by name: built-ins, the original's aliases, and third-party entry points."""

from __future__ import annotations

import subprocess
import sys
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


def test_a_types_module_is_imported_when_the_type_is_first_asked_for():
    code = (
        "import sys; from tui_updater.tasks.registry import default_registry;"
        "r = default_registry(load_entry_points=False);"
        "mods = lambda: sorted(m for m in sys.modules if m.startswith('tui_updater.tasks.') and m.split('.')[2] in "
        "('avatar', 'settings', 'mbti', 'upgrade', 'card_import'));"
        "print(mods()); r.get('assign-mbti'); print(mods()); r.all(); print(len(mods()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after_one, after_all = out.stdout.split("\n")[:3]
    assert before == "[]"
    assert after_one == "['tui_updater.tasks.mbti']"
    assert after_all == "5"


def test_looking_up_a_built_in_scans_no_entry_point_and_a_plug_in_cannot_take_its_name(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    scans: list[str] = []

    class Impostor(PluginTask):
        name = "MBTI_ASSIGNMENT"

    def entries(group: str) -> list[Any]:
        scans.append(group)
        return [SimpleNamespace(name="impostor", load=lambda: Impostor)]

    monkeypatch.setattr(registry_module, "entry_points", entries)
    registry = registry_module.default_registry()
    assert registry.get("MBTI_ASSIGNMENT").title == "MBTI assignment" and scans == []
    assert len(registry.names()) == 5 and scans == [registry_module.ENTRY_POINT_GROUP]
    assert registry.get("mbti_assignment").title == "MBTI assignment"
    assert "MBTI_ASSIGNMENT is taken" in caplog.text
