"""The S3 JSON index's objects, seen as one: tests of what a meeting stores compare key sets
without depending on which month shard or locator an entry landed in."""

from __future__ import annotations

from meeting_storage.core import layout


def one_index_key(key: str) -> str:
    return layout.INDEX_KEY if key.startswith(layout.INDEX_PREFIX) else key
