from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.characters.dbfiles import integer_db, iso_db, make_db, no_mbti_db
from tui_updater.characters.schema import read_schema
from tui_updater.config import CharacterSettings
from tui_updater.errors import CharacterDbError, MissingColumn


def schema_of(path: Path, settings: CharacterSettings | None = None):
    conn = sqlite3.connect(path)
    try:
        return read_schema(conn, settings or CharacterSettings())
    finally:
        conn.close()


def test_real_tavern_schema_maps_mixed_case_columns(demo_path: Path) -> None:
    schema = schema_of(demo_path)
    assert schema.table == "Character"
    assert schema.column("backstory") == "backstory"
    assert schema.column("updatedAt") == "updated_at"
    assert schema.column("createdAt") == "created_at"
    assert schema.column("mbtiType") == "mbtiType"
    assert schema.column("avatarStatus") == "avatarStatus"
    assert schema.column("isDeleted") == "isDeleted"
    assert not schema.id_is_integer


def test_snake_case_background_and_integer_ids(tmp_path: Path) -> None:
    schema = schema_of(integer_db(tmp_path / "int.db"))
    assert schema.table == "characters"
    assert schema.column("backstory") == "background"
    assert schema.column("mbtiType") == "mbti_type"
    assert schema.column("fullDescription") == "full_description"
    assert schema.column("updatedAt") == "updatedAt"
    assert schema.id_is_integer
    assert schema.id_value("12") == 12 and schema.id_value(12) == 12
    assert schema.id_value("abc") is None


def test_missing_mbti_column_names_it_and_the_migration(tmp_path: Path) -> None:
    schema = schema_of(no_mbti_db(tmp_path / "n.db"))
    with pytest.raises(MissingColumn) as caught:
        schema.require("name", "mbtiType", purpose="MBTI assignment")
    assert caught.value.column == "mbtiType"
    assert caught.value.table == "Character"
    assert 'ALTER TABLE "Character" ADD COLUMN "mbtiType" TEXT;' in str(caught.value)
    assert "MBTI assignment" in str(caught.value)


def test_config_overrides_win_and_bad_overrides_are_named(tmp_path: Path) -> None:
    path = iso_db(tmp_path / "iso.db")
    schema = schema_of(
        path, CharacterSettings(columns={"backstory": "personality", "tags": "nope"})
    )
    assert schema.column("backstory") == "personality"
    with pytest.raises(MissingColumn, match=r"characters\.columns maps 'tags' to 'nope'"):
        schema.column("tags")


def test_configured_table_name(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "p.db",
        'CREATE TABLE "Persona" ("id" TEXT PRIMARY KEY, "name" TEXT)',
        [],
        table="Persona",
    )
    with pytest.raises(CharacterDbError, match="no character table"):
        schema_of(path)
    assert schema_of(path, CharacterSettings(table="persona")).table == "Persona"


def test_read_schema_does_not_write(demo_path: Path) -> None:
    conn = sqlite3.connect(demo_path)
    try:
        before = conn.total_changes
        read_schema(conn, CharacterSettings())
        assert conn.total_changes == before
        assert not conn.in_transaction
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("key", "stored"),
    [
        ("01", 1), (" 7 ", 7), ("-3", -3), ("+4", 4), (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63)),
        (2**63, None), (-(2**63) - 1, None), (10**30, None), ("99999999999999999999", None),
        ("1_000", None), ("1e3", None), ("١٢", None), ("", None), (True, None),
    ],
)  # fmt: skip
def test_integer_ids_are_normalised_within_sqlite_range(
    tmp_path: Path, key: str | int, stored: int | None
) -> None:
    schema = schema_of(integer_db(tmp_path / "int.db"))
    assert schema.id_value(key) == stored
    assert schema_of(iso_db(tmp_path / "iso.db")).id_value(str(key)) == str(key)  # TEXT: as given
