"""Costs: what is stored now (by prefix and storage class) and what it costs per month, and a
what-if estimate from the design document's price model, with its assumptions."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import streamlit as st

from meeting_storage import layout
from meeting_storage.costs import (
    DESIGN_DOCUMENT_DYNAMODB_PRICES,
    DESIGN_DOCUMENT_PRICES,
    ESTIMATE_NOTES,
    GIB,
    OPEN_GETS,
    Workload,
    estimate,
    format_money,
    format_price,
    monthly_storage_estimate,
    requests_per_meeting,
)
from ui import components, service
from ui.formatting import escape_markdown, human_size

PREFIX_LABELS = {
    layout.AUDIO_PREFIX: "recordings",
    layout.TRANSCRIPTIONS_PREFIX: "transcripts and analysis",
    layout.INDEX_PREFIX: "listing and search index",
}

components.page_setup("Costs", ":material/payments:")
st.title("Storage costs", anchor=False)
storage = components.storage_or_stop()
settings = storage.settings
prices = DESIGN_DOCUMENT_PRICES
dynamodb_prices = DESIGN_DOCUMENT_DYNAMODB_PRICES
standard = prices.storage_per_gb_month["STANDARD"]
st.caption(
    f"Prices in {prices.currency} as of {prices.as_of}: S3 Standard {format_price(standard)} per "
    f"GB-month, PUT {format_price(prices.put_per_1000)} and GET "
    f"{format_price(prices.get_per_1000)} per 1,000 requests ({escape_markdown(prices.source)}). "
    f"DynamoDB on-demand as of {dynamodb_prices.as_of}: "
    f"{format_price(dynamodb_prices.write_per_million)} per million writes and "
    f"{format_price(dynamodb_prices.read_per_million)} per million reads "
    f"({escape_markdown(dynamodb_prices.source)})."
)

# ------------------------------------------------------------------ now
st.subheader("Stored now", anchor=False)
with components.storage_errors():
    usage = service.footprint(storage)
current = monthly_storage_estimate(usage.bytes_by_class, 0, 0, prices)
left, middle, right = st.columns(3)
left.metric("Stored", human_size(usage.total_bytes))
middle.metric("Objects", f"{usage.total_objects:,}")
right.metric("Storage per month", format_money(current.storage))
if usage.total_objects:
    by_prefix, by_class = st.columns([3, 2])
    by_prefix.dataframe(
        pd.DataFrame(
            {
                "Prefix": [u.prefix for u in usage.prefixes],
                "What": [PREFIX_LABELS.get(u.prefix, "") for u in usage.prefixes],
                "Objects": [u.objects for u in usage.prefixes],
                "Size": [human_size(u.bytes) for u in usage.prefixes],
                f"Written in {usage.window_days} days": [
                    u.written_recently for u in usage.prefixes
                ],
            }
        ),
        hide_index=True,
    )
    classes = sorted(usage.bytes_by_class.items())
    by_class.dataframe(
        pd.DataFrame(
            {
                "Storage class": [name for name, _ in classes],
                "Size": [human_size(size) for _, size in classes],
                "Per month": [
                    format_money(Decimal(size) / GIB * prices.storage_per_gb_month[name])
                    if name in prices.storage_per_gb_month
                    else ("local disk" if name == "LOCAL" else "not priced")
                    for name, size in classes
                ],
            }
        ),
        hide_index=True,
    )
else:
    st.caption("Nothing is stored yet.")
for storage_class, size in current.unpriced_bytes.items():
    if storage_class == "LOCAL":
        st.caption(
            f"{human_size(size)} of transcripts and index are on local disk (STORE_IN_S3=false), "
            "not in S3."
        )
    else:
        st.warning(
            f"{human_size(size)} in {escape_markdown(storage_class)} is not priced: the design "
            "document's model only prices S3 Standard, so it is left out of the total."
        )

# ------------------------------------------------------------------ what if
st.subheader("Monthly estimate", anchor=False)
dynamodb_enabled = settings.use_dynamodb or storage.index.name == "dynamodb"
one, two, three, four = st.columns(4)
meetings = one.number_input(
    "Meetings per month", min_value=0, max_value=1_000_000, value=100, step=10
)
audio_mb = two.number_input(
    "Average recording (MB)", min_value=0.0, max_value=5_000.0, value=50.0, step=5.0
)
retention = three.number_input("Kept for (months)", min_value=1, max_value=120, value=12, step=1)
opens = four.number_input(
    "Times each meeting is opened", min_value=0, max_value=1_000, value=3, step=1
)
with st.expander("More assumptions"):
    document_kb = st.number_input(
        "Transcript and analysis per meeting (KB)",
        min_value=0,
        max_value=100_000,
        value=1024,
        step=64,
    )
    list_views = st.number_input(
        "Meeting list views per month", min_value=0, max_value=1_000_000, value=200, step=50
    )
    dynamodb = st.checkbox(
        "Index in DynamoDB",
        value=dynamodb_enabled,
        help="This store's index: " + storage.index.name,
    )

workload = Workload(
    meetings_per_month=int(meetings),
    audio_mb=Decimal(str(audio_mb)),
    document_kb=Decimal(int(document_kb)),
    retention_months=int(retention),
    opens_per_meeting=int(opens),
    list_views_per_month=int(list_views),
    dynamodb=dynamodb,
)
result = estimate(workload, prices)
steady = result.steady_state
first_month = result.months[0]
a, b, c = st.columns(3)
a.metric("First month", format_money(first_month.total))
b.metric(f"Every month from month {workload.retention_months}", format_money(steady.total))
c.metric("Stored then", human_size(float(steady.stored_bytes)))

chart = pd.DataFrame(
    {
        "Month": [m.month for m in result.months],
        "Storage": [float(m.storage) for m in result.months],
        "Requests": [float(m.requests) for m in result.months],
        "DynamoDB": [float(m.dynamodb) for m in result.months],
    }
)
st.bar_chart(
    chart,
    x="Month",
    y=["Storage", "Requests", "DynamoDB"] if dynamodb else ["Storage", "Requests"],
    y_label="US dollars per month",
    stack=True,
)
st.dataframe(
    pd.DataFrame(
        {
            "Month": [m.month for m in result.months],
            "Meetings stored": [m.stored_meetings for m in result.months],
            "Stored": [human_size(float(m.stored_bytes)) for m in result.months],
            "Storage": [format_money(m.storage) for m in result.months],
            "Requests": [format_money(m.requests) for m in result.months],
            "DynamoDB": [format_money(m.dynamodb) for m in result.months],
            "Total": [format_money(m.total) for m in result.months],
        }
    ),
    hide_index=True,
    height=250,
)

per = requests_per_meeting(workload)
st.markdown("**Assumptions**")
assumptions = [
    f"Each meeting is {workload.audio_mb} MB of audio plus {workload.document_kb} KB of transcript "
    f"and analysis; GB means 2³⁰ bytes, as AWS bills.",
    f"Meetings are deleted after {workload.retention_months} months (by the product or a lifecycle "
    "rule); deleting is free. Storage is billed on what is stored at the end of each month.",
    f"Storing a meeting takes {per.puts} PUT-class requests (the recording in 16 MiB parts above "
    "16 MiB, four documents"
    + (", rewriting the index's two objects" if not dynamodb else "")
    + f"); opening one takes {OPEN_GETS} GET-class requests.",
    (
        "The index is in DynamoDB: two writes per meeting (store and delete) and one query per "
        "list view."
        if dynamodb
        else "The index is kept in S3 (index/meetings.json and index/search.json): a GET and a "
        "PUT of each per stored meeting, and one GET per list view; no DynamoDB."
    ),
    *ESTIMATE_NOTES,
]
st.markdown("\n".join(f"- {line}" for line in assumptions))
