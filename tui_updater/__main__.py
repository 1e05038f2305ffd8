"""Entry point: ``python -m tui_updater`` and the ``tavern-updater-tui`` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Without ``argv`` this is the process's entry point, and the process ends with the
    command; with it (tests, embedding) the exit code is returned."""
    from tui_updater.cli import end_process
    from tui_updater.cli import main as cli_main

    if argv is not None:
        return cli_main(argv)
    from tui_updater import process

    process.own()
    end_process(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
