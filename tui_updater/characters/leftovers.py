"""Scratch files named for the process that owns them, and the sweep that removes what a killed
process left: rehearsal copies in the temp directory, ``.partial`` backups in the backup dir.

A leftover is removed only when its owner PID is no longer alive, never another live run's.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

SCRATCH_PREFIX = "tui-updater-rehearsal-"
_SCRATCH = re.compile(rf"^{re.escape(SCRATCH_PREFIX)}(?P<pid>\d+)-")
_PARTIAL = re.compile(r"\.(?P<pid>\d+)\.partial$")


def scratch_prefix() -> str:
    """The temp-directory prefix of this process's rehearsal copies."""
    return f"{SCRATCH_PREFIX}{os.getpid()}-"


def partial_name(name: str) -> str:
    """The in-progress name of backup ``name`` written by this process."""
    return f"{name}.{os.getpid()}.partial"


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def sweep(backup_dir: Path, temp_dir: Path | None = None) -> list[Path]:
    """Remove rehearsal copies and partial backups whose owner process is dead; return them."""
    removed: list[Path] = []
    temp = Path(temp_dir or tempfile.gettempdir())
    for folder, pattern in ((temp, _SCRATCH), (Path(backup_dir), _PARTIAL)):
        try:
            entries = list(folder.iterdir())
        except OSError:
            continue  # no such directory yet: nothing was left there
        for path in entries:
            match = pattern.search(path.name)
            if match is None or pid_alive(int(match["pid"])):
                continue
            try:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError:
                continue  # removed meanwhile, or not ours to remove
            removed.append(path)
    return removed
