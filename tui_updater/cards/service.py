"""The export port LocalService calls: the open character database and where cards go."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any


class CardExporter:
    """Exports characters of one database; a relative directory lands under ``cards_dir``."""

    def __init__(self, db: Any, avatar_dir: Path | None, cards_dir: Path) -> None:
        self._db = db
        self._avatar_dir = avatar_dir
        self.cards_dir = cards_dir

    def target(self, directory: str | None) -> Path:
        if not directory:
            return self.cards_dir
        path = Path(directory).expanduser()
        return path if path.is_absolute() else self.cards_dir / path

    async def export(self, ids: Sequence[str], fmt: str, directory: str | None) -> dict[str, Any]:
        # The card modules (and Pillow) load with the first export, not with every runtime.
        from tui_updater.cards.export import export_cards

        return await export_cards(self._db, ids, fmt, self.target(directory), self._avatar_dir)
