"""Which channel column an item belongs in: configured rules first, the source's column last.

Columns are tried in their configured order; the first whose rule matches wins:

- ``portal_columns``: the portal's own column name (``<meta name="ColumnName">``, the list's
  column) equals one of them — 党务公开, 村务公开, 办事指南 …;
- ``topics``: the 主题分类 contains one of them — 财政, 保障性住房, 食品安全, 环境, 招投标,
  安全生产, 征地拆迁, 价格收费 (the key areas of the source document);
- ``keywords``: the title contains one of them.

So a narrow column (a key area) listed before a broad one takes its items first; an item no
rule claims stays in the column its source names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pusher.config.columns import ColumnSettings
from pusher.interfaces import Document


class _Fallback(Protocol):
    # A source's settings, or anything else that names the column its items default to.
    @property
    def column(self) -> str: ...


def classify(doc: Document, source: _Fallback, columns: Sequence[ColumnSettings]) -> str:
    for col in columns:
        if doc.column and doc.column in col.portal_columns:
            return col.id
        if doc.topic and any(t in doc.topic for t in col.topics):
            return col.id
        if any(k in doc.title for k in col.keywords):
            return col.id
    return source.column
