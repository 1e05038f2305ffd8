"""``cards export`` and ``cards import`` from the command line: alone, and through the state
dir's owner (the dashboard), whose request paths are confined."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tests.cards.reader import card_of
from tests.cards.test_malformed import v2_card
from tests.cards.test_roundtrip import USER_ID, empty_site, rows
from tui_updater import cli
from tui_updater.characters.demo import create_demo_db
from tui_updater.commands.cards import _export, _import, import_data
from tui_updater.config import Settings
from tui_updater.core.models import TaskStatus
from tui_updater.core.service import CharacterQuery
from tui_updater.runtime import Runtime


def common(tmp_path: Path, db: Path) -> list[str]:
    return [
        "--db", str(db), "--offline", "--state-dir", str(tmp_path / "state"),
        "--data-dir", str(tmp_path / "data"), "--log-dir", str(tmp_path / "log"),
    ]  # fmt: skip


def test_export_then_import_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    site = create_demo_db(tmp_path / "site" / "dev.db")
    out = tmp_path / "out"
    code = cli.main(
        [
            *("cards", "export", "--all", "--filter", "noMbti", "--format", "v2"),
            *("--out", str(out), *common(tmp_path / "a", site)),
        ]
    )
    assert code == 0, capsys.readouterr().err
    files = sorted(out.glob("*.png"))
    without_mbti = [r for r in rows(site).values() if not r["mbtiType"]]
    assert len(files) == len(without_mbti) > 0
    assert {card_of(f.read_bytes(), "chara")["data"]["name"] for f in files} == {
        r["name"] for r in without_mbti
    }

    target = empty_site(tmp_path / "target" / "dev.db")
    args = ["cards", "import", *map(str, files), "--user-id", USER_ID, "--json"]
    capsys.readouterr()
    assert cli.main([*args, *common(tmp_path / "b", target)]) == 0
    task = json.loads(capsys.readouterr().out)
    assert task["status"] == "COMPLETED" and task["result"]["done"] == len(files)
    assert set(rows(target)) == {r["name"] for r in without_mbti}

    code = cli.main(["cards", "import", str(out), *common(tmp_path / "b", target)])
    assert code == 2
    assert "userId: the character table requires an owner" in capsys.readouterr().err


async def test_through_the_owner_files_move_in_and_out(tmp_path: Path) -> None:
    settings = Settings.for_tests(tmp_path, db_path=create_demo_db(tmp_path / "dev.db"))
    owner = await Runtime.open(settings, synchronous="NORMAL")
    try:
        out = tmp_path / "elsewhere" / "cards"
        ids = (await owner.service.character_ids(CharacterQuery()))[:3]
        args = argparse.Namespace(all=False, ids=",".join(ids), format="json")
        report = await _export(settings, args, out)
        assert report["directory"] == str(out) and len(report["files"]) == 3
        assert all(Path(f).parent == out for f in report["files"])
        assert list((settings.data_dir / "cards").iterdir()) == []  # the scratch folder is gone

        cards = tmp_path / "incoming"
        cards.mkdir()
        (cards / "nova.json").write_text(json.dumps(v2_card()), encoding="utf-8")
        taken = card_name(report["files"][0])
        (cards / "dup.json").write_text(json.dumps(v2_card(name=taken)), encoding="utf-8")
        data = import_data([str(cards)], owner_user(settings), "skip")
        finished = await _import(settings, data)
        assert finished is not None and finished.status is TaskStatus.COMPLETED, finished
        result = finished.result or {}
        assert result["done"] == 1 and result["skipped"] == 1
        assert "duplicate" in result["duplicates"][0]["reason"]
        # The owner read a copy inside its migrations dir; the copy is gone afterwards.
        assert finished.data["directory"].startswith(str(settings.migrations_dir))
        assert list(settings.migrations_dir.iterdir()) == []
        assert "Nova" in rows(settings.db_path)
    finally:
        await owner.close()


def card_name(path: str) -> str:
    return str(json.loads(Path(path).read_text(encoding="utf-8"))["data"]["name"])


def owner_user(settings: Settings) -> str:
    return str(next(iter(rows(settings.db_path).values()))["userId"])
