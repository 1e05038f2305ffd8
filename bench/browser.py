"""The characters browser on 100,000 characters: from ``c`` to the first page on screen.

A demo database is grown to N characters (the demo's own schema, rows generated in SQL), then the
dashboard runs headless on it: the figure is the wall time from pressing ``c`` until the table
shows its first page, one fresh app per round (the median of the rounds, with min and max); a
filtered page (no avatar, a search) is timed too.
The reference is the same screen on the 41-character demo, in the same run; the page query
alone (through the service, no screen) is timed too, to tell the database's part from Textual's.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import Result, arguments, bench_settings, note, report

BENCH = "browser"
CHARACTERS = 100_000
QUICK_CHARACTERS = 5_000
GOAL_FIRST_PAGE_S = 1.0
SIZE = (120, 40)


def grow(db_path: Path, count: int) -> None:
    """Add characters until the table holds ``count``: every other one lacks an avatar, every
    third an MBTI type, names and descriptions vary so a search has something to find."""
    with sqlite3.connect(db_path) as conn:
        have = int(conn.execute('SELECT COUNT(*) FROM "Character"').fetchone()[0])
        user = conn.execute('SELECT "userId" FROM "Character" LIMIT 1').fetchone()[0]
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
            INSERT INTO "Character" ("id", "userId", "name", "description", "avatar",
                                     "mbtiType", "language", "updated_at")
            SELECT printf('bench%08d', i), ?, printf('Bench character %06d', (i * 7919) % 1000003),
                   CASE WHEN i % 5 = 0 THEN 'short'
                        ELSE printf('A traveller from harbour %d who keeps lighthouse logs.', i)
                   END,
                   CASE WHEN i % 2 = 0 THEN NULL ELSE printf('/avatars/%d.png', i) END,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE 'INTJ' END,
                   CASE WHEN i % 4 = 0 THEN 'en' ELSE 'zh-CN' END,
                   1767225600000 + i
            FROM n
            """,
            (max(0, count - have), user),
        )


async def _time_first_page(db_path: Path, root: Path, steps: Sequence[str]) -> float:
    from tui_updater.runtime import Runtime
    from tui_updater.tui.app import TavernApp
    from tui_updater.tui.screens.characters import CharactersScreen

    runtime = await Runtime.open(bench_settings(root, db_path))
    try:
        app = TavernApp(runtime.service)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(0.2)

            async def settled(previous: Any) -> CharactersScreen:
                while True:
                    screen = app.screen
                    if (
                        isinstance(screen, CharactersScreen)
                        and screen.page_data is not None
                        and screen.page_data is not previous
                        and screen.table.row_count == len(screen.page_data.rows)
                    ):
                        return screen
                    await asyncio.sleep(0.002)

            started_s = time.perf_counter()
            await pilot.press("c")
            screen = await settled(None)
            elapsed_s = time.perf_counter() - started_s
            for key in steps:
                previous = screen.page_data
                started_s = time.perf_counter()
                await pilot.press(key)
                screen = await settled(previous)
                elapsed_s = max(elapsed_s, time.perf_counter() - started_s)
            return elapsed_s
    finally:
        await runtime.close()


async def _time_query(db_path: Path, root: Path, rounds: int) -> list[float]:
    """The database's part alone: one page through the service, once per round."""
    from tui_updater.core.service import CharacterQuery
    from tui_updater.runtime import Runtime

    runtime = await Runtime.open(bench_settings(root, db_path))
    try:
        samples: list[float] = []
        for _ in range(rounds):
            started_s = time.perf_counter()
            await runtime.service.list_characters(CharacterQuery(limit=100))
            samples.append(time.perf_counter() - started_s)
        return samples
    finally:
        await runtime.close()


def _rounds(db_path: Path, root: Path, rounds: int, steps: Sequence[str] = ()) -> list[float]:
    return [asyncio.run(_time_first_page(db_path, root, steps)) for _ in range(rounds)]


def main(argv: Sequence[str] | None = None) -> int:
    args = arguments(__doc__ or BENCH, argv)
    count = QUICK_CHARACTERS if args.quick else CHARACTERS
    rounds = args.rounds
    from tui_updater.characters.demo import create_demo_db

    with tempfile.TemporaryDirectory(prefix="bench-browser-") as tmp:
        root = Path(tmp)
        small = root / "small" / "dev.db"
        create_demo_db(small)
        big = root / "big" / "dev.db"
        create_demo_db(big)
        started_s = time.perf_counter()
        grow(big, count)
        note(
            BENCH,
            f"grew the database to {count:,} characters in {time.perf_counter() - started_s:.1f} s",
        )
        reference_s = _rounds(small, root / "run-small", rounds)
        first_s = _rounds(big, root / "run-big", rounds)
        report(
            Result.of_rounds(
                BENCH,
                f"first page of {count:,} characters",
                first_s,
                "s",
                "the 41-character demo",
                reference_s,
                goal=f"< {GOAL_FIRST_PAGE_S:g} s",
                meets=lambda figure: figure < GOAL_FIRST_PAGE_S,
                higher_is_better=False,
            )
        )
        query_s = asyncio.run(_time_query(big, root / "run-query", rounds))
        report(
            Result.of_rounds(
                BENCH,
                f"the page query alone on {count:,} (service.list_characters)",
                query_s,
                "s",
                "the whole first page on screen",
                first_s,
                goal=f"< {GOAL_FIRST_PAGE_S:g} s",
                meets=lambda figure: figure < GOAL_FIRST_PAGE_S,
                higher_is_better=False,
            )
        )
        filtered_s = _rounds(big, root / "run-filter", rounds, steps=("1", "o"))
        report(
            Result.of_rounds(
                BENCH,
                f"slowest of filter 'no avatar' and a re-sort on {count:,}",
                filtered_s,
                "s",
                "the first page",
                first_s,
                goal=f"< {GOAL_FIRST_PAGE_S:g} s",
                meets=lambda figure: figure < GOAL_FIRST_PAGE_S,
                higher_is_better=False,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
