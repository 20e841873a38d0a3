"""Costs: what is stored, what this month costs line by line, what the next 12 months will cost
with and without the lifecycle policy, and whether the bucket is set up safely."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

import streamlit as st

from meeting_storage import MeetingStorageError
from meeting_storage.costs import line_items
from meeting_storage.costs.history import monthly_estimate
from meeting_storage.costs.pricing import bedrock_base_model_id
from meeting_storage.costs.review import build_report
from meeting_storage.costs.usage import GETS_PER_VIEW, usage_notes
from meeting_storage.ops import hardening, lifecycle
from meeting_storage.ops.lifecycle import DEFAULT_NONCURRENT_DAYS, LifecyclePolicy
from ui import bucket_view, components, cost_view, service, what_if
from ui.formatting import escape_markdown, format_money, human_size

MONTHS = 12
CLASS_LABELS = {
    "STANDARD_IA": "Standard-IA (plays at once)",
    "GLACIER_IR": "Glacier Instant Retrieval (plays at once)",
    "GLACIER": "Glacier Flexible Retrieval (restore first)",
    "DEEP_ARCHIVE": "Deep Archive (restore first)",
}

_RESET_INPUTS = "_reset_cost_inputs"


def money(amount: Decimal) -> str:
    """An amount inside Markdown: its $ signs must not start a formula."""
    return escape_markdown(format_money(amount))


def after_bucket_change(message: str) -> None:
    """Show the bucket as it is now, with what-if inputs that start from it again."""
    service.after_write()
    st.session_state[_RESET_INPUTS] = True
    components.flash(escape_markdown(message))
    st.rerun()


principal = components.page_setup("Costs", ":material/payments:")
if st.session_state.pop(_RESET_INPUTS, False):
    for key in [key for key in st.session_state if str(key).startswith("cost_")]:
        del st.session_state[key]
st.title("Costs", anchor=False)
storage = components.storage_or_stop(principal)
settings = storage.settings
prices = storage.prices
with components.storage_errors(), st.spinner("Measuring the bucket…"):
    basis = service.cost_basis(storage)
footprint = basis.footprint
bedrock_where = (
    f" (Bedrock: {prices.bedrock_region})"
    if prices.bedrock_region and prices.bedrock_region != prices.region
    else ""
)
st.caption(
    f"AWS list prices for {prices.region}{bedrock_where} as of {prices.date.isoformat()}, "
    "in US dollars "
    "before tax, from the AWS pricing pages (S3, data transfer, DynamoDB, Transcribe, "
    f"Bedrock). A GB is 2³⁰ bytes, as AWS bills. {cost_view.as_of(footprint)}"
)

# What-if inputs start from the bucket's recent history and its lifecycle policy (clamped to
# the inputs' ranges: one very long recording must not break the page).
history = basis.usage

# ------------------------------------------------------------------ stored now
st.subheader("Stored now", anchor=False)
now = footprint.measured_at
monthly = monthly_estimate(prices, footprint.contents(), history, now)
recorded = [m.processing_cost_usd for m in footprint.meetings if m.processing_cost_usd is not None]
stored, objects, meetings, this_month = st.columns(4)
stored.metric("Stored", human_size(footprint.total_bytes))
objects.metric("Objects", f"{footprint.object_count:,}")
meetings.metric("Meetings", f"{footprint.meeting_count:,}")
this_month.metric("This month", format_money(monthly.total_usd))
if footprint.object_count:
    by_prefix, by_class = st.columns([3, 2])
    by_prefix.dataframe(cost_view.prefix_table(footprint), hide_index=True)
    by_class.dataframe(cost_view.storage_class_table(footprint, prices), hide_index=True)
    if footprint.noncurrent is not None and footprint.noncurrent.objects:
        st.caption(
            f"Versioning keeps {footprint.noncurrent.objects:,} old versions "
            f"({human_size(footprint.noncurrent.bytes)}) of deleted or replaced objects; they "
            "are billed as S3 Standard until the lifecycle policy removes them."
        )
else:
    st.caption("Nothing is stored yet.")

# ------------------------------------------------------------------ this month
st.subheader("This month", anchor=False)
st.caption(
    "A month of storage at today's footprint, the requests and downloads of this month's "
    "meetings, and the Amazon Transcribe seconds and Bedrock tokens they record."
)
if monthly.items:
    st.dataframe(cost_view.line_items_table(monthly), hide_index=True, width="stretch")
    st.bar_chart(
        cost_view.category_totals(monthly),
        x="Category",
        y="USD",
        horizontal=True,
        x_label="US dollars this month",
        y_label="",
        height=200,
    )
else:
    st.caption("Nothing is billed this month yet.")
for note in monthly.notes:
    st.caption(escape_markdown(note))
if footprint.meetings:
    st.markdown(
        "**Largest meetings**" if footprint.totals is None else "**Largest recent meetings**"
    )
    st.dataframe(cost_view.largest_meetings(footprint.meetings), hide_index=True)
    if recorded:
        st.caption(
            f"Processing recorded for {len(recorded):,} meetings: "
            f"{money(sum(recorded, Decimal(0)))} in all (S3 requests, and Amazon "
            "Transcribe and Bedrock where they were used)."
        )

# ------------------------------------------------------------------ next 12 months
st.subheader(f"Next {MONTHS} months", anchor=False)
st.caption(
    "What-if inputs start from this bucket's recent history (meetings a month over the last "
    "90 days, average length and size) and its lifecycle policy; change any of them."
)
one, two, three, four = st.columns(4)
meetings_per_month = what_if.count(
    one, "meetings_per_month", history.meetings_per_month, key="cost_meetings"
)
minutes = what_if.amount(two, "average_minutes", history.average_minutes, key="cost_minutes")
audio_mb = what_if.amount(three, "average_audio_mb", history.average_audio_mb, key="cost_audio_mb")
documents_kb = what_if.amount(
    four, "average_documents_kb", history.average_documents_kb, key="cost_documents_kb"
)
one, two, three, four = st.columns(4)
use_lifecycle = what_if.switch(one, "lifecycle", history.lifecycle, key="cost_lifecycle")
use_dynamodb = what_if.switch(two, "dynamodb", history.dynamodb, key="cost_dynamodb")
use_transcribe = what_if.switch(three, "transcribe", history.transcribe, key="cost_transcribe")
use_bedrock = what_if.switch(four, "bedrock", history.bedrock, key="cost_bedrock")
one, two, three, four = st.columns(4)
archive_days = what_if.days(one, "archive_days", history.archive_days, key="cost_archive_days")
archive_class = what_if.choice(
    two,
    "archive_storage_class",
    history.archive_storage_class,
    key="cost_archive_class",
    label_of=lambda name: CLASS_LABELS.get(name, name),
)
expire_days = what_if.days(three, "retention_days", history.retention_days, key="cost_expire_days")
# The configured model (an inference profile id prices as its base model) is the default;
# one without a price stays selectable so the projection says it is left out, as `cost` does.
model_ids = [m.model_id for m in sorted(prices.bedrock.values(), key=lambda m: m.label)]
configured_model = bedrock_base_model_id(history.bedrock_model_id)
if configured_model not in model_ids:
    configured_model = history.bedrock_model_id
    model_ids.insert(0, configured_model)


def model_label(model_id: str) -> str:
    model = prices.bedrock_model(model_id)
    return (
        model.label
        if model
        else f"{model_id} (no price in {prices.bedrock_region or prices.region})"
    )


bedrock_model = what_if.choice(
    four,
    "bedrock_model_id",
    configured_model,
    key="cost_bedrock_model",
    options=model_ids,
    label_of=model_label,
    disabled=not use_bedrock,
)
with st.expander("More assumptions"):
    left, right = st.columns(2)
    plays = what_if.amount(left, "plays_per_meeting", history.plays_per_meeting, key="cost_plays")
    listings = what_if.count(
        right, "listings_per_month", history.listings_per_month, key="cost_listings"
    )

policy = LifecyclePolicy(
    archive_days=archive_days,
    archive_storage_class=archive_class,
    expire_days=expire_days,
    # How long deleted versions are kept is not a cost input: keep the bucket's setting.
    noncurrent_days=(
        basis.bucket.lifecycle_policy.noncurrent_days
        if basis.bucket.lifecycle_policy
        else DEFAULT_NONCURRENT_DAYS
    ),
)
policy_problem = None
try:
    policy.validate()
except MeetingStorageError as invalid:
    policy_problem = invalid.message
usage = replace(
    history,
    meetings_per_month=meetings_per_month,
    average_minutes=minutes,
    average_audio_mb=audio_mb,
    average_documents_kb=documents_kb,
    lifecycle=use_lifecycle,
    archive_days=policy.archive_days,
    archive_storage_class=policy.archive_storage_class,
    retention_days=policy.expire_days,
    dynamodb=use_dynamodb,
    transcribe=use_transcribe,
    bedrock=use_bedrock,
    bedrock_model_id=bedrock_model,
    plays_per_meeting=plays,
    listings_per_month=listings,
)
# This month follows the bucket as it is; only the projection follows the what-if inputs.
report = replace(build_report(prices, footprint, usage, now, MONTHS), monthly=monthly)
comparison = report.lifecycle
projected = sum((month.total_usd for month in report.projection), Decimal(0))
with_policy = sum(comparison.with_lifecycle, Decimal(0))
without_policy = sum(comparison.without_lifecycle, Decimal(0))

total, last, lifecycle_on, lifecycle_off = st.columns(4)
total.metric(f"Next {MONTHS} months", format_money(projected))
last.metric(f"Month {MONTHS}", format_money(report.projection[-1].total_usd))
lifecycle_on.metric(f"{MONTHS} months with lifecycle", format_money(with_policy))
lifecycle_off.metric(
    f"{MONTHS} months without lifecycle",
    format_money(without_policy),
    delta=format_money(without_policy - with_policy) + " more"
    if without_policy > with_policy
    else None,
    delta_color="inverse",
)
if policy_problem:
    st.warning(escape_markdown(policy_problem), icon=":material/warning:")
for note in usage_notes(prices, usage):
    st.warning(escape_markdown(note), icon=":material/warning:")
st.altair_chart(cost_view.projection_chart(report.projection), width="stretch")
st.dataframe(cost_view.projection_table(report.projection), hide_index=True)
chosen = st.selectbox(
    "Line items of month",
    [month.month for month in report.projection],
    key="cost_month",
)
chosen_month = report.projection[int(chosen) - 1].estimate
st.dataframe(cost_view.line_items_table(chosen_month), hide_index=True, width="stretch")
for note in chosen_month.notes:
    st.warning(escape_markdown(note), icon=":material/warning:")

# ------------------------------------------------------------------ lifecycle
st.subheader("Lifecycle policy", anchor=False)
state = basis.bucket
findings = bucket_view.bucket_findings(state, settings)
in_bucket = next(finding for finding in findings if finding.name == "lifecycle")
st.markdown(f"**In the bucket:** {escape_markdown(in_bucket.message)}.")
st.markdown(f"**The policy above:** {escape_markdown(policy.describe())}.")
saved = without_policy - with_policy
if saved > 0:
    st.success(
        f"Over the next {MONTHS} months it saves {money(saved)} "
        f"({money(with_policy)} instead of {money(without_policy)}).",
        icon=":material/savings:",
    )
elif saved < 0:
    st.warning(
        f"Over the next {MONTHS} months it costs {money(-saved)} more than keeping "
        "everything in S3 Standard (transitions cost more than they save at these sizes).",
        icon=":material/warning:",
    )
else:
    st.info(f"It changes nothing over the next {MONTHS} months.", icon=":material/info:")
chart, table = st.columns([3, 2])
chart.altair_chart(cost_view.lifecycle_chart(comparison), width="stretch")
table.dataframe(cost_view.lifecycle_table(comparison), hide_index=True)
if not state.lifecycle_supported:
    st.caption(
        "This S3 server does not support lifecycle rules; on Amazon S3, "
        "`python -m meeting_storage lifecycle apply` sets this policy."
    )
elif (
    state.lifecycle_readable
    and policy_problem is None
    and policy != state.lifecycle_policy
    and storage.can("lifecycle.apply")
    and st.button("Apply this policy to the bucket", key="apply_lifecycle")
):
    change = None
    with components.storage_errors(stop=False):
        change = lifecycle.apply_lifecycle(storage, policy)
    if change is not None:
        after_bucket_change(
            f"Lifecycle policy applied: {policy.describe()} ({len(change.after)} rules in the "
            "bucket)."
        )

# ------------------------------------------------------------------ bucket set-up
st.subheader("Bucket set-up", anchor=False)
warnings = bucket_view.needing_attention(findings)
if warnings:
    st.warning(
        f"s3://{escape_markdown(state.bucket)}: "
        + ", ".join(escape_markdown(setting) for setting in warnings)
        + " need attention.",
        icon=":material/shield:",
    )
else:
    st.success(
        f"s3://{escape_markdown(state.bucket)} follows the best practices this server supports.",
        icon=":material/verified_user:",
    )
st.dataframe(bucket_view.findings_table(findings), hide_index=True, width="stretch")
for problem in state.problems:
    st.caption(escape_markdown(problem))
changes = hardening.plan(state)
if changes:
    st.caption(
        "`bucket harden` would turn on: "
        + "; ".join(
            escape_markdown(f"{change.setting} ({change.before} → {change.after})")
            for change in changes
        )
        + "."
    )
    if storage.can("bucket.harden") and st.button("Turn on what is missing", key="harden_bucket"):
        hardened = None
        with components.storage_errors(stop=False):
            hardened = hardening.harden_bucket(storage)
        if hardened is not None:
            done = [change.setting for change in hardened.changes if change.applied]
            after_bucket_change(
                f"Turned on: {', '.join(done)}." if done else "Nothing needed changing."
            )

# ------------------------------------------------------------------ export and notes
st.subheader("Export", anchor=False)
csv_column, json_column = st.columns(2)
csv_column.download_button(
    "Download every line item (CSV)",
    cost_view.report_csv(report),
    file_name=f"meeting-storage-costs-{now:%Y-%m-%d}.csv",
    mime="text/csv",
    icon=":material/download:",
)
json_column.download_button(
    "Download the whole review (JSON)",
    json.dumps(report.to_dict(), indent=2),
    file_name=f"meeting-storage-costs-{now:%Y-%m-%d}.json",
    mime="application/json",
    icon=":material/download:",
)
with st.expander("How these figures are worked out"):
    assumptions = [
        "Storing a meeting: its recording (one PUT, or 16 MiB parts above 16 MiB), three "
        "documents and metadata.json"
        + (
            ""
            if use_dynamodb
            else ", and a GET and PUT of each of the three S3 index objects it touches"
        )
        + ". Opening one: "
        f"{GETS_PER_VIEW} GETs; playing one downloads the recording once.",
        f"Bedrock reads about {line_items.TOKENS_PER_AUDIO_MINUTE} tokens per minute of audio "
        f"plus {line_items.PROMPT_TOKENS} of instructions and writes about "
        f"{line_items.OUTPUT_TOKENS_PER_MEETING} tokens per meeting.",
        "Lifecycle: recordings move to the archive class on the day set above (S3 leaves "
        "objects under 128 KB in place); a whole meeting is deleted on the same day.",
        "Storage is billed for a whole month on what is stored at its end.",
        *report.notes,
    ]
    st.markdown("\n".join(f"- {escape_markdown(line)}" for line in assumptions))
    st.caption("Sources: " + ", ".join(prices.sources))
