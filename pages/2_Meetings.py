"""Meetings: a searchable, filterable, paginated table; selecting a row opens the meeting.

Each page is one page of the index (searching and filtering happen there), never a read of
the meetings' own files, so the first page renders quickly however many meetings there are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from meeting_storage.service.facade import RECENTLY_DELETED_DAYS as RESTORE_DAYS
from ui import components, jobs, service
from ui.formatting import escape_markdown, human_date

PAGE_SIZES = (25, 50, 100)
_CURSORS = "meetings_cursors"  # the cursor of every page seen so far, for "Newer"
_FILTERS = "meetings_filters"

principal = components.page_setup("Meetings", ":material/list:")
st.title("Meetings", anchor=False)
storage = components.storage_or_stop(principal)

search_col, dates_col, owner_col, size_col = st.columns([3, 2, 2, 1])
search = search_col.text_input(
    "Search", placeholder="words in titles, summaries, action items…", key="meetings_search"
)
dates = dates_col.date_input(
    "Date range (UTC)", value=[], key="meetings_dates", format="YYYY-MM-DD"
)
owner = owner_col.text_input("Action items owned by", placeholder="a name", key="meetings_owner")
size = size_col.selectbox("Per page", PAGE_SIZES, index=1, key="meetings_page_size")
mine = st.toggle("Only the meetings I stored", key="meetings_mine")
uploaded_by = principal.email if mine else ""

first: date | None = dates[0] if isinstance(dates, tuple) and len(dates) >= 1 else None
last: date | None = dates[1] if isinstance(dates, tuple) and len(dates) == 2 else first
since = datetime.combine(first, time.min, UTC) if first else None
until = datetime.combine(last, time.min, UTC) + timedelta(days=1) if last else None

filters = (search.strip(), since, until, owner.strip(), size, uploaded_by)
if st.session_state.get(_FILTERS) != filters:
    st.session_state[_FILTERS] = filters
    st.session_state[_CURSORS] = [None]
cursors: list[str | None] = st.session_state[_CURSORS]

with components.storage_errors():
    page = service.list_page(
        storage,
        size,
        cursors[-1],
        search=search,
        since=since,
        until=until,
        owner=owner,
        uploaded_by=uploaded_by,
    )

number = len(cursors)
if not page.meetings:
    if number > 1:
        st.info("No more meetings.")
    elif search.strip() or since or owner.strip() or uploaded_by:
        st.info("No meetings match these filters.")
    else:
        st.info("No meetings stored yet.")
        if storage.can("meeting.upload"):
            st.page_link(components.UPLOAD, label="Upload a recording", icon=":material/upload:")
else:
    start = (number - 1) * size + 1
    order = "best match first" if page.ranked else "newest first"
    st.caption(
        f"Meetings {start:,}–{start + len(page.meetings) - 1:,}, {order}. Select a row to open "
        "it; click a column header to sort the rows on this page."
    )
    components.meetings_table(page.meetings, key=f"meetings_table_{number}", matches=page.snippets)
    jobs.refresh_while_in_flight(storage, page.meetings)
    if page.search_note:
        st.caption(escape_markdown(page.search_note))

newer_col, page_col, older_col = st.columns(3, vertical_alignment="center")
if newer_col.button("← Newer", disabled=number == 1, width="stretch"):
    cursors.pop()
    st.rerun()
page_col.markdown(f"Page {number}", text_alignment="center")
if older_col.button("Older →", disabled=page.next_cursor is None, width="stretch"):
    cursors.append(page.next_cursor)
    st.rerun()

st.divider()
if storage.can("meeting.undelete") and st.toggle(
    "Show recently deleted meetings",
    key="meetings_show_deleted",
    help=f"In a versioned bucket a deleted meeting can be restored for {RESTORE_DAYS} days.",
):
    deleted = None
    with components.storage_errors(stop=False):
        deleted = service.recently_deleted(storage)
    if deleted is not None and not deleted:
        st.caption(f"No meetings were deleted in the last {RESTORE_DAYS} days.")
    for gone in deleted or []:
        record = gone.record
        about, action = st.columns([5, 1], vertical_alignment="center")
        about.text(  # user text: shown as text, never as Markdown
            f"{record.display_title}: recorded {human_date(record.timestamp)}, "
            f"deleted {human_date(gone.deleted_at)}"
        )
        if action.button("Restore", key=f"restore_{record.meeting_id}", width="stretch"):
            restored = None
            with components.storage_errors(stop=False):
                restored = storage.undelete(record.meeting_id)
            if restored is not None:
                service.after_write()
                components.flash(f"Restored **{escape_markdown(restored.display_title)}**.")
                st.rerun()
