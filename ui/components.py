"""Pieces every page uses: page set-up and navigation, errors, safe text, the meetings table."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence

import pandas as pd
import streamlit as st

from meeting_storage import MeetingRecord, MeetingStorage, MeetingStorageError
from meeting_storage.index.query import HIGHLIGHT
from meeting_storage.render.report import ItemList, lines_around, said_at
from ui import service
from ui.formatting import escape_markdown

APP_NAME = "Meeting storage"
HOME = "app.py"
UPLOAD = "pages/1_Upload.py"
MEETINGS = "pages/2_Meetings.py"
MEETING = "pages/3_Meeting.py"
COSTS = "pages/4_Costs.py"
MEETING_URL_PATH = "Meeting"  # the detail page's address: /Meeting?id=meeting-...

NAVIGATION = (
    (HOME, "Home", ":material/home:"),
    (UPLOAD, "Upload", ":material/upload:"),
    (MEETINGS, "Meetings", ":material/list:"),
    (COSTS, "Costs", ":material/payments:"),
)
ERROR_TITLES = {
    "configuration": "Configuration problem",
    "invalid_input": "Invalid input",
    "unsupported_media_type": "Unsupported file",
    "file_too_large": "File too large",
    "not_found": "Not found",
    "access_denied": "Access denied",
    "conflict": "Changed at the same time",
    "backend_unavailable": "Storage unavailable",
    "not_supported": "Not supported by this S3 server",
    "transcription_failed": "Transcription failed",
    "internal_error": "Unexpected error",
}
_FLASH = "_flash_message"
log = logging.getLogger("meeting_storage.dashboard")


def page_setup(title: str, icon: str) -> None:
    """Title, icon and wide layout, the sidebar navigation, and a message left by the last page."""
    st.set_page_config(page_title=f"{title} · {APP_NAME}", page_icon=icon, layout="wide")
    with st.sidebar:
        st.markdown(f"**{APP_NAME}**")
        for page, label, page_icon in NAVIGATION:
            st.page_link(page, label=label, icon=page_icon)
    message = st.session_state.pop(_FLASH, None)
    if message:
        st.success(message, icon=":material/check_circle:")


def flash(message: str) -> None:
    """A success message shown once on the next page rendered (after a switch or rerun).
    The caller escapes any user text in it."""
    st.session_state[_FLASH] = message


# ------------------------------------------------------------------ errors


def show_error(error: MeetingStorageError) -> None:
    """The package's error as a readable message that says what to do: never a traceback."""
    title = ERROR_TITLES.get(error.code, "Something went wrong")
    st.error(f"**{title}.** {escape_markdown(error.message)}", icon=":material/error:")


@contextlib.contextmanager
def storage_errors(stop: bool = True) -> Iterator[None]:
    """Render errors from the block as messages; then stop the page unless `stop` is False.

    Anything else (a bug) is logged with its traceback on the server and shown briefly.
    Streamlit's own control flow (st.stop, st.rerun, st.switch_page) passes through.
    """
    try:
        yield
    except MeetingStorageError as error:
        show_error(error)
        if stop:
            st.stop()
    except Exception as error:
        log.exception("unexpected error in the dashboard")
        st.error(
            f"**Unexpected error.** {escape_markdown(type(error).__name__)}: "
            f"{escape_markdown(str(error))}. The server log has the details.",
            icon=":material/error:",
        )
        if stop:
            st.stop()


def storage_or_stop() -> MeetingStorage:
    """The storage service, or an explanation of why there is none (and the page stops)."""
    with storage_errors():
        return service.get_storage()
    raise AssertionError("unreachable: storage_errors stops the page")


# ------------------------------------------------------------------ text


def heading(text: str) -> None:
    """A page heading from user text: escaped, so it is never formatting or a link."""
    st.header(escape_markdown(text), anchor=False)


def plain(text: str) -> None:
    """User text exactly as written (no Markdown, no HTML)."""
    st.text(text)


# ------------------------------------------------------------------ meetings table


