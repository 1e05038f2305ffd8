"""The tool's own process: library defaults its entry point settles for the whole process.

``tui_updater.__main__`` (the console script) marks the process as the tool's own; an
application embedding the tool (``tui_updater.api``) never does, so its libraries keep every
default.
"""

from __future__ import annotations

import gc
import os
import sys

from tui_updater.core.heap import settle_heap

# Young collections every this many allocations (CPython: 700). Start-up builds ~55,000 objects
# that live as long as the process, and a run's records die by reference count: at 700, the
# collector took 6-8 % of a gateway run's CPU and found almost nothing to collect.
YOUNG_COLLECTION_EVERY = 7000

_owned = False


def own() -> None:
    """Called by the process entry: this process runs the tool and nothing else."""
    global _owned
    _owned = True
    # No pydantic plug-in instruments the tool's models, and looking for one reads the entry
    # points of every installed distribution (~30 ms of CPU at each start).
    # PYDANTIC_DISABLE_PLUGINS set to an empty value looks for them again.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *gc.get_threshold()[1:])


def started() -> None:
    """Called once the runtime is open: in the tool's own process, what exists by then (modules,
    models, the engine) lives as long as the process, so the collector stops walking it."""
    if _owned:
        settle_heap(collect=False)  # start-up made next to no garbage: no full pass to pay


def import_aiohttp() -> None:
    """Import aiohttp for the gateway client; in the tool's own process, without loading the
    system CA bundle into the two default TLS contexts aiohttp builds at import (~70 ms of CPU).

    No connector of the tool uses them: every one gets the gateway client's own context
    (``providers.http.tls_context``, certifi's bundle or SSL_CERT_FILE, loaded on first use).
    The default contexts still find CAs through the system's hashed certificate directory.
    """
    if "aiohttp" in sys.modules or not _owned:
        import aiohttp

        return
    saved = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = os.devnull
    try:
        import aiohttp  # noqa: F401
    finally:
        if saved is None:
            del os.environ["SSL_CERT_FILE"]
        else:
            os.environ["SSL_CERT_FILE"] = saved
