"""A DataTable whose cell updates repaint only the rows they touch.

Textual's ``DataTable.update_cell`` bumps one table-wide counter that is part of every render
cache key, so a single changed cell makes the next frame re-render every visible cell (and
rebuild the row offsets). Under a stream of progress events that is nearly every frame, and a
key press waits behind it. ``set_row_cells`` writes the cells and forgets only that row's cached
renders; the table's other caches (offsets, order, the other rows' cells) stay valid because no
row moved. This leans on DataTable's private caches, so it lives here alone, and textual is
pinned below 9 in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from textual.cache import LRUCache
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
        self._stale_rows: set[RowKey] = set()  # written since the last frame: drop their renders

    def set_row_cells(self, row_key: str, cells: Mapping[str, Any]) -> None:
        """Write ``cells`` (column key → value) into the row ``row_key`` and repaint that row.

        Like ``update_cell`` without ``update_width``: the columns keep their widths.
        """
        if not cells:
            return
        key = RowKey(row_key)
        row = self._data[key]  # KeyError for an unknown row, as update_cell raises
        for column, value in cells.items():
            column_key = ColumnKey(column)
            if column_key not in self._column_locations:
                raise KeyError(f"no column {column!r}")
            row[column_key] = value
        self._stale_rows.add(key)
        self._row_renderable_cache.clear()
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
        if self._stale_rows:
            self._forget_stale_rows()
        return super().render_lines(crop)

    def _forget_stale_rows(self) -> None:
        """Drop the cached renders of rows written since the last frame (once per frame)."""
        stale, self._stale_rows = self._stale_rows, set()
        caches: tuple[LRUCache[Any, Any], ...] = (self._cell_render_cache, self._row_render_cache)
        for cache in caches:  # both keyed by row key first
            for cache_key in [k for k in cache.keys() if k[0] in stale]:
                cache.discard(cache_key)
        # keyed by screen line; only the lines a refresh marked dirty are rebuilt: cheap to drop
        self._line_cache.clear()
