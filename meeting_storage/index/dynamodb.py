"""The DynamoDB index (USE_DYNAMODB=true or INDEX_BACKEND=dynamodb): one item per meeting.

Table `DYNAMODB_TABLE_NAME` (default meeting-metadata), on-demand billing:

- primary key `meeting_id` (String), and the design document's attributes: audio_s3_key,
  timestamp, filename, action_items_count, requirements_count, extraction_method,
  bedrock_used, plus the rest of metadata.json (title, tags, open items, owners, ...);
- global secondary index `newest-first`: partition key `list_pk` (always "meetings"),
  sort key `sort_key` ("<UTC timestamp, fixed width>#<meeting id>"), projecting all
  attributes. Listing is a Query on it in descending order with Limit = page size + 1:
  one request per page, never a Scan; a date range becomes a key condition.

Why one constant partition rather than per-month buckets: a page then never spans
partitions (always one request, even across quiet months), and a meetings product writes
a few items a minute, far below the 1,000 writes per second one partition takes. Per-month
buckets would only pay off at sustained rates no team of people produces.

Search has no engine here: a Query with a `contains()` filter over a lower-cased copy of
the metadata, summary and action items, reading the index page by page until the page is
full, and at most SCAN_MEETINGS meetings (SCAN_PAGES requests) per call: past that the page
says how far back it looked and its cursor continues from there. It is slower than the SQL
backends and does not look in transcripts; the result's `search_note` says so. GSI reads are eventually consistent (typically well under a second).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from meeting_storage.core.errors import (
    BackendUnavailableError,
    ConfigurationError,
    client_error_code,
    table_not_found_message,
    translate_dynamodb_error,
)
from meeting_storage.core.models import MeetingPage, MeetingRecord
from meeting_storage.core.retry import Backoff, retrying
from meeting_storage.index import (
    DEFAULT_LIMIT,
    decode_cursor,
    encode_cursor,
    encode_position,
    validate_limit,
)
from meeting_storage.index.document import IndexEntry, SearchText, as_entries
from meeting_storage.index.query import (
    NO_FILTER,
    MeetingFilter,
    best_snippet,
    compact_search_text,
    owner_key,
    search_words,
    uploader_key,
)
from meeting_storage.storage.aws import AWS_ERRORS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

LIST_INDEX = "newest-first"
LIST_PARTITION = "meetings"
BATCH = 25  # BatchWriteItem takes at most 25 requests
BATCH_ATTEMPTS = 10
# Unprocessed writes are DynamoDB throttling: wait up to 50 ms, 100 ms, ... 2 s (full jitter).
UNPROCESSED_BACKOFF = Backoff(base_delay=0.05, max_delay=2.0)
MAX_TEXT = 50_000  # per text attribute; an item holds at most 400 KB
# A search or filtered page reads at most SCAN_PAGES Query pages of SCAN_PAGE_ITEMS items.
SCAN_PAGE_ITEMS = 1000
SCAN_PAGES = 20
SCAN_MEETINGS = SCAN_PAGE_ITEMS * SCAN_PAGES
SEARCH_NOTE = (
    "DynamoDB has no full-text search: this searched titles, file names, tags, summaries and "
    "action items (not transcripts or requirements) by reading the index page by page, at "
    f"most {SCAN_MEETINGS:,} meetings per page, which is slower than the SQL backends; use "
    "INDEX_BACKEND=sqlite or postgres for ranked full-text search of any number of meetings."
)
_RECORD_ATTRIBUTES = [
    "meeting_id",
    "timestamp",
    "filename",
    "audio_s3_key",
    "action_items_count",
    "requirements_count",
    "open_action_items_count",
    "action_item_owners",
    "extraction_method",
    "bedrock_used",
    "title",
    "tags",
    "audio_size",
    "content_type",
    "duration_seconds",
    "transcript_chars",
    "status",
    "schema_version",
    "document_bytes",
    "document_objects",
    "processing_cost_usd",
    "transcribed_seconds",
    "bedrock_model_id",
    "bedrock_input_tokens",
    "bedrock_output_tokens",
    "uploaded_by",
    # A meeting's job, so a listing shows how far it is and why it failed.
    "queued_at",
    "progress",
    "job_attempts",
    "failure_reason",
    "failed_step",
]
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def table_definition(table: str) -> dict[str, Any]:
    """CreateTable parameters (also the CloudFormation resource's properties)."""
    return {
        "TableName": table,
        "AttributeDefinitions": [
            {"AttributeName": "meeting_id", "AttributeType": "S"},
            {"AttributeName": "list_pk", "AttributeType": "S"},
            {"AttributeName": "sort_key", "AttributeType": "S"},
        ],
        "KeySchema": [{"AttributeName": "meeting_id", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": LIST_INDEX,
                "KeySchema": [
                    {"AttributeName": "list_pk", "KeyType": "HASH"},
                    {"AttributeName": "sort_key", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def cloudformation_template(table: str = "meeting-metadata") -> dict[str, Any]:
    """A CloudFormation template creating the same table as `dynamodb create-table`."""
    properties = table_definition(table)
    properties["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "meeting-storage DynamoDB index",
        "Resources": {
            "MeetingMetadataTable": {"Type": "AWS::DynamoDB::Table", "Properties": properties}
        },
    }


def sort_key_of(timestamp: datetime, meeting_id: str = "") -> str:
    """Fixed-width UTC time, so string order is time order; the id breaks ties."""
    stamp = timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"{stamp}#{meeting_id}" if meeting_id else stamp


def _time_of(sort_key: str) -> datetime:
    """The time a sort key starts with (sort_key_of's fixed-width format)."""
    stamp = sort_key.split("#", 1)[0]
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list | set):
        return [_plain(v) for v in value]
    return value


def _dynamo_value(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, list):
        return [_dynamo_value(v) for v in value]
    return value


def item_of(record: MeetingRecord, text: SearchText) -> dict[str, Any]:
    """The DynamoDB item (typed attribute values) for a record and its search text."""
    plain: dict[str, Any] = {
        key: _dynamo_value(value)
        for key, value in record.to_dict().items()
        if value is not None and value != "" and value != []
    }
    plain["list_pk"] = LIST_PARTITION
    plain["sort_key"] = sort_key_of(record.timestamp, record.meeting_id)
    owners = {owner_key(o) for o in record.action_item_owners if owner_key(o)}
    if owners:
        plain["owner_keys"] = owners
    plain["uploader_key"] = uploader_key(record.uploaded_by)
    if text.summary:
        plain["summary_text"] = text.summary[:MAX_TEXT]
    if text.action_items:
        plain["action_items_text"] = text.action_items[:MAX_TEXT]
    plain["search_text"] = compact_search_text(record, text).casefold()[: 2 * MAX_TEXT]
    return {key: _serializer.serialize(value) for key, value in plain.items()}


def record_of(item: dict[str, Any]) -> MeetingRecord:
    plain = {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}
    return MeetingRecord.from_dict(plain)


def text_of(item: dict[str, Any]) -> SearchText:
    def value(name: str) -> str:
        return str(item[name]["S"]) if name in item else ""

    return SearchText(summary=value("summary_text"), action_items=value("action_items_text"))


def create_table(client: DynamoDBClient, table: str, *, wait: bool = True) -> bool:
    """Create the index table (on-demand billing); False if it already existed."""
    try:
        client.create_table(**table_definition(table))
        created = True
    except AWS_ERRORS as exc:
        if client_error_code(exc) != "ResourceInUseException":
            raise translate_dynamodb_error(exc, table=table, action="create") from exc
        created = False
    if wait:
        try:
            client.get_waiter("table_exists").wait(
                TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
            )
        except AWS_ERRORS as exc:
            raise translate_dynamodb_error(exc, table=table, action="wait for") from exc
    return created


class DynamoDbIndex:
    name = "dynamodb"
    full_text = False

    def __init__(self, client: DynamoDBClient, table: str, *, region: str | None = None) -> None:
        self._client = client
        self.table = table
        self.region = region

    def describe(self) -> str:
        endpoint = self._client.meta.endpoint_url
        return f"DynamoDB table {self.table} ({endpoint})"

    def _call(self, action: str, operation: Callable[..., Any], **params: Any) -> Any:
        try:
            return operation(**params)
        except AWS_ERRORS as exc:
            raise translate_dynamodb_error(
                exc, table=self.table, action=action, region=self.region
            ) from exc

    def check(self) -> str:
        answer = self._call("describe", self._client.describe_table, TableName=self.table)
        table = answer["Table"]
        indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
        if LIST_INDEX not in indexes:
            raise ConfigurationError(
                f"The DynamoDB table {self.table!r} has no {LIST_INDEX!r} index, so meetings "
                "cannot be listed without a Scan. " + table_not_found_message(self.table)
            )
        status = table.get("TableStatus", "?")
        return (
            f"{self.describe()}: {status}, about {table.get('ItemCount', 0)} items "
            "(DynamoDB updates this count every few hours)"
        )

    # ----------------------------------------------------------------- writing

    def put(self, record: MeetingRecord, text: SearchText | None = None) -> None:
        self._call(
            "write to",
            self._client.put_item,
            TableName=self.table,
            Item=item_of(record, text or SearchText()),
        )

    def put_many(self, entries: Iterable[IndexEntry]) -> int:
        fresh = {e.record.meeting_id: e for e in as_entries(entries)}
        requests = [{"PutRequest": {"Item": item_of(e.record, e.text)}} for e in fresh.values()]
        self._batch_write(requests)
        return len(fresh)

    def delete(self, meeting_id: str) -> bool:
        answer = self._call(
            "delete from",
            self._client.delete_item,
            TableName=self.table,
            Key={"meeting_id": {"S": meeting_id}},
            ReturnValues="ALL_OLD",
        )
        return bool(answer.get("Attributes"))

    def delete_many(self, meeting_ids: Iterable[str]) -> int:
        wanted = sorted(set(meeting_ids))
        self._batch_write(
            [{"DeleteRequest": {"Key": {"meeting_id": {"S": mid}}}} for mid in wanted]
        )
        return len(wanted)

    def _batch_write(self, requests: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(requests), BATCH):
            self._write_batch(list(requests[start : start + BATCH]))

    def _write_batch(self, pending: list[Any]) -> None:
        """One BatchWriteItem, resending what DynamoDB left unprocessed until none is left."""

        def write() -> None:
            answer = self._call(
                "write to", self._client.batch_write_item, RequestItems={self.table: pending}
            )
            pending[:] = answer.get("UnprocessedItems", {}).get(self.table, [])
            if pending:
                raise _UnprocessedWrites(
                    f"DynamoDB kept throttling writes to {self.table!r}; run the command again."
                )

        retrying(
            write,
            attempts=BATCH_ATTEMPTS,
            backoff=UNPROCESSED_BACKOFF,
            retry_on=(_UnprocessedWrites,),
        )

    def rebuild(self, entries: Iterable[IndexEntry | MeetingRecord]) -> int:
        fresh = {e.record.meeting_id: e for e in as_entries(entries)}
        before = self.ids()
        self.put_many(fresh.values())
        self.delete_many(before - set(fresh))
        return len(fresh)

    # ----------------------------------------------------------------- reading

    def get(self, meeting_id: str) -> MeetingRecord | None:
        answer = self._call(
            "read from",
            self._client.get_item,
            TableName=self.table,
            Key={"meeting_id": {"S": meeting_id}},
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return None if item is None else record_of(item)

    def ids(self) -> set[str]:
        found: set[str] = set()
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": "list_pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": LIST_PARTITION}},
            "ProjectionExpression": "meeting_id",
        }
        while True:
            answer = self._call("read from", self._client.query, **params)
            found.update(item["meeting_id"]["S"] for item in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return found
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def list(
        self,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
        search: str | None = None,
        filters: MeetingFilter | None = None,
    ) -> MeetingPage:
        limit = validate_limit(limit)
        filters = filters or NO_FILTER
        words = search_words(search)
        names: dict[str, str] = {}
        values: dict[str, Any] = {":pk": {"S": LIST_PARTITION}}
        key_condition = "list_pk = :pk"
        if filters.date_from and filters.date_to:
            key_condition += " AND sort_key BETWEEN :lo AND :hi"
        elif filters.date_from:
            key_condition += " AND sort_key >= :lo"
        elif filters.date_to:
            key_condition += " AND sort_key < :hi"
        if filters.date_from:
            values[":lo"] = {"S": sort_key_of(filters.date_from)}
        if filters.date_to:
            values[":hi"] = {"S": sort_key_of(filters.date_to)}
        conditions = []
        if filters.has_open_action_items is not None:
            values[":zero"] = {"N": "0"}
            conditions.append(
                "open_action_items_count > :zero"
                if filters.has_open_action_items
                else "(attribute_not_exists(open_action_items_count) OR open_action_items_count = :zero)"
            )
        if filters.extraction_method:
            values[":method"] = {"S": filters.extraction_method}
            conditions.append("extraction_method = :method")
        if filters.owner_key:
            values[":owner"] = {"S": filters.owner_key}
            conditions.append("contains(owner_keys, :owner)")
        if filters.uploader_key:
            values[":uploader"] = {"S": filters.uploader_key}
            conditions.append(
                "(uploader_key = :uploader OR attribute_not_exists(uploader_key))"
                if filters.uploader_key == "local"
                else "uploader_key = :uploader"
            )
        for n, word in enumerate(words):
            values[f":w{n}"] = {"S": word}
            conditions.append(f"contains(search_text, :w{n})")
        wanted = [*_RECORD_ATTRIBUTES, "list_pk", "sort_key"]
        if words:
            wanted += ["summary_text", "action_items_text"]
        # Aliases for every name: several attribute names are DynamoDB reserved words.
        projection = []
        for n, attribute in enumerate(wanted):
            names[f"#a{n}"] = attribute
            projection.append(f"#a{n}")
        params: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LIST_INDEX,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": values,
            "ExpressionAttributeNames": names,
            "ProjectionExpression": ", ".join(projection),
            "ScanIndexForward": False,
        }
        if conditions:
            params["FilterExpression"] = " AND ".join(conditions)
            params["Limit"] = SCAN_PAGE_ITEMS  # items read per request, before the filter
        else:
            params["Limit"] = limit + 1  # one request per page; the extra item says "more"
        if cursor:
            at, after_id = decode_cursor(cursor)
            params["ExclusiveStartKey"] = {
                "meeting_id": {"S": after_id},
                "list_pk": {"S": LIST_PARTITION},
                "sort_key": {"S": sort_key_of(at, after_id)},
            }
        items: list[dict[str, Any]] = []
        stopped_at: dict[str, Any] | None = None
        requests = 0
        while True:
            answer = self._call("read from", self._client.query, **params)
            requests += 1
            items.extend(answer.get("Items", []))
            if len(items) > limit or "LastEvaluatedKey" not in answer:
                break
            if conditions and requests >= SCAN_PAGES:
                stopped_at = answer["LastEvaluatedKey"]  # the bound, not the end
                break
            params["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        page_items = items[:limit]
        records = [record_of(item) for item in page_items]
        next_cursor = encode_cursor(records[-1]) if len(items) > limit else None
        note = SEARCH_NOTE if words else ""
        if stopped_at is not None:
            at = _time_of(str(stopped_at["sort_key"]["S"]))
            next_cursor = encode_position(at, str(stopped_at["meeting_id"]["S"]))
            note = (
                f"Searched meetings back to {at:%d %B %Y} ({SCAN_MEETINGS:,} read); ask for "
                "the next page to search earlier ones. " + note
            ).strip()
        if not words:
            return MeetingPage(meetings=records, next_cursor=next_cursor, search_note=note or None)
        snippets = {
            record.meeting_id: best_snippet(record, text_of(item), words)
            for record, item in zip(records, page_items, strict=True)
        }
        return MeetingPage(
            meetings=records,
            next_cursor=next_cursor,
            snippets=snippets,
            search_note=note,
        )

    # ----------------------------------------------------------------- counters

    def read_counters(self, key: str) -> dict[str, int]:
        """The number attributes of the item `key` (the store's totals), {} when missing."""
        answer = self._call(
            "read from",
            self._client.get_item,
            TableName=self.table,
            Key={"meeting_id": {"S": key}},
            ConsistentRead=True,
        )
        item = answer.get("Item") or {}
        return {name: int(value["N"]) for name, value in item.items() if "N" in value}

    def add_counters(self, key: str, delta: dict[str, int]) -> None:
        """Add to number attributes of the item `key` atomically (UpdateItem ADD)."""
        if not delta:
            return
        names = {f"#c{n}": name for n, name in enumerate(delta)}
        values = {f":c{n}": {"N": str(value)} for n, value in enumerate(delta.values())}
        self._call(
            "write to",
            self._client.update_item,
            TableName=self.table,
            Key={"meeting_id": {"S": key}},
            UpdateExpression="ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(delta))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def put_counters(self, key: str, counters: dict[str, int]) -> None:
        """Replace the item `key` with these number attributes."""
        item: dict[str, Any] = {"meeting_id": {"S": key}}
        item.update({name: {"N": str(value)} for name, value in counters.items()})
        self._call("write to", self._client.put_item, TableName=self.table, Item=item)


class _UnprocessedWrites(BackendUnavailableError):
    """A batch came back with writes DynamoDB did not make (it throttled them): resend those."""


def template_json(table: str = "meeting-metadata") -> str:
    return json.dumps(cloudformation_template(table), indent=2)
