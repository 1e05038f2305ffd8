"""Avatar image files: named so the site cannot already own them, never written over a file.

A new image is ``<id>-avatar-<task id>-<content hash>.png``: the task id keeps it apart from the
site's own files (``<id>-avatar.png``, uploads), the hash from another image of the same task.
It is written to a temporary file unique to the call, then hard-linked into place, which refuses
to replace an existing file; a directory that is full or read-only stops the task.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

from tui_updater.errors import OutputUnwritable, PermanentError

MIN_FREE_BYTES = 4 * 1024 * 1024  # below this an image may not fit: stop before paying for it
_FULL = {errno.ENOSPC, errno.EDQUOT}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV}


def safe_stem(character_id: str) -> str:
    """The character id with anything unsafe in a file name replaced."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", character_id).lstrip(".")


def avatar_file_name(character_id: str, task_id: str, data: bytes) -> str:
    """``<id>-avatar-<task id>-<hash>.png`` for this image of this task."""
    digest = hashlib.sha256(data).hexdigest()[:12]
    return f"{safe_stem(character_id)}-avatar-{safe_stem(task_id)}-{digest}.png"


def unwritable(directory: Path, exc: OSError) -> OutputUnwritable | None:
    """The task-stopping error for a full or read-only directory, or None for other failures."""
    if exc.errno in _FULL:
        return OutputUnwritable(f"cannot write avatars to {directory}: disk full")
    if exc.errno in _READ_ONLY:
        return OutputUnwritable(f"cannot write avatars to {directory}: read-only ({exc.strerror})")
    return None


def check_avatar_dir(directory: Path) -> None:
    """Raise OutputUnwritable when ``directory`` cannot take another image (before one is paid)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(directory).free
    except OSError as exc:
        raise unwritable(directory, exc) or exc from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputUnwritable(f"cannot write avatars to {directory}: read-only (no permission)")
    if free < MIN_FREE_BYTES:
        raise OutputUnwritable(
            f"cannot write avatars to {directory}: disk full ({free} bytes free)"
        )


def store_avatar(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``directory/name`` without ever replacing a file that exists there.

    The same bytes found under the name are this task's own earlier write (the name carries the
    task id and the content hash), so that is accepted; anything else refuses.
    """
    final = directory / name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, final)
            except FileExistsError:
                if final.read_bytes() != data:
                    raise PermanentError(
                        f"{final} exists with other content; not overwritten"
                    ) from None
            except OSError as exc:
                if exc.errno not in _NO_LINKS:
                    raise
                _write_exclusive(final, data)  # no hard links here: create the name exclusively
        finally:
            os.unlink(tmp)
    except OSError as exc:
        raise unwritable(directory, exc) or exc from None
    return final


def _write_exclusive(final: Path, data: bytes) -> None:
    try:
        with open(final, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
    except FileExistsError:
        if final.read_bytes() != data:
            raise PermanentError(f"{final} exists with other content; not overwritten") from None
    except BaseException:
        final.unlink(missing_ok=True)  # a partial image under the final name is worse than none
        raise


def remove_avatar(path: str | Path) -> None:
    """Remove a file this tool created (gone already is fine)."""
    Path(path).unlink(missing_ok=True)
