"""The demo character database: the real TavernAI Plus schema (as Prisma made it) with real gaps.

Also a fast synthetic generator of the same shape for benchmarks.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tui_updater.characters.cast import DEMO_CAST, DemoCharacter

# The tables as Prisma's migrations leave them (TEXT ids, DateTime as DATETIME columns).
PRISMA_SCHEMA_SQL = """
CREATE TABLE "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "checksum" TEXT NOT NULL,
    "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL,
    "logs" TEXT,
    "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
);
CREATE TABLE "User" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "email" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "password" TEXT,
    "avatar" TEXT,
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL
);
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");
CREATE UNIQUE INDEX "User_username_key" ON "User"("username");
CREATE TABLE "Character" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "userId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "fullDescription" TEXT,
    "personality" TEXT,
    "backstory" TEXT,
    "speakingStyle" TEXT,
    "scenario" TEXT,
    "firstMessage" TEXT,
    "systemPrompt" TEXT,
    "exampleDialogs" TEXT,
    "avatar" TEXT,
    "coverImage" TEXT,
    "category" TEXT NOT NULL DEFAULT '原创',
    "tags" TEXT NOT NULL DEFAULT '[]',
    "language" TEXT NOT NULL DEFAULT 'zh-CN',
    "model" TEXT NOT NULL DEFAULT 'gpt-3.5-turbo',
    "temperature_value" REAL NOT NULL DEFAULT 0.7,
    "max_tokens" INTEGER NOT NULL DEFAULT 1000,
    "is_public" BOOLEAN NOT NULL DEFAULT true,
    "is_nsfw" BOOLEAN NOT NULL DEFAULT false,
    "is_featured" BOOLEAN NOT NULL DEFAULT false,
    "isDeleted" BOOLEAN NOT NULL DEFAULT false,
    "rating" REAL NOT NULL DEFAULT 0,
    "rating_count" INTEGER NOT NULL DEFAULT 0,
    "chat_count" INTEGER NOT NULL DEFAULT 0,
    "favorite_count" INTEGER NOT NULL DEFAULT 0,
    "importedFrom" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "created_at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" DATETIME NOT NULL,
    "backgroundImage" TEXT,
    "mbtiType" TEXT,
    "emotionPack" TEXT,
    "avatarStatus" TEXT DEFAULT 'PENDING',
    "backgroundStatus" TEXT DEFAULT 'PENDING',
    "emotionStatus" TEXT DEFAULT 'PENDING',
    CONSTRAINT "Character_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id")
        ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE UNIQUE INDEX "Character_userId_name_key" ON "Character"("userId", "name");
"""

MIGRATION_NAMES = ("20240301000000_init", "20240915000000_add_mbti_and_media_status")
BASE_TIME_MS = 1_717_200_000_000  # 2024-06-01 UTC: demo rows are dated from here
_CHARACTER_COLUMNS = (
    "id", "userId", "name", "description", "fullDescription", "personality", "backstory",
    "speakingStyle", "scenario", "firstMessage", "exampleDialogs", "avatar", "category",
    "tags", "language", "isDeleted", "chat_count", "created_at", "updated_at", "mbtiType",
    "avatarStatus",
)  # fmt: skip
_INSERT_CHARACTER = (
    'INSERT INTO "Character" ('
    + ", ".join(f'"{c}"' for c in _CHARACTER_COLUMNS)
    + ") VALUES ("
    + ", ".join("?" * len(_CHARACTER_COLUMNS))
    + ")"
)
_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"


def cuid_like(seed: str) -> str:
    """A deterministic 25-character id shaped like Prisma's cuid() (``c`` + 24 base-36 chars)."""
    number = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "big")
    chars = []
    for _ in range(24):
        number, rem = divmod(number, 36)
        chars.append(_ALPHABET[rem])
    return "c" + "".join(chars)


def _create_schema(conn: sqlite3.Connection, now_ms: int) -> str:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(PRISMA_SCHEMA_SQL)
    for index, name in enumerate(MIGRATION_NAMES):
        conn.execute(
            'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", '
            '"started_at", "applied_steps_count") VALUES (?, ?, ?, ?, ?, 1)',
            (
                cuid_like(name),
                hashlib.sha256(name.encode()).hexdigest(),
                now_ms + index,
                name,
                now_ms,
            ),
        )
    user_id = cuid_like("demo-user")
    conn.execute(
        'INSERT INTO "User" ("id", "email", "username", "created_at", "updated_at") '
        "VALUES (?, ?, ?, ?, ?)",
        (user_id, "demo@example.com", "demo", BASE_TIME_MS, BASE_TIME_MS),
    )
    return user_id


