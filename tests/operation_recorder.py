"""Records every AWS API call the package makes during the test run, and checks that the IAM
policy `iam-policy` generates allows each one.

A call is the package's when it goes through the entry points a deployment uses: the
`MeetingStorage` facade (service.py, which the dashboard calls), the command line (cli.py) and
the REST API (api.py). Calls on worker threads (the facade's thread pools, s3transfer's upload
threads, the API's request threads) count as well. A presigned POST is recorded as the
PutObject it allows. Calls made by tests and fixtures themselves, directly or
through low-level helpers with arguments of their own (`storage.audio.iter_objects("")` to
see every key), are not recorded, nor are the embedded server's (only `make run` uses it).
"""

from __future__ import annotations

import fnmatch
import json
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import botocore.session

import meeting_storage
from meeting_storage.ops import iam

PACKAGE = str(Path(meeting_storage.__file__).resolve().parent)
TESTS = str(Path(__file__).resolve().parent)
THIS_FILE = str(Path(__file__).resolve())
# Calls made through the service, an operation or a face are what a deployment makes.
ENTRY_POINTS = ("service/", "ops/", "cli/", "api/", "__main__.py")
KEPT_PARAMS = (
    "Bucket",
    "Key",
    "Prefix",
    "VersionId",
    "TableName",
    "modelId",
    "QueueUrl",
    "QueueName",
)
# The S3 Inventory locations (bucket, key prefix) the tests configured (S3_INVENTORY_PREFIX):
# the policy of a call to one of these buckets is generated with that location.
INVENTORY_LOCATIONS: dict[str, str] = {}


@dataclass(frozen=True, order=True)
class Call:
    service: str
    operation: str
    region: str
    params: str  # the parameters the IAM check needs, as sorted JSON
    origin: str

    def parameters(self) -> dict[str, Any]:
        return dict(json.loads(self.params))


RECORDED: set[Call] = set()
CHECKED = False
_captures: list[list[Call]] = []
_lock = threading.Lock()


def _origin() -> str | None:
    """The package file that made the call, 'a worker thread', or None when it is not a call
    a deployment makes."""
    innermost: str | None = None
    outermost: str | None = None
    called_by_a_test = False
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(PACKAGE):
            module = name[len(PACKAGE) + 1 :]
            innermost = innermost or module
            outermost = module
        elif name.startswith(TESTS) and name != THIS_FILE:
            called_by_a_test = True  # the test's own call site: what did it call?
            break
        frame = frame.f_back  # type: ignore[assignment]
    if outermost is None:
        # s3transfer's upload threads (started by the package), or a test's own client.
        return None if called_by_a_test else "a worker thread"
    return innermost if outermost.startswith(ENTRY_POINTS) else None


def _kept(params: dict[str, Any]) -> str:
    kept: dict[str, Any] = {name: params[name] for name in KEPT_PARAMS if name in params}
    objects = params.get("Delete", {}).get("Objects")
    if objects:
        kept["Delete"] = {
            "Objects": [
                {k: v for k, v in item.items() if k in ("Key", "VersionId")} for item in objects
            ]
        }
    if "RequestItems" in params:
        kept["RequestItems"] = {table: [] for table in params["RequestItems"]}
    return json.dumps(kept, sort_keys=True, default=str)


