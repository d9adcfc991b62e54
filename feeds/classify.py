"""Which channel column an item belongs in: configured rules first, the source's column last."""

from __future__ import annotations

from collections.abc import Sequence

from pusher.config import ColumnSettings, SourceSettings
from pusher.interfaces import Document


def classify(doc: Document, source: SourceSettings, columns: Sequence[ColumnSettings]) -> str:
    for col in columns:
        if doc.column and doc.column in col.portal_columns:
            return col.id
        if doc.topic and any(t in doc.topic for t in col.topics):
            return col.id
        if any(k in doc.title for k in col.keywords):
            return col.id
    return source.column
