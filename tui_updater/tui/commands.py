"""The command palette provider: every dashboard action, searchable by name."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui_updater.tui.keys import KEYS, display_key


class TavernCommands(Provider):
    """Offers each key's action (and one "new task" command per task type) in ctrl+p."""

    def _commands(self) -> Iterator[tuple[str, str, str]]:
        for spec in KEYS:
            yield spec.help, f"key {display_key(spec.key)}", spec.action
        types = getattr(self.app, "task_types", [])
        for info in types:
            action = f"new_task('{info.name}')"
            if not any(spec.action == action for spec in KEYS):
                yield f"New task: {info.title}", info.description, action

    async def discover(self) -> Hits:
        for title, help_text, action in self._commands():
            yield DiscoveryHit(title, partial(self.app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self.app.run_action, action),
                    help=help_text,
                )
