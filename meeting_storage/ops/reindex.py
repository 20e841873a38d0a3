"""Rebuild any index from the metadata.json files in S3: paginated, resumable, idempotent.

S3 is the source of truth. `reindex` lists transcriptions/ once (one LIST per 1,000 keys),
then walks the meetings in key order a page at a time: it reads each page's metadata.json
(and the summary, requirements and transcript a backend's search needs) in parallel, upserts
the page into the index and records the last key done in a small checkpoint file under
LOCAL_DATA_DIR. An interrupted run continues after that key; upserts make repeating a page
harmless. At the end, entries for meetings that are no longer in S3 are removed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meeting_storage.core import layout
from meeting_storage.core.analysis import Requirement
from meeting_storage.core.errors import InvalidInputError
from meeting_storage.core.models import STATUS_DELETING, MeetingRecord
from meeting_storage.index.document import IndexEntry, search_text_of, with_action_item_facts
from meeting_storage.ops.reconcile import reconcile

if TYPE_CHECKING:
    from meeting_storage.service.facade import MeetingStorage

PAGE_SIZE = 500
READ_WORKERS = 8
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReindexReport:
    indexed: int  # meetings written to the index (this run and the run it resumed)
    removed: int  # index entries dropped because S3 no longer has the meeting
    unreadable: list[str]  # metadata.json files that could not be parsed
    resumed_after: str | None  # the checkpoint key this run continued from
    total: int  # meetings found in S3

    def to_dict(self) -> dict[str, Any]:
        return {
            "indexed": self.indexed,
            "removed": self.removed,
            "unreadable": self.unreadable,
            "resumed": self.resumed_after is not None,
            "total": self.total,
        }


@dataclass(frozen=True)
class LoadedMeeting:
    record: MeetingRecord
    entry: IndexEntry


def load_meeting(storage: MeetingStorage, meeting_id: str) -> LoadedMeeting | None:
    """metadata.json plus what the index's search needs, or None when it is gone or damaged."""
    documents = storage.meeting_documents
    stored = documents.read_stored(meeting_id)
    record = stored.record if stored is not None else None
    if record is None:
        return None
    if record.status == STATUS_DELETING:
        return LoadedMeeting(record, IndexEntry(record))
    summary = documents.read_summary(meeting_id)
    requirements: tuple[Requirement, ...] = ()
    transcript = ""
    if storage.index.full_text:
        requirements = documents.read_requirements(meeting_id)
        transcript = documents.read_transcript(meeting_id) or ""
    record = with_action_item_facts(record, summary)
    return LoadedMeeting(
        record, IndexEntry(record, search_text_of(summary, requirements, transcript))
    )


def load_entries(storage: MeetingStorage, meeting_ids: Iterable[str]) -> list[LoadedMeeting]:
    with ThreadPoolExecutor(max_workers=READ_WORKERS) as pool:
        return [m for m in pool.map(lambda mid: load_meeting(storage, mid), meeting_ids) if m]


def stored_meeting_ids(storage: MeetingStorage) -> dict[str, str]:
    """meeting id -> its metadata.json key, for every meeting in S3, in key order."""
    found = {}
    for info in storage.meeting_documents.files():
        meeting_id = layout.meeting_id_from_key(info.key)
        if meeting_id is not None and info.key == layout.metadata_key(meeting_id):
            found[meeting_id] = info.key
    return dict(sorted(found.items(), key=lambda item: item[1]))


def checkpoint_path(storage: MeetingStorage) -> Path:
    return storage.settings.local_data_dir / "reindex-checkpoint.json"


def _target(storage: MeetingStorage) -> str:
    """Which index and which documents a checkpoint belongs to (hashed: no URLs on disk)."""
    where = f"{storage.index.describe()}|{storage.meeting_documents.location}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def _load_checkpoint(path: Path, target: str) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("target") != target:
        return None
    return data


def _save_checkpoint(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(path)


def reindex(
    storage: MeetingStorage,
    *,
    progress: Progress | None = None,
    restart: bool = False,
    page_size: int | None = None,
) -> ReindexReport:
    page_size = page_size or PAGE_SIZE
    index = storage.index
    path = checkpoint_path(storage)
    target = _target(storage)
    state = None if restart else _load_checkpoint(path, target)
    after: str = state["after"] if state else ""
    indexed = int(state["indexed"]) if state else 0
    unreadable: list[str] = list(state.get("unreadable", [])) if state else []

    if state is None:
        try:
            index.ids()
        except InvalidInputError:
            index.rebuild([])  # a damaged index is replaced whole, then refilled below
    stored = stored_meeting_ids(storage)
    todo = [(mid, key) for mid, key in stored.items() if key > after]
    done = len(stored) - len(todo)
    if progress is not None:
        progress(done, len(stored))
    for start in range(0, len(todo), page_size):
        page = todo[start : start + page_size]
        loaded = {m.record.meeting_id: m for m in load_entries(storage, [mid for mid, _ in page])}
        live = [m.entry for m in loaded.values() if m.record.status != STATUS_DELETING]
        gone = [
            mid
            for mid, _ in page
            if mid not in loaded or loaded[mid].record.status == STATUS_DELETING
        ]
        unreadable += [mid for mid, _ in page if mid not in loaded and mid in stored]
        index.put_many(live)
        if gone:
            index.delete_many(gone)
        indexed += len(live)
        done += len(page)
        _save_checkpoint(
            path,
            {"target": target, "after": page[-1][1], "indexed": indexed, "unreadable": unreadable},
        )
        if progress is not None:
            progress(done, len(stored))
    stale = index.ids() - set(stored)
    removed = index.delete_many(stale) if stale else 0
    path.unlink(missing_ok=True)
    reconcile(storage, fix=True)  # the entries were written in bulk: count them again
    return ReindexReport(
        indexed=indexed,
        removed=removed,
        unreadable=sorted(set(unreadable)),
        resumed_after=after or None,
        total=len(stored),
    )
