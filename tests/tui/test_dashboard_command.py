"""The dashboard command refuses to start with a clear one-line error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_updater.commands.dashboard import dashboard_command
from tui_updater.config import Settings


def test_missing_database_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings.for_tests(tmp_path, db_path=tmp_path / "nowhere" / "dev.db")
    assert dashboard_command(settings, connect_url=None, token=None) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err
    assert "Traceback" not in err and err.count("\n") == 1
