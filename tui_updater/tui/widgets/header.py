"""The header bar (database, DEMO badge, provider and model, queue counts, connection state) and
the footer of live key bindings."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from rich.text import Text
from textual import events
from textual.widgets import Footer

from tui_updater.core.service import QueueStatus, ServiceInfo
from tui_updater.tui.widgets.steady import SteadyStatic


def gateway_text(gateway: Mapping[str, Any]) -> Text:
    """ "gateway 14/32 in flight · 40 waiting · backing off 3s" from the lane's state."""
    limit = int(gateway.get("limit") or 0)
    maximum = int(gateway.get("maxInFlight") or limit)
    text = Text(f"gateway {int(gateway.get('inFlight') or 0)}/{limit} in flight")
    if limit < maximum:
        text.append(f" (max {maximum})", style="dim")
    waiting = int(gateway.get("waiting") or 0)
    if waiting:
        text.append(f" · {waiting} waiting")
    if gateway.get("backingOff"):
        paused_s = float(gateway.get("pausedS") or 0)
        text.append(
            " · backing off" + (f" {paused_s:.0f}s" if paused_s >= 1 else ""), style="bold yellow"
        )
    spent = gateway.get("spent") or {}
    tokens = int(spent.get("totalTokens") or 0)
    if tokens:
        cost = spent.get("cost")
        text.append(f" · spent {_compact(tokens)} tokens", style="dim")
        if isinstance(cost, int | float):
            text.append(f" ≈ {cost:.4f}", style="dim")
    return text


def _compact(count: int) -> str:
    """1234 → 1.2k, 3456789 → 3.5M."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if count >= size:
            return f"{count / size:.1f}{suffix}"
    return str(count)


def over_gateway_cap(data: Mapping[str, Any], gateway: Mapping[str, Any] | None) -> str | None:
    """A warning (not a refusal) when a task asks more in flight than the gateway lane allows."""
    asked = data.get("concurrency")
    cap = int((gateway or {}).get("maxInFlight") or 0)
    if not cap or not isinstance(asked, int) or isinstance(asked, bool) or asked <= cap:
        return None
    return f"concurrency {asked} is above the gateway's cap of {cap}: at most {cap} run at once"


def header_text(
    info: ServiceInfo | None, status: QueueStatus | None, connection: str | None
) -> Text:
    """One line of header text; every part optional while the service is still loading."""
    text = Text()
    text.append(" tavern-updater ", style="bold reverse")
    if info is None:
        text.append("  connecting…", style="dim")
        return text
    text.append(" DB ", style="dim")
    site = info.extra.get("siteName")
    if site:
        text.append(f"{site} ", style="bold")
        text.append(info.database, style="dim")
    else:  # the whole path: two sites may both call their file dev.db
        parent, name = str(PurePath(info.database).parent), PurePath(info.database).name
        if name and parent not in (".", ""):
            text.append(parent.rstrip("/") + "/", style="dim")
        text.append(name or info.database, style="bold")
    if info.demo:
        text.append(" ")
        text.append(" DEMO ", style="bold black on yellow")
    text.append("  │  ", style="dim")
    if info.online:
        text.append("● online ", style="bold green")
        text.append(info.provider)
    else:
        text.append("○ offline provider", style="bold yellow")
    model = (
        info.chat_model
        if info.chat_model == info.image_model
        else f"{info.chat_model} / {info.image_model}"
    )
    if model and (info.online or model != "offline"):
        text.append(f" ({model})", style="dim")
    if status is not None:
        text.append("  │  ", style="dim")
        if status.paused:
            text.append("⏸ PAUSED", style="bold black on dark_orange")
        else:
            text.append("▶ running", style="green")
        text.append(f" {status.running}/{status.max_running}", style="bold")
        done = status.by_status.get("COMPLETED", 0)
        failed = status.by_status.get("FAILED", 0)
        text.append(f" · pending {status.pending} · done {done} · ")
        text.append(f"failed {failed}", style="red" if failed else "")
        if status.gateway:
            text.append("  │  ", style="dim")
            text.append_text(gateway_text(status.gateway))
    if info.remote:
        text.append("\n ")
        state = connection or "connected"
        style = "green" if state == "connected" else "bold red"
        text.append(f"remote {info.remote} ")
        text.append(state, style=style)
    return text


class HeaderBar(SteadyStatic):
    """Shows what the dashboard is connected to and how busy the queue is."""

    DEFAULT_CSS = """
    HeaderBar { height: auto; max-height: 3; background: $panel; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(header_text(None, None, None), id=id)
        self.info: ServiceInfo | None = None
        self.status: QueueStatus | None = None
        self.connection: str | None = None

    def show(
        self,
        info: ServiceInfo | None = None,
        status: QueueStatus | None = None,
        connection: str | None = None,
    ) -> None:
        if info is not None:
            self.info = info
        if status is not None:
            self.status = status
        if connection is not None:
            self.connection = connection
        self.show_text(header_text(self.info, self.status, self.connection))


class KeyFooter(Footer):
    """The compact footer; below NARROW_CELLS the palette hint yields its room to ``q Quit``."""

    NARROW_CELLS = 100

    def __init__(self) -> None:
        super().__init__(compact=True)

    def on_resize(self, event: events.Resize) -> None:
        wide = event.size.width >= self.NARROW_CELLS
        if wide != self.show_command_palette:
            self.show_command_palette = wide
            self.call_after_refresh(self.recompose)
