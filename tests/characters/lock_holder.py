"""Subprocess that holds a database's write lock (BEGIN IMMEDIATE) until told to let go.

Prints ``locked`` once the lock is held, then waits for a line on stdin and commits: the site's
long transaction, played by a real second process.
"""

from __future__ import annotations

import sqlite3
import sys


def main(db_path: str) -> None:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    sys.stdin.readline()
    conn.execute("COMMIT")
    conn.close()
    print("released", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