def meetings_frame(
    records: Sequence[MeetingRecord], matches: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per meeting; with `matches` (search snippets by meeting id), a Match column
    with the words around the match, as plain text."""
    frame = pd.DataFrame(
        {
            "Date": pd.to_datetime([r.timestamp for r in records], utc=True),
            "Title": [r.display_title for r in records],
            "Duration": pd.to_timedelta(
                [
                    None if r.duration_seconds is None else round(r.duration_seconds)
                    for r in records
                ],
                unit="s",
            ),
            "Actions": [r.action_items_count for r in records],
            "Requirements": [r.requirements_count for r in records],
            "Extraction": [r.extraction_method for r in records],
            "Status": [r.status.replace("_", " ") for r in records],
            "Size": pd.array([r.audio_size for r in records], dtype="Int64"),
            "Link": [f"{MEETING_URL_PATH}?id={r.meeting_id}" for r in records],
            "Meeting id": [r.meeting_id for r in records],
        }
    )
    if matches:
        snippets = [matches.get(r.meeting_id, "") for r in records]
        frame.insert(2, "Match", [s.replace(HIGHLIGHT, "") for s in snippets])
    return frame


MEETING_COLUMNS = {
    "Date": st.column_config.DatetimeColumn("Date (UTC)", format="YYYY-MM-DD HH:mm"),
    "Title": st.column_config.TextColumn("Title / file", width="medium"),
    "Match": st.column_config.TextColumn("Match", width="large"),
    "Duration": st.column_config.NumberColumn("Duration", format="compact", width="small"),
    "Actions": st.column_config.NumberColumn("Actions", format="%d"),
    "Requirements": st.column_config.NumberColumn("Requirements", format="%d"),
    "Extraction": st.column_config.TextColumn("Extraction"),
    "Status": st.column_config.TextColumn("Status"),
    "Size": st.column_config.NumberColumn("Size", format="bytes", width="small"),
    "Link": st.column_config.LinkColumn(
        "Link", display_text="Open", help="The meeting's address, to share", width="small"
    ),
}
# The meeting id stays in the frame (a selected row is opened by it) but is not shown.
MEETING_COLUMN_ORDER = [name for name in MEETING_COLUMNS if name != "Meeting id"]


def meetings_table(
    records: Sequence[MeetingRecord], key: str, matches: Mapping[str, str] | None = None
) -> None:
    """The meetings as a sortable table; selecting a row opens that meeting's page."""
    frame = meetings_frame(records, matches)
    event = st.dataframe(
        frame,
        hide_index=True,
        column_config=MEETING_COLUMNS,
        column_order=[name for name in MEETING_COLUMN_ORDER if name in frame.columns],
        placeholder="—",
        on_select="rerun",
        selection_mode="single-row",
        key=key,
        width="stretch",
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        open_meeting(str(frame.iloc[rows[0]]["Meeting id"]))


def open_meeting(meeting_id: str) -> None:
    st.switch_page(MEETING, query_params={"id": meeting_id})


# ------------------------------------------------------------------ where an item was said

_MOMENT = "meeting_moment"  # (list title, row) of the item whose moment is open


def item_moments(
    items: ItemList, transcription: str, audio_url: str | None, audio_format: str
) -> None:
    """A play button per item of `items` that has evidence: it opens, under the list, the
    recording from the moment the item was said (st.audio's start_time) and the transcript
    lines there. Items from a transcript without times show the lines only."""
    found = [(n, e) for n, e in enumerate(items.evidence) if e is not None]
    if not found:
        return
    opened = st.session_state.get(_MOMENT)
    playable_any = audio_url is not None and any(e.start is not None for _, e in found)
    st.caption(
        "Where each was said: play the recording from there"
        if playable_any
        else "Where each was said (click to see the transcript there)"
    )
    for n, evidence in found:
        when = said_at(evidence)
        quote = evidence.quote if len(evidence.quote) <= 90 else evidence.quote[:89] + "…"
        said = f"{evidence.speaker}: “{quote}”" if evidence.speaker else f"“{quote}”"
        playable = audio_url is not None and evidence.start is not None
        # A button label is Markdown: the words said are escaped to read as themselves.
        label = escape_markdown(f"{when} {said}" if when else said)
        st.button(
            label,
            key=f"moment-{items.title}-{n}",
            icon=":material/play_arrow:" if playable else ":material/format_quote:",
            type="tertiary",
            help="Play the recording from here and show the transcript"
            if playable
            else "Show where it was said in the transcript",
            on_click=_open_moment,
            args=(items.title, n),
        )
        if opened != (items.title, n):
            continue
        with st.container(border=True):
            if playable and audio_url is not None and evidence.start is not None:
                st.audio(
                    audio_url,
                    format=audio_format,
                    start_time=int(evidence.start),
                    autoplay=True,
                )
            lines = lines_around(transcription, evidence)
            plain("\n".join(lines) if lines else evidence.quote)


def _open_moment(title: str, row: int) -> None:
    st.session_state[_MOMENT] = (title, row)
