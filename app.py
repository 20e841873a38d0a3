"""Home: what is configured, whether it is healthy, what is stored, and where to go next.

Run with `make run` (or `streamlit run app.py` with the storage server already running).
"""

from __future__ import annotations

import streamlit as st

from meeting_storage.ops.samples import SAMPLES, store_samples
from meeting_storage.storage.embedded import is_loopback_endpoint
from ui import components, service
from ui.bucket_view import bucket_findings, findings_table, needing_attention
from ui.cost_view import reconciled_text
from ui.formatting import escape_markdown, human_size

principal = components.page_setup("Home", ":material/graphic_eq:")
st.title("Meeting storage", anchor=False)
st.caption(
    "Meeting recordings and what was said in them (transcript, summary, action items, "
    "decisions, requirements), kept in Amazon S3 or any S3-compatible server."
)

storage = None
with components.storage_errors(stop=False):
    storage = service.get_storage().acting_as(principal)

if storage is not None:
    settings = storage.settings
    configuration, health = st.columns(2, gap="large")
    with configuration:
        st.subheader("Configuration", anchor=False)
        st.dataframe(
            {
                "Setting": [
                    "Bucket",
                    "Region",
                    "Endpoint",
                    "Index",
                    "Transcriber",
                    "Extractor",
                    "Transcripts and analysis",
                    "Largest recording",
                ],
                "Value": [
                    settings.bucket,
                    settings.region,
                    settings.s3_endpoint_url or "AWS S3",
                    storage.index.describe(),
                    storage.transcriber.name if storage.transcriber else "none",
                    storage.extractor.method.replace("_", "-"),
                    storage.documents.location,
                    f"{settings.max_upload_mb} MB",
                ],
            },
            hide_index=True,
            width="stretch",
        )

    with health:
        st.subheader("Health", anchor=False)
        deep = bool(st.session_state.get("deep_health", False))
        with st.spinner("Checking the storage…"):
            report = service.health(storage, deep=deep)
        counts = {s: sum(c.status == s for c in report.checks) for s in ("ok", "warn", "fail")}
        summary = (
            f"{counts['ok']} checks passed, {counts['warn']} warnings, {counts['fail']} failed"
        )
        if counts["fail"]:
            st.error(f"**Not healthy:** {summary}.", icon=":material/error:")
        elif counts["warn"]:
            st.warning(f"**Working, with warnings:** {summary}.", icon=":material/warning:")
        else:
            st.success(f"**Healthy:** {summary}.", icon=":material/check_circle:")
        for check in report.checks:
            if check.status == "fail":
                fix = f"  \n**Fix:** {escape_markdown(check.fix)}" if check.fix else ""
                st.error(f"**{check.name}:** {escape_markdown(check.message)}{fix}")
        with st.expander("All checks" + ("" if deep else " (quick: configuration and bucket)")):
            st.dataframe(
                {
                    "Status": [c.status for c in report.checks],
                    "Check": [c.name for c in report.checks],
                    "Finding": [c.message for c in report.checks],
                    "Fix": [c.fix if c.status != "ok" else "" for c in report.checks],
                },
                hide_index=True,
            )
            again, every = st.columns(2)
            if again.button("Check again", width="stretch"):
                service.after_write()
                st.rerun()
            if not deep and every.button(
                "Run every check",
                width="stretch",
                help="Also reads every meeting's metadata.json: leftovers, orphan audio, index drift.",
            ):
                st.session_state["deep_health"] = True
                st.rerun()

        reachable = not any(c.name == "bucket" and c.status == "fail" for c in report.checks)
        overview = None
        if reachable:
            with components.storage_errors(stop=False):
                overview = service.overview(storage)
        if overview is not None:
            meetings, size, objects = st.columns([2, 3, 2])  # room for a size with its unit
            meetings.metric("Meetings", f"{overview.meetings:,}")
            size.metric("Stored", human_size(overview.footprint.total_bytes))
            objects.metric("Objects", f"{overview.footprint.total_objects:,}")
            if overview.counted:
                st.caption(
                    "Stored size and objects: the store's running totals, "
                    + reconciled_text(overview.reconciled_at)
                )
        if reachable:
            state = None
            with components.storage_errors(stop=False):
                state = service.bucket_state(storage)
            if state is not None:
                findings = bucket_findings(state, settings)
                attention = needing_attention(findings)
                st.markdown(
                    "**Bucket set-up:** "
                    + (
                        escape_markdown(", ".join(attention)) + " need attention"
                        if attention
                        else "follows the best practices this server supports"
                    )
                    + " (see Costs)."
                )
                st.dataframe(findings_table(findings), hide_index=True, width="stretch")

    if overview is not None and overview.newest:
        st.subheader("Newest meetings", anchor=False)
        components.meetings_table(overview.newest, key="newest_meetings")
    elif (
        overview is not None
        and is_loopback_endpoint(settings.s3_endpoint_url)
        and storage.can("meeting.upload")
    ):
        st.info(
            "No meetings yet. Upload a recording, or load a few small sample meetings (short "
            "generated audio clips with their transcripts) to try everything out.",
            icon=":material/info:",
        )
        if st.button(f"Load {len(SAMPLES)} sample meetings", type="primary"):
            with components.storage_errors(), st.spinner("Storing the sample meetings…"):
                store_samples(storage)
            service.after_write()
            components.flash(f"Stored {len(SAMPLES)} sample meetings.")
            st.rerun()
    elif overview is not None:
        st.info(
            "No meetings yet. Upload a recording to get started."
            if storage.can("meeting.upload")
            else "No meetings yet.",
            icon=":material/info:",
        )

st.subheader("Go to", anchor=False)
destinations = components.navigation(principal)[1:]
for column, (page, label, icon) in zip(st.columns(len(destinations)), destinations, strict=True):
    column.page_link(page, label=label, icon=icon)
