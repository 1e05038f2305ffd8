"""A Static for text refreshed on a timer: unchanged text costs nothing, new text of the same
height repaints the widget alone.

``Static.update`` asks for a layout of the whole screen by default: the compositor then reflows
every widget and repaints what moved. For the header, the paging line and the detail pane's
sections, refreshed every flush or every second, those layouts were the longest frames a key
press waited behind; a layout is only needed when the text's height at the widget's width
differs from the height the widget has.
"""

from __future__ import annotations

from textual.visual import VisualType
from textual.widgets import Static


class SteadyStatic(Static):
    """``show_text`` updates the text when it differs, and lays out only when its height does."""

    def show_text(self, content: VisualType) -> None:
        """Show ``content``: nothing when it is what is shown, a repaint when the height holds."""
        if content == self.content:
            return
        self.update(content, layout=False)
        width, height = self.content_size
        # the size arguments only matter to containers; a Static measures its text at ``width``
        if not width or self.get_content_height(self.size, self.size, width) != height:
            self.refresh(layout=True)
