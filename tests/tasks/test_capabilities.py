"""Task types declare their capabilities once, on the params model; the schema carries them."""

from __future__ import annotations

from tui_updater.core.capabilities import TaskCapabilities, is_sql_field, local_path_fields
from tui_updater.tasks.registry import default_registry


def test_every_built_in_type_declares_a_short_name_and_only_the_upgrade_is_destructive() -> None:
    declared = {
        t.name: TaskCapabilities.of(t.params_schema())
        for t in default_registry(load_entry_points=False).all()
    }
    assert {name: caps.short_name for name, caps in declared.items()} == {
        "CHARACTER_AVATAR": "AVATAR",
        "CHARACTER_SETTINGS": "SETTINGS",
        "MBTI_ASSIGNMENT": "MBTI",
        "DATABASE_UPGRADE": "UPGRADE",
        "CHARACTER_IMPORT": "IMPORT",
    }
    assert [n for n, c in declared.items() if c.destructive] == ["DATABASE_UPGRADE"]
    assert [n for n, c in declared.items() if c.makes_backups] == ["DATABASE_UPGRADE"]


def test_the_migration_script_is_marked_sql_and_a_server_local_path() -> None:
    schema = default_registry(load_entry_points=False).get("DATABASE_UPGRADE").params_schema()
    assert local_path_fields(schema) == ["migrationScript"]
    assert is_sql_field(schema["properties"]["migrationScript"])
    settings = default_registry(load_entry_points=False).get("CHARACTER_SETTINGS").params_schema()
    assert local_path_fields(settings) == []


def test_unknown_or_malformed_declarations_mean_the_defaults() -> None:
    assert TaskCapabilities.of({}) == TaskCapabilities()
    assert TaskCapabilities.of({"x-capabilities": {"destructive": "very"}}) == TaskCapabilities()
    assert TaskCapabilities.of({"x-capabilities": {"destructive": True, "later": 1}}).destructive
