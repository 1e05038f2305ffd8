"""Command-line parsing: modes (dashboard, --serve, --connect) and the run / backups / schedules
commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from tui_updater import __version__

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

EPILOG = """\
commands:
  run TYPE [--priority P] [--data JSON] [--json]   run one task to the end (cron, scripts)
  backups list | backups restore NAME              list or restore database backups
  cards export --ids A,B|--all [--format v2|v3|json] [--out DIR]   Character Card files
  cards import FILE…|DIR [--user-id ID] [--on-duplicate skip|import]  cards as new characters
  schedules add TYPE (--cron EXPR | --every MIN)   add a schedule / watch rule
  schedules list | remove ID | enable ID | disable ID

task types: CHARACTER_AVATAR, CHARACTER_SETTINGS, MBTI_ASSIGNMENT, DATABASE_UPGRADE,
  CHARACTER_IMPORT
environment: TAVERN_DB, NEWAPI_BASE_URL, NEWAPI_KEY (or NEWAPI_API_KEY, OPENAI_BASE_URL,
  OPENAI_API_KEY), DEFAULT_MODEL (image model), CHAT_MODEL, TAVERN_UPDATER_TOKEN, DEBUG=1
exit codes: 0 completed, 1 task failed or cancelled, 2 bad input
"""


def _common(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Flags every mode and command accepts (before or after the command word)."""
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("common options")
    group.add_argument(
        "--db", metavar="PATH", default=default, help="character database (env TAVERN_DB)"
    )
    group.add_argument(
        "--demo", action="store_true", default=default, help="use the bundled demo database"
    )
    group.add_argument(
        "--offline", action="store_true", default=default, help="use the built-in offline provider"
    )
    group.add_argument("--state-dir", metavar="DIR", default=default, help="where tasks.db lives")
    group.add_argument("--data-dir", metavar="DIR", default=default, help="demo database, avatars")
    group.add_argument("--backup-dir", metavar="DIR", default=default, help="database backups")
    group.add_argument(
        "--avatar-dir", metavar="DIR", default=default, help="generated avatar files"
    )
    group.add_argument("--log-dir", metavar="DIR", default=default, help="rotating log file")
    group.add_argument(
        "--migrations-dir",
        metavar="DIR",
        default=default,
        help="allowed .sql files for network requests",
    )
    group.add_argument("--config", metavar="FILE", default=default, help="config.toml to read")
    group.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], default=default
    )


