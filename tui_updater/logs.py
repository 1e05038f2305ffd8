"""Logging: stderr in the original's shape, a rotating file in the log dir, quiet in the TUI."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

LOG_FORMAT = "[%(asctime)s] %(levelname)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
LOG_FILE_NAME = "tavern-updater.log"


def setup_logging(*, level: str, log_dir: Path | None, stderr: bool, silent: bool = False) -> None:
    """Configure the ``tui_updater`` logger (and quiet noisy libraries)."""
    root = logging.getLogger("tui_updater")
    root.handlers.clear()
    root.propagate = False
    numeric = getattr(logging, level.upper(), logging.INFO)
    root.setLevel(numeric)
    formatter = logging.Formatter(LOG_FORMAT, DATE_FORMAT)
    if stderr:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.ERROR if silent else numeric)
        handler.setFormatter(formatter)
        root.addHandler(handler)
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                log_dir / LOG_FILE_NAME, maxBytes=5_000_000, backupCount=3, encoding="utf-8"
            )
        except OSError:
            pass  # an unwritable log dir must not stop the app; stderr still works
        else:
            file_handler.setFormatter(formatter)
            file_handler.setLevel(numeric)
            root.addHandler(file_handler)
            for noisy in (
                "httpx",
                "httpcore",
                "uvicorn",
                "uvicorn.error",
                "uvicorn.access",
                "stamina",
            ):
                lib = logging.getLogger(noisy)
                lib.handlers.clear()
                lib.addHandler(file_handler)
                lib.setLevel(logging.WARNING)
                lib.propagate = False