def _dialogs(char: DemoCharacter) -> str:
    if char.language.startswith("zh"):
        pairs = [{"user": "你好，你是谁？", "character": char.first_message or char.description}]
    else:
        pairs = [{"user": "Hi, who are you?", "character": char.first_message or char.description}]
    return json.dumps(pairs, ensure_ascii=False)


def _demo_row(index: int, char: DemoCharacter, user_id: str) -> tuple[Any, ...]:
    """One Character row; the index decides the deliberate gaps."""
    has_avatar = index % 2 == 0
    char_id = cuid_like(f"demo-character-{index}")
    status = "COMPLETED" if has_avatar else "PENDING"
    if index in (4, 17):
        status = "FAILED"  # an earlier (re)generation failed: eligible again
    full = None
    if index % 4 == 0 and char.backstory and char.personality:
        full = f"{char.description}\n\n{char.personality}\n\n{char.backstory}"
    created = BASE_TIME_MS + index * 3_600_000
    return (
        char_id,
        user_id,
        char.name,
        char.description,
        full,
        char.personality,
        char.backstory,
        char.speaking_style,
        char.scenario,
        char.first_message,
        _dialogs(char) if index % 6 == 0 else None,
        f"/uploads/characters/avatars/{char_id}-avatar.png" if has_avatar else None,
        char.category,
        json.dumps(list(char.tags), ensure_ascii=False),
        char.language,
        1 if index == len(DEMO_CAST) - 1 else 0,  # one soft-deleted character
        (index * 37) % 500,
        created,
        created + 86_400_000,
        char.mbti,
        status,
    )


def create_demo_db(path: Path) -> Path:
    """Write the demo database at ``path`` (replacing nothing: the file must not exist)."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    try:
        user_id = _create_schema(conn, BASE_TIME_MS)
        rows = [_demo_row(i, char, user_id) for i, char in enumerate(DEMO_CAST)]
        conn.executemany(_INSERT_CHARACTER, rows)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    tmp.replace(path)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    return path


def ensure_demo_db(data_dir: Path) -> Path:
    """``data_dir/demo/dev.db``, created on first use."""
    path = Path(data_dir) / "demo" / "dev.db"
    if not path.exists():
        create_demo_db(path)
    return path


_SYNTH_TRAITS = ("calm", "bold", "curious", "shy", "loyal", "witty", "stern", "gentle")
_SYNTH_ROLES = ("knight", "hacker", "healer", "merchant", "pilot", "scholar", "thief", "bard")
_SYNTH_ZH = ("冷静", "热情", "好奇", "害羞", "忠诚", "机智", "严肃", "温柔")


def _synthetic_rows(count: int, seed: int, user_id: str) -> Iterator[tuple[Any, ...]]:
    rng = random.Random(seed)
    for index in range(count):
        trait, role = rng.choice(_SYNTH_TRAITS), rng.choice(_SYNTH_ROLES)
        zh = rng.random() < 0.5
        name = f"角色{index}" if zh else f"{trait.title()} {role.title()} {index}"
        desc = f"一位{rng.choice(_SYNTH_ZH)}的{role}。" if zh else f"A {trait} {role}."
        created = BASE_TIME_MS + index * 1000
        has_avatar = rng.random() < 0.5
        char_id = cuid_like(f"synthetic-{seed}-{index}")
        yield (
            char_id, user_id, name, desc, None,
            rng.choice(_SYNTH_ZH) if zh else trait, None, None, None, None, None,
            f"/uploads/characters/avatars/{char_id}-avatar.png" if has_avatar else None,
            "原创", "[]", "zh-CN" if zh else "en-US", 0, 0, created, created,
            None, "COMPLETED" if has_avatar else "PENDING",
        )  # fmt: skip


def generate_synthetic_db(path: Path, n: int, seed: int = 0) -> Path:
    """A database of ``n`` generated characters with the demo schema (for benchmarks)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA synchronous=OFF")
        user_id = _create_schema(conn, BASE_TIME_MS)
        conn.executemany(_INSERT_CHARACTER, _synthetic_rows(n, seed, user_id))
        conn.commit()
    finally:
        conn.close()
    return path
