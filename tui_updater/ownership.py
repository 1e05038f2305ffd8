"""One engine owns a state dir: an OS lock held for the owner's lifetime, and where its control
socket is, so every other process becomes its client.

The lock is ``flock`` on ``owner.lock`` in the state dir; the kernel releases it when the owner
dies, so nothing is ever stale. The lock file's content names the owner (pid, control socket).
Windows has no ``flock`` or Unix sockets here: ownership there is refused with a message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tui_updater.errors import TavernError

LOCK_NAME = "owner.lock"
SOCKET_NAME = "control.sock"
_MAX_SOCKET_PATH = 100  # sockaddr_un holds 104-108 bytes depending on the system


@dataclass(frozen=True)
class OwnerInfo:
    """Who owns a state dir: its process id, its control socket, and what it runs."""

    pid: int
    socket: str
    mode: str


class StateDirOwned(TavernError):
    """Another process holds this state dir; its engine is reached through its control socket."""

    def __init__(self, state_dir: Path, owner: OwnerInfo | None, *, detail: str = ""):
        self.state_dir = state_dir
        self.owner = owner
        who = (
            f"pid {owner.pid} ({owner.mode}), control socket {owner.socket}"
            if owner
            else "a process that is still starting"
        )
        detail = f"; {detail}" if detail else ""
        super().__init__(f"another process owns the state dir {state_dir}: {who}{detail}")


def supported() -> bool:
    """Ownership by flock + Unix socket: every POSIX system."""
    return sys.platform != "win32"


def socket_path(state_dir: Path) -> Path:
    """``control.sock`` in the state dir, or a per-state-dir name in the temp dir when that path
    is too long for a Unix socket address."""
    inside = Path(state_dir).resolve() / SOCKET_NAME
    if len(os.fsencode(inside)) <= _MAX_SOCKET_PATH:
        return inside
    digest = hashlib.sha256(os.fsencode(inside)).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"tavern-updater-{os.getuid()}-{digest}.sock"


def read_owner(state_dir: Path) -> OwnerInfo | None:
    """The owner named in the lock file, or None while it is being written (or never was)."""
    try:
        data = json.loads((Path(state_dir) / LOCK_NAME).read_text("utf-8"))
        return OwnerInfo(int(data["pid"]), str(data["socket"]), str(data.get("mode", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


class OwnerLock:
    """The held lock of one state dir; ``release`` (or the process's death) gives it up."""

    def __init__(self, state_dir: Path, handle: IO[str]):
        self.state_dir = Path(state_dir)
        self.socket = socket_path(state_dir)
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, state_dir: Path, *, mode: str) -> OwnerLock:
        """Take the state dir, or raise StateDirOwned naming the process that has it."""
        if not supported():
            raise TavernError(
                "owning a state dir needs flock and Unix sockets, which this platform lacks; "
                "run one tavern-updater-tui process per --state-dir"
            )
        import fcntl

        Path(state_dir).mkdir(parents=True, exist_ok=True)
        path = Path(state_dir) / LOCK_NAME
        handle = open(path, "a+", encoding="utf-8")  # held for the lifetime
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StateDirOwned(Path(state_dir), read_owner(state_dir)) from None
        except BaseException:
            handle.close()
            raise
        lock = cls(state_dir, handle)
        lock._publish(mode)
        return lock

    def _publish(self, mode: str) -> None:
        assert self._handle is not None
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(
            json.dumps({"pid": os.getpid(), "socket": str(self.socket), "mode": mode})
        )
        self._handle.flush()

    def clear_stale_socket(self) -> None:
        """Remove a socket file a dead owner left; only the lock holder may (it is not in use)."""
        with contextlib.suppress(FileNotFoundError):
            self.socket.unlink()

    def release(self) -> None:
        if self._handle is None:
            return
        self.clear_stale_socket()
        with contextlib.suppress(OSError):
            self._handle.seek(0)
            self._handle.truncate()
        self._handle.close()  # closing the descriptor releases the flock
        self._handle = None
