"""A DataTable whose cell updates repaint only the cells they touch.

Textual's ``DataTable.update_cell`` bumps one table-wide counter that is part of every render
cache key, so a single changed cell makes the next frame re-render every visible cell (and
rebuild the row offsets). Under a stream of progress events that is nearly every frame, and a
key press waits behind it. ``set_row_cells`` writes the cells and forgets only the cached renders
of those cells (and the lines of their rows); every other cache (offsets, order, the other cells)
stays valid because no row moved. Rendering a cell through Rich is the costly part of a frame:
when every visible row's age changes at once, one cell per row is rendered again, not all nine.
This leans on DataTable's private caches, so it lives here alone, and textual is pinned below 9
in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey


class RowTable(DataTable[Any]):
    """``set_row_cells`` updates one row's cells and repaints that row alone.

    Every row is one line high, so a row's place on screen is its index (no O(rows) walk).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # written since the last frame: row → its written columns, whose renders are dropped
        self._stale_cells: dict[RowKey, set[ColumnKey]] = {}

    def set_row_cells(self, row_key: str, cells: Mapping[str, Any]) -> None:
        """Write ``cells`` (column key → value) into the row ``row_key`` and repaint that row.

        Like ``update_cell`` without ``update_width``: the columns keep their widths.
        """
        if not cells:
            return
        key = RowKey(row_key)
        row = self._data[key]  # KeyError for an unknown row, as update_cell raises
        stale = self._stale_cells.setdefault(key, set())
        for column, value in cells.items():
            column_key = ColumnKey(column)
            if column_key not in self._column_locations:
                raise KeyError(f"no column {column!r}")
            row[column_key] = value
            stale.add(column_key)
        index = self.get_row_index(key)
        y = index + (self.header_height if self.show_header else 0)
        if self.scroll_y <= y < self.scroll_y + self.size.height:  # off screen: nothing to paint
            self.refresh(Region(0, y - int(self.scroll_y), self.size.width, 1))

    def add_row(
        self,
        *cells: Any,
        height: int | None = 1,
        key: str | None = None,
        label: Any = None,
    ) -> RowKey:
        if height != 1:
            raise ValueError(f"a RowTable row is one line high, not {height}")
        return super().add_row(*cells, height=height, key=key, label=label)

    def render_lines(self, crop: Region) -> list[Strip]:
        if self._stale_cells:
            self._forget_stale_cells()
        return super().render_lines(crop)

    def _forget_stale_cells(self) -> None:
        """Drop the cached renders of the cells written since the last frame (once per frame)."""
        stale, self._stale_cells = self._stale_cells, {}
        # cell renders are keyed (row key, column key, …); row renders (row key, line, …)
        cells = self._cell_render_cache
        for cell_key in [k for k in cells.keys() if k[1] in stale.get(k[0], ())]:
            cells.discard(cell_key)
        rows = self._row_render_cache
        for row_render_key in [k for k in rows.keys() if k[0] in stale]:
            rows.discard(row_render_key)
        # a row's formatted cells are keyed (update count, row index)
        update_count = self._update_count
        locations = self._row_locations
        for row_key in stale:
            index = locations.get(row_key)
            if index is not None:
                self._row_renderable_cache.discard((update_count, index))
        # keyed by screen line; only the lines a refresh marked dirty are rebuilt: cheap to drop
        self._line_cache.clear()
