"""Meetings: a searchable, paginated table, newest first; selecting a row opens the meeting.

Each page is one page of the index (one read of it, never the meetings' own files), so the
first page renders quickly however many meetings there are.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from ui import components, service
from ui.listing import Position

PAGE_SIZES = (25, 50, 100)
_PAGES = "meetings_pages"  # positions of the pages seen so far, for Previous
_FILTERS = "meetings_filters"

components.page_setup("Meetings", ":material/list:")
st.title("Meetings", anchor=False)
storage = components.storage_or_stop()

search_col, dates_col, size_col = st.columns([3, 2, 1])
search = search_col.text_input(
    "Search", placeholder="words in titles, file names, tags or ids", key="meetings_search"
)
dates = dates_col.date_input(
    "Date range (UTC)", value=[], key="meetings_dates", format="YYYY-MM-DD"
)
size = size_col.selectbox("Per page", PAGE_SIZES, index=1, key="meetings_page_size")

first: date | None = dates[0] if isinstance(dates, tuple) and len(dates) >= 1 else None
last: date | None = dates[1] if isinstance(dates, tuple) and len(dates) == 2 else first
since = datetime.combine(first, time.min, UTC) if first else None
until = datetime.combine(last, time.min, UTC) + timedelta(days=1) if last else None

filters = (search.strip(), since, until, size)
if st.session_state.get(_FILTERS) != filters:
    st.session_state[_FILTERS] = filters
    st.session_state[_PAGES] = [Position()]
pages: list[Position] = st.session_state[_PAGES]

with components.storage_errors():
    listing = service.list_page(storage, size, pages[-1], search=search, since=since, until=until)

number = len(pages)
if not listing.records:
    if number > 1:
        st.info("No more meetings.")
    elif search or since:
        st.info("No meetings match these filters.")
    else:
        st.info("No meetings stored yet.")
        st.page_link(components.UPLOAD, label="Upload a recording", icon=":material/upload:")
else:
    start = (number - 1) * size + 1
    st.caption(
        f"Meetings {start:,}–{start + len(listing.records) - 1:,}, newest first. Select a row to "
        "open it; click a column header to sort the rows on this page."
    )
    components.meetings_table(listing.records, key=f"meetings_table_{number}")

previous_col, page_col, next_col = st.columns(3, vertical_alignment="center")
if previous_col.button("← Newer", disabled=number == 1, width="stretch"):
    pages.pop()
    st.rerun()
page_col.markdown(f"Page {number}", text_alignment="center")
if next_col.button("Older →", disabled=listing.next is None, width="stretch"):
    assert listing.next is not None
    pages.append(listing.next)
    st.rerun()