def _presigned_post_key() -> str | None:
    """The key of a presigned POST being built: botocore presigns it through the CreateBucket
    operation model with only the bucket, so the key is read from `generate_presigned_post`."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "generate_presigned_post" and "Key" in frame.f_locals:
            return str(frame.f_locals["Key"])
        frame = frame.f_back  # type: ignore[assignment]
    return None


def _record(
    service: str,
    region: str,
    params: dict[str, Any],
    model: Any,
    context: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    origin = _origin()
    if origin is None:
        return
    operation = model.name
    if (context or {}).get("is_presign_request") and operation == "CreateBucket":
        # A presigned POST upload: what the browser may do with it is a PutObject of the key.
        operation, params = "PutObject", {**params, "Key": _presigned_post_key()}
    call = Call(service, operation, region or "us-east-1", _kept(params), origin)
    with _lock:
        RECORDED.add(call)
        for captured in _captures:
            captured.append(call)


@contextmanager
def recording() -> Iterator[None]:
    """Register the recorder on every botocore client created inside the block."""
    original = botocore.session.Session.create_client

    def create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = original(self, *args, **kwargs)
        service = client.meta.service_model.service_name
        client.meta.events.register(
            "before-parameter-build", partial(_record, service, client.meta.region_name)
        )
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.session.Session.create_client = original  # type: ignore[method-assign]


@contextmanager
def capture() -> Iterator[list[Call]]:
    """Every call the package makes inside the block, in order, duplicates included."""
    calls: list[Call] = []
    with _lock:
        _captures.append(calls)
    try:
        yield calls
    finally:
        with _lock:
            _captures.remove(calls)


# ---------------------------------------------------------------- checking a policy


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, entries in condition.items():
        if_exists = operator.endswith("IfExists")
        base = operator.removesuffix("IfExists")
        for key, values in entries.items():
            if key not in context:
                if if_exists:
                    continue
                return False
            if base == "StringLike":
                matched = any(fnmatch.fnmatchcase(context[key], v) for v in _listed(values))
            elif base == "StringEquals":
                matched = context[key] in _listed(values)
            else:
                raise ValueError(f"the checker does not know the condition operator {operator}")
            if not matched:
                return False
    return True


def allows(policy: dict[str, Any], permission: iam.Permission) -> bool:
    """True when an Allow statement of the policy grants this action on this resource."""
    for statement in policy["Statement"]:
        if statement.get("Effect") != "Allow":
            continue
        actions = _listed(statement["Action"])
        if not any(fnmatch.fnmatchcase(permission.action.lower(), a.lower()) for a in actions):
            continue
        if not any(
            fnmatch.fnmatchcase(permission.resource, r) for r in _listed(statement["Resource"])
        ):
            continue
        if _conditions_hold(statement.get("Condition", {}), dict(permission.context)):
            return True
    return False


def policy_for(call: Call, permissions: list[iam.Permission]) -> dict[str, Any]:
    """The policy `iam-policy` generates with the features this call belongs to enabled.
    Administration actions (bucket settings, creating the table) need `--admin`; nothing
    else may."""
    params = call.parameters()
    features = iam.PolicyFeatures(
        versioning=True,
        restore=True,
        admin=any(p.action in (*iam.ADMIN_ACTIONS, *iam.QUEUE_ADMIN_ACTIONS) for p in permissions),
        dynamodb_table=params.get("TableName") or next(iter(params.get("RequestItems", {})), None),
        transcribe=call.service == "transcribe",
        bedrock_model_id=params.get("modelId"),
        inventory=(
            (str(params["Bucket"]), INVENTORY_LOCATIONS[str(params["Bucket"])])
            if str(params.get("Bucket")) in INVENTORY_LOCATIONS
            else None
        ),
        sqs_queue=(
            str(params.get("QueueName") or iam.queue_name_of(str(params.get("QueueUrl", ""))))
            if call.service == "sqs"
            else None
        ),
    )
    return iam.build_policy(str(params.get("Bucket", "unused-bucket")), call.region, features)


def policy_gaps(calls: set[Call] | None = None) -> list[str]:
    """What the generated policy does not allow, one line per missing permission."""
    global CHECKED
    CHECKED = True
    gaps: set[str] = set()
    for call in sorted(RECORDED if calls is None else calls):
        params = call.parameters()
        try:
            permissions = iam.required_permissions(
                call.service, call.operation, params, call.region
            )
        except iam.UnmappedOperationError:
            gaps.add(
                f"{call.service}:{call.operation} (called from {call.origin}) is not in the "
                "tables of meeting_storage/ops/iam.py"
            )
            continue
        policy = policy_for(call, permissions)
        for permission in permissions:
            if not allows(policy, permission):
                context = dict(permission.context)
                gaps.add(
                    f"{permission.action} on {permission.resource}"
                    + (f" with {context}" if context else "")
                    + f" ({call.operation} from {call.origin})"
                )
    return sorted(gaps)