def _cards_parser(commands: Any) -> None:
    """The ``cards`` sub-command: export and import Character Cards."""
    cards = commands.add_parser("cards", help="export or import Character Cards (V2/V3)")
    actions = cards.add_subparsers(dest="cards_command", metavar="ACTION", required=True)
    export = actions.add_parser("export", help="write characters as card files")
    chosen = export.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--ids", help="character ids, comma-separated")
    chosen.add_argument("--all", action="store_true", help="every character the filter matches")
    export.add_argument("--search", help="with --all: in the name or description")
    export.add_argument("--filter", help="with --all: missingAvatar, noMbti, thinDescription")
    export.add_argument("--language", help="with --all: only this language")
    export.add_argument("--format", choices=["v2", "v3", "json"], default="v3")
    export.add_argument("--out", metavar="DIR", help="target folder (default: <data dir>/cards)")
    export.add_argument("--json", action="store_true", help="print the report as JSON")
    _common(export, suppress=True)
    imp = actions.add_parser("import", help="import card files (.png, .json) as new characters")
    imp.add_argument("files", nargs="+", metavar="FILE", help="card files, or one folder")
    imp.add_argument("--user-id", help="the site user who owns the new characters")
    imp.add_argument(
        "--on-duplicate",
        choices=["skip", "import"],
        default="skip",
        help="a name the user already has: skip the card (default) or import it anyway",
    )
    imp.add_argument("--json", action="store_true", help="print the finished task as JSON")
    _common(imp, suppress=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tavern-updater-tui",
        description="Terminal dashboard and background task engine for AI character databases.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    modes = parser.add_argument_group("modes (default: the dashboard with the engine embedded)")
    modes.add_argument("--serve", action="store_true", help="headless: REST + WebSocket server")
    modes.add_argument(
        "--connect", metavar="URL", help="dashboard attached to a remote --serve engine"
    )
    server = parser.add_argument_group("server options")
    server.add_argument("--host", help="bind address for --serve (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port for --serve (default 3002)")
    server.add_argument(
        "--token", help="bearer token (env TAVERN_UPDATER_TOKEN); required off loopback"
    )
    server.add_argument(
        "--allow-origin",
        dest="allow_origins",
        action="append",
        metavar="ORIGIN",
        help="browser Origin allowed to call the API (repeatable)",
    )
    server.add_argument("--silent", action="store_true", help="log only errors")
    _common(parser, suppress=False)

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="run one task to completion",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("type", metavar="TYPE", help="task type, e.g. MBTI_ASSIGNMENT")
    run.add_argument("--priority", default="NORMAL", help="LOW, NORMAL, HIGH, URGENT or 1-4")
    run.add_argument(
        "--data", default="{}", metavar="JSON", help="task parameters as a JSON object"
    )
    run.add_argument(
        "--json", action="store_true", help="print the finished task as JSON on stdout"
    )
    _common(run, suppress=True)

    backups = commands.add_parser("backups", help="list or restore database backups")
    backup_commands = backups.add_subparsers(dest="backup_command", metavar="ACTION", required=True)
    backup_list = backup_commands.add_parser("list", help="list backups, newest first")
    backup_list.add_argument("--json", action="store_true")
    _common(backup_list, suppress=True)
    backup_restore = backup_commands.add_parser(
        "restore", help="restore a backup (the current state is backed up first)"
    )
    backup_restore.add_argument("name", help="backup file name as shown by `backups list`")
    backup_restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    _common(backup_restore, suppress=True)
    _cards_parser(commands)

    from tui_updater.commands.schedules import add_parser

    add_parser(commands, lambda sub: _common(sub, suppress=True))
    return parser


def settings_overrides(args: argparse.Namespace) -> dict[str, Any]:
    keys = (
        "db", "demo", "offline", "state_dir", "data_dir", "backup_dir", "avatar_dir", "log_dir",
        "migrations_dir", "config", "log_level", "silent", "host", "port", "token", "allow_origins",
    )  # fmt: skip
    return {key: getattr(args, key, None) for key in keys}


def skip_httpx_command_line() -> None:
    """Keep httpx from importing its command-line client (click, rich, pygments: ~0.1 s of
    every start-up) whenever those happen to be installed; this process never runs it, and
    httpx falls back to a stub when the import fails."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


def end_process(code: int) -> NoReturn:
    """Exit with ``code`` without the interpreter tearing down every loaded module one by one
    (~0.15 CPU s after a ``run``, all of it after the answer is printed). Only once the
    command has closed what it opened and no other thread is left: atexit handlers (logging's
    flush and close among them) still run, and stdout and stderr are flushed."""
    import atexit
    import os
    import threading

    if threading.active_count() > 1:
        sys.exit(code)  # the normal exit joins the threads still running
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can be said
            pass
    os._exit(code)


def main(argv: Sequence[str]) -> int:
    skip_httpx_command_line()
    parser = build_parser()
    args = parser.parse_args(list(argv))
    from tui_updater.config import load_settings
    from tui_updater.errors import TavernError

    try:
        settings = load_settings(settings_overrides(args))
    except TavernError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    if args.command == "run":
        from tui_updater.commands.run import run_command

        return run_command(
            settings, args.type, data=args.data, priority=args.priority, as_json=args.json
        )
    if args.command == "schedules":
        from tui_updater.commands.schedules import schedules_command

        return schedules_command(settings, args)
    if args.command == "backups":
        from tui_updater.commands.backups import backups_command

        return backups_command(settings, args)
    if args.command == "cards":
        from tui_updater.commands.cards import cards_command

        return cards_command(settings, args)
    if args.serve and args.connect:
        print("error: --serve and --connect cannot be used together", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.serve:
        from tui_updater.commands.serve import serve_command

        return serve_command(settings)
    from tui_updater.commands.dashboard import dashboard_command

    return dashboard_command(
        settings, connect_url=args.connect, token=args.token or settings.server.token
    )
