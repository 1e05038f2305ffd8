"""``tavern-updater-tui cards export|import``: Character Cards out of and into the database.

Both go through the state dir's owner when one runs (the dashboard), else through an engine of
their own. The owner is on this machine, so files move between it and the command's folders
directly: an export to an absolute ``--out`` is written under the owner's ``cards/`` and moved,
and cards imported from outside the migrations dir (the only folder a request may name) are
copied into it for the task and removed once it has finished.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

from tui_updater.commands.attach import own_or_attach
from tui_updater.commands.run import ProgressLine, follow
from tui_updater.config import Settings
from tui_updater.core.models import TaskRecord, TaskStatus
from tui_updater.core.service import CharacterQuery
from tui_updater.errors import InvalidParameters, TavernError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
IMPORT_TYPE = "CHARACTER_IMPORT"


def import_data(paths: list[str], user_id: str | None, on_duplicate: str) -> dict[str, Any]:
    """The task's parameters for these files (or one folder): their folder and their names."""
    given = [Path(p).expanduser().resolve() for p in paths]
    data: dict[str, Any] = {"onDuplicate": on_duplicate}
    if user_id:
        data["userId"] = user_id
    if len(given) == 1 and given[0].is_dir():
        return {**data, "directory": str(given[0])}
    for path in given:
        if not path.is_file():
            raise InvalidParameters("FILE", f"{path} is not a file")
    folder = Path(os.path.commonpath([str(p.parent) for p in given]))
    return {
        **data,
        "directory": str(folder),
        "files": [str(p.relative_to(folder)) for p in given],
    }


def _stage(data: dict[str, Any], migrations_dir: Path) -> tuple[dict[str, Any], Path | None]:
    """Copy the cards into the migrations dir when they are outside it (see module docstring)."""
    folder = Path(data["directory"])
    root = migrations_dir.resolve()
    if folder.resolve().is_relative_to(root):
        return data, None
    staged = root / f".cards-import-{uuid.uuid4().hex[:12]}"
    names = data.get("files") or [
        p.name for p in folder.iterdir() if p.suffix.lower() in (".png", ".json")
    ]
    for name in names:
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / name, staged / name)
    return {**data, "directory": str(staged), "files": list(names)}, staged


async def _import(settings: Settings, data: dict[str, Any]) -> TaskRecord | None:
    attached = await own_or_attach(settings, mode="cards import")
    staged: Path | None = None
    try:
        if attached.owner is not None:
            data, staged = await asyncio.to_thread(_stage, data, settings.migrations_dir)
        task = await attached.service.submit(IMPORT_TYPE, data, "NORMAL")
        finished = await follow(attached.service, task.task_id, ProgressLine())
        if attached.runtime is not None:
            await attached.runtime.engine.wait_idle()
        return finished
    finally:
        await attached.aclose()
        if staged is not None:
            await asyncio.to_thread(shutil.rmtree, staged, True)


async def _export(settings: Settings, args: argparse.Namespace, out: Path | None) -> dict[str, Any]:
    attached = await own_or_attach(settings, mode="cards export")
    try:
        service = attached.service
        if args.all:
            query = CharacterQuery.parse(
                search=args.search, filters=args.filter, language=args.language
            )
            ids = await service.character_ids(query)
        else:
            ids = [key.strip() for key in str(args.ids).split(",") if key.strip()]
        if out is None or attached.owner is None:
            report: dict[str, Any] = await service.export_cards(
                ids, args.format, str(out) if out else None
            )
            return report
        # The owner writes only under its cards/ for a request; move the files from there.
        scratch = f".export-{uuid.uuid4().hex[:12]}"
        report = await service.export_cards(ids, args.format, scratch)
        return await asyncio.to_thread(_move_into, report, out)
    finally:
        await attached.aclose()


def _move_into(report: dict[str, Any], out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    moved = []
    for file in report["files"]:
        target = out / Path(file).name
        shutil.move(file, target)
        moved.append(str(target))
    shutil.rmtree(report["directory"], ignore_errors=True)
    return {**report, "directory": str(out), "files": moved}


def cards_command(settings: Settings, args: argparse.Namespace) -> int:
    from tui_updater.logs import setup_logging

    setup_logging(
        level=settings.log_level, log_dir=settings.log_dir, stderr=True, silent=settings.silent
    )
    try:
        if args.cards_command == "export":
            out = Path(args.out).expanduser().resolve() if args.out else None
            report = asyncio.run(_export(settings, args, out))
            if args.json:
                print(json.dumps(report, ensure_ascii=False, indent=2))
            else:
                print(
                    f"exported {report['exported']} cards ({report['format']}) to {report['directory']}"
                )
                if report["unknownIds"]:
                    print(f"unknown ids: {', '.join(report['unknownIds'])}", file=sys.stderr)
            return EXIT_OK if not report["unknownIds"] else EXIT_FAILED
        data = import_data(args.files, args.user_id, args.on_duplicate)
        finished = asyncio.run(_import(settings, data))
    except InvalidParameters as exc:
        print(f"error: invalid parameter {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except TavernError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"error: cannot use {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if finished is None:
        print("error: the owner of the state dir went away during the import", file=sys.stderr)
        return EXIT_FAILED
    result = finished.result or {}
    if args.json:
        print(json.dumps(finished.to_json(), ensure_ascii=False, indent=2))
    else:
        print(
            f"{finished.task_id} {finished.status.value}: {result.get('done', 0)} imported, "
            f"{result.get('skipped', 0)} duplicates skipped, {result.get('failed', 0)} refused"
        )
        for duplicate in result.get("duplicates", []):
            print(f"  skipped {duplicate['file']}: {duplicate['reason']}")
        if finished.error:
            print(f"error: {finished.error}", file=sys.stderr)
    return EXIT_OK if finished.status is TaskStatus.COMPLETED else EXIT_FAILED
