"""Keeping the collector's full passes off the key press path.

The dashboard's start-up heap (Textual's DOM, styles and render caches, the table's rows, the
engine in a local session) is ~150k tracked objects that live as long as the app. Every few
seconds under a stream of events CPython's generation-2 pass walked all of them (100–140 ms of
CPU each), and a key press that arrived meanwhile waited for it. Freezing that heap once it is
built moves it out of the collector's sight: later passes walk only what was allocated since.
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect what start-up left behind, then freeze everything alive (it stays alive).

    A frozen object is still freed when its last reference goes; only a reference cycle among
    frozen objects that becomes garbage later is never collected, so this runs after a full
    load (start-up, a resync), not per event.
    """
    gc.collect()
    gc.freeze()
