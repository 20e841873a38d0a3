"""Roles, visibility, personal API tokens and the audit trail, enforced in the service."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meeting_storage.cli.main import main
from meeting_storage.core import layout
from meeting_storage.core.access import (
    LOCAL_OPERATOR,
    AuditEvent,
    Principal,
    Role,
    allowed,
    role_for,
)
from meeting_storage.core.errors import (
    ConfigurationError,
    ForbiddenError,
    NotFoundError,
    UnauthorizedError,
)
from meeting_storage.core.settings import Settings
from meeting_storage.index.query import MeetingFilter
from meeting_storage.ops.hardening import harden_bucket
from meeting_storage.ops.lifecycle import LifecyclePolicy, apply_lifecycle
from meeting_storage.service.facade import MeetingStorage
from tests.conftest import SAMPLE_TRANSCRIPT, wav_bytes

ALICE = Principal("alice@example.com", Role.EDITOR, "api")
BOB = Principal("bob@example.com", Role.EDITOR, "api")
VIC = Principal("vic@example.com", Role.VIEWER, "api")
ADA = Principal("ada@example.com", Role.ADMIN, "dashboard")


def settings_with(**values: str) -> Settings:
    return Settings.from_mapping({"S3_BUCKET_NAME": "team-bucket", **values})


def events(storage: MeetingStorage, **filters: Any) -> list[AuditEvent]:
    return storage.audit_trail.events(**filters)


def meeting_keys(storage: MeetingStorage) -> set[str]:
    return {info.key for info in storage.audio.iter_objects(layout.TRANSCRIPTIONS_PREFIX)}


# ---------------------------------------------------------------- who has which role


def test_role_for_patterns_domains_and_claims() -> None:
    settings = settings_with(
        ADMIN_EMAILS="Boss@Example.com",
        EDITOR_EMAILS="@example.com, carol@other.org",
        VIEWER_EMAILS="@other.org",
        OIDC_ROLES_CLAIM="groups",
    )
    assert role_for("boss@example.com", None, settings) is Role.ADMIN  # the highest match wins
    assert role_for("dan@EXAMPLE.com", None, settings) is Role.EDITOR
    assert role_for("carol@other.org", None, settings) is Role.EDITOR
    assert role_for("erin@other.org", None, settings) is Role.VIEWER
    assert role_for("mallory@example.com.evil", None, settings) is None
    assert role_for("x@nowhere.net", None, settings) is None
    assert role_for("x@nowhere.net", {"groups": ["staff", "Viewer"]}, settings) is Role.VIEWER
    assert role_for("x@nowhere.net", {"groups": "editor admin"}, settings) is Role.ADMIN
    assert role_for("erin@other.org", {"groups": ["admin"]}, settings) is Role.ADMIN
    assert role_for("x@nowhere.net", {"roles": ["admin"]}, settings) is None  # another claim


def test_roles_are_ordered_viewer_editor_admin() -> None:
    assert Role.VIEWER < Role.EDITOR < Role.ADMIN
    assert max([Role.EDITOR, Role.ADMIN, Role.VIEWER]) is Role.ADMIN


def test_access_settings_are_validated() -> None:
    with pytest.raises(ConfigurationError, match="MEETING_VISIBILITY"):
        settings_with(MEETING_VISIBILITY="everyone")
    with pytest.raises(ConfigurationError, match="ADMIN_EMAILS"):
        settings_with(ADMIN_EMAILS="alice")
    with pytest.raises(ConfigurationError, match="OIDC_CLIENT_ID"):
        settings_with(OIDC_SERVER_METADATA_URL="https://id.example.com/.well-known/x")
    configured = settings_with(
        OIDC_SERVER_METADATA_URL="https://id.example.com/.well-known/openid-configuration",
        OIDC_CLIENT_ID="meetings",
        OIDC_CLIENT_SECRET="s3cret-value",
    )
    assert configured.oidc_configured and not settings_with().oidc_configured
    assert "s3cret-value" not in repr(configured)


def test_the_permission_table() -> None:
    team = settings_with()
    owner = settings_with(MEETING_VISIBILITY="owner")
    assert allowed(VIC, "meeting.read", ALICE.email, team)
    assert not allowed(VIC, "meeting.read", ALICE.email, owner)
    assert not allowed(VIC, "meeting.upload", None, team)
    assert allowed(ALICE, "meeting.upload", None, team)
    assert allowed(ALICE, "meeting.delete", ALICE.email, team)
    assert not allowed(ALICE, "meeting.delete", BOB.email, team)
    assert not allowed(ALICE, "meeting.undelete", ALICE.email, team)
    for action in ("meeting.delete", "meeting.undelete", "archive.restore", "lifecycle.apply"):
        assert allowed(ADA, action, BOB.email, owner)
    for action in ("bucket.harden", "token.manage", "audit.read"):
        assert not allowed(ALICE, action, None, team) and allowed(ADA, action, None, team)
    assert not allowed(ADA, "no.such.action", None, team)
    assert LOCAL_OPERATOR.role is Role.ADMIN and LOCAL_OPERATOR.via == "cli"


# ---------------------------------------------------------------- roles in the service


def test_uploaded_by_is_recorded_and_old_records_load(moto_storage: MeetingStorage) -> None:
    alice = moto_storage.acting_as(ALICE)
    stored = alice.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()))
    meeting_id = stored.record.meeting_id
    metadata = json.loads(moto_storage.documents.get(layout.metadata_key(meeting_id)).data)
    assert metadata["uploaded_by"] == "alice@example.com"
    local = moto_storage.process(SAMPLE_TRANSCRIPT)
    assert local.record.uploaded_by == "local"
    assert moto_storage.get_record(meeting_id).uploaded_by == "alice@example.com"
    del metadata["uploaded_by"]  # written before uploads were recorded
    moto_storage.documents.put(
        layout.metadata_key(meeting_id), json.dumps(metadata).encode(), "application/json"
    )
    assert moto_storage.get_record(meeting_id).uploaded_by is None
    assert alice is not moto_storage and alice.index is moto_storage.index
    assert moto_storage.principal is LOCAL_OPERATOR


def test_a_viewer_changes_nothing_and_each_refusal_is_audited(
    moto_storage: MeetingStorage,
) -> None:
    meeting = moto_storage.process(SAMPLE_TRANSCRIPT).record
    before = meeting_keys(moto_storage)
    viewer = moto_storage.acting_as(VIC)
    refused = [
        ("meeting.process", lambda: viewer.process(SAMPLE_TRANSCRIPT)),
        ("meeting.upload", lambda: viewer.upload_audio(io.BytesIO(wav_bytes()), "a.wav")),
        ("meeting.upload", lambda: viewer.create_upload("a.wav", "audio/wav", size=10)),
        (
            "meeting.attach_transcript",
            lambda: viewer.attach_transcript(meeting.meeting_id, SAMPLE_TRANSCRIPT),
        ),
        ("meeting.delete", lambda: viewer.delete_meeting(meeting.meeting_id)),
        ("meeting.undelete", lambda: viewer.undelete(meeting.meeting_id)),
        ("archive.restore", lambda: viewer.restore_audio(meeting.meeting_id)),
        ("token.manage", lambda: viewer.create_token("x@example.com", "admin")),
        ("audit.read", lambda: viewer.audit_events()),
    ]
    for action, attempt in refused:
        with pytest.raises(ForbiddenError) as caught:
            attempt()
        assert caught.value.code == "forbidden" and caught.value.http_status == 403
        latest = events(moto_storage, limit=1)[0]
        assert (latest.action, latest.outcome, latest.actor) == (action, "forbidden", VIC.email)
    assert meeting_keys(moto_storage) == before
    assert not list(moto_storage.audio.iter_objects(layout.AUDIO_PREFIX))
    assert not list(moto_storage.audio.iter_objects(layout.TOKENS_PREFIX))
    assert viewer.get_meeting(meeting.meeting_id).record.meeting_id == meeting.meeting_id


def test_editors_delete_only_their_own_meetings(moto_storage: MeetingStorage) -> None:
    alice, bob = moto_storage.acting_as(ALICE), moto_storage.acting_as(BOB)
    hers = alice.process(SAMPLE_TRANSCRIPT).record.meeting_id
    his = bob.process(SAMPLE_TRANSCRIPT).record.meeting_id
    with pytest.raises(ForbiddenError, match="only the meetings they uploaded"):
        alice.delete_meeting(his)
    assert bob.get_record(his).meeting_id == his  # nothing changed
    refused = events(moto_storage, meeting_id=his, limit=1)[0]
    assert (refused.actor, refused.outcome) == (ALICE.email, "forbidden")
    with pytest.raises(ForbiddenError):
        alice.delete_meeting(hers, purge=True)  # purging is for administrators
    alice.delete_meeting(hers)
    with pytest.raises(NotFoundError):
        alice.get_record(hers)
    # Editors attach transcripts to meetings they see; administrators delete any meeting.
    alice.attach_transcript(his, SAMPLE_TRANSCRIPT)
    moto_storage.acting_as(ADA).delete_meeting(his)
    # The meeting is gone; its history is not.
    history = [(e.action, e.actor, e.outcome) for e in events(moto_storage, meeting_id=his)]
    assert history == [
        ("meeting.delete", ADA.email, "ok"),
        ("meeting.attach_transcript", ALICE.email, "ok"),
        ("meeting.delete", ALICE.email, "forbidden"),
        ("meeting.process", BOB.email, "ok"),
    ]


def test_each_change_leaves_exactly_one_event_with_its_actor(
    moto_storage: MeetingStorage,
) -> None:
    alice = moto_storage.acting_as(ALICE)
    upload = alice.upload_audio(io.BytesIO(wav_bytes()), "Sync.wav")
    meeting = alice.process(SAMPLE_TRANSCRIPT, audio_s3_key=upload.audio_s3_key).record
    alice.attach_transcript(meeting.meeting_id, SAMPLE_TRANSCRIPT)
    # Whoever may open the meeting sees its own history (not the rest of the trail).
    history = moto_storage.acting_as(VIC).meeting_history(meeting.meeting_id)
    assert [e.action for e in history] == ["meeting.attach_transcript", "meeting.process"]
    alice.delete_meeting(meeting.meeting_id)
    trail = events(moto_storage)
    assert [(e.action, e.outcome) for e in reversed(trail)] == [
        ("meeting.upload", "ok"),
        ("meeting.process", "ok"),
        ("meeting.attach_transcript", "ok"),
        ("meeting.delete", "ok"),
    ]
    assert {(e.actor, e.role, e.via) for e in trail} == {(ALICE.email, "editor", "api")}
    assert trail[0].meeting_id == meeting.meeting_id and trail[-1].meeting_id is None
    assert trail[-1].details["audio_s3_key"] == upload.audio_s3_key
    # One small object each, under its day's folder.
    keys = [info.key for info in moto_storage.audio.iter_objects(layout.AUDIT_PREFIX)]
    assert len(keys) == 4
    today = datetime.now(UTC)
    assert all(k.startswith(f"audit/{today:%Y/%m/%d}/") for k in keys)


def test_a_failed_change_is_audited_as_failed(moto_storage: MeetingStorage) -> None:
    missing = "meetings/" + "0" * 32 + "_gone.wav"
    with pytest.raises(NotFoundError):
        moto_storage.process(None, audio_s3_key=missing)
    (failed,) = events(moto_storage)
    assert (failed.action, failed.outcome, failed.actor) == ("meeting.process", "failed", "local")
    assert failed.details["error"] == "not_found"
    assert not meeting_keys(moto_storage)


def test_bucket_operations_need_an_administrator(moto_storage: MeetingStorage) -> None:
    editor = moto_storage.acting_as(ALICE)
    with pytest.raises(ForbiddenError):
        apply_lifecycle(editor, LifecyclePolicy())
    with pytest.raises(ForbiddenError):
        harden_bucket(editor)
    assert not moto_storage.bucket.lifecycle_rules()
    apply_lifecycle(editor, LifecyclePolicy(), dry_run=True)  # reading is not changing
    apply_lifecycle(moto_storage.acting_as(ADA), LifecyclePolicy(audit_days=500))
    rules = {rule["ID"]: rule for rule in moto_storage.bucket.lifecycle_rules()}
    assert rules["meeting-storage-audit"]["Filter"] == {"Prefix": "audit/"}
    assert rules["meeting-storage-audit"]["Expiration"] == {"Days": 500}
    assert [(e.action, e.outcome, e.actor) for e in events(moto_storage)] == [
        ("lifecycle.apply", "ok", ADA.email),
        ("bucket.harden", "forbidden", ALICE.email),
        ("lifecycle.apply", "forbidden", ALICE.email),
    ]


# ---------------------------------------------------------------- visibility, every backend


def test_owner_visibility_on_every_index_backend(indexed_storage: MeetingStorage) -> None:
    storage = replace_settings(indexed_storage, meeting_visibility="owner")
    alice, bob = storage.acting_as(ALICE), storage.acting_as(BOB)
    hers = alice.process(SAMPLE_TRANSCRIPT, audio_file=io.BytesIO(wav_bytes()), title="Hers")
    his = bob.process(SAMPLE_TRANSCRIPT, title="His").record
    old = storage.process(SAMPLE_TRANSCRIPT, title="Local").record
    her_id = hers.record.meeting_id

    def listed(service: MeetingStorage, **kwargs: Any) -> set[str]:
        return {m.meeting_id for m in service.list_meetings(**kwargs).meetings}

    assert listed(alice) == {her_id}
    assert listed(bob) == {his.meeting_id}
    assert {m.meeting_id for m in alice.search_meetings("launch").meetings} == {her_id}
    assert listed(alice, filters=MeetingFilter(uploaded_by=BOB.email)) == set()
    assert alice.count_meetings() == 1
    for attempt in (
        lambda: alice.get_meeting(his.meeting_id),
        lambda: alice.get_record(his.meeting_id),
        lambda: bob.presign_audio(her_id),
        lambda: bob.delete_meeting(her_id),
        lambda: bob.attach_transcript(her_id, SAMPLE_TRANSCRIPT),
        lambda: bob.meeting_history(her_id),
    ):
        with pytest.raises(NotFoundError):
            attempt()
    assert alice.presign_audio(her_id).startswith("http")
    viewer = storage.acting_as(Principal(ALICE.email, Role.VIEWER, "api"))
    assert listed(viewer) == {her_id}
    # Administrators see every meeting, and filter them by who stored them.
    admin = storage.acting_as(ADA)
    assert listed(admin) == {her_id, his.meeting_id, old.meeting_id}
    assert listed(admin, filters=MeetingFilter(uploaded_by="BOB@example.com")) == {his.meeting_id}
    assert listed(admin, filters=MeetingFilter(uploaded_by="local")) == {old.meeting_id}
    assert admin.get_meeting(his.meeting_id).record.uploaded_by == BOB.email


def replace_settings(storage: MeetingStorage, **changes: Any) -> MeetingStorage:
    view = storage.acting_as(storage.principal)
    view.settings = replace(storage.settings, **changes)
    return view


# ---------------------------------------------------------------- personal API tokens


def test_tokens_are_shown_once_stored_as_hashes_and_revoked(
    moto_storage: MeetingStorage,
) -> None:
    created = moto_storage.create_token("Eve@Example.com", "editor", name="CI", expires_days=7)
    token = created.token
    assert token.startswith("mst_") and len(token) > 60
    principal = moto_storage.authenticate_token(token)
    assert principal == Principal("eve@example.com", Role.EDITOR, "api")
    stored = [
        moto_storage.audio.get(info.key).data
        for prefix in ("", layout.TOKENS_PREFIX)
        for info in moto_storage.audio.iter_objects(prefix)
    ]
    assert all(token.encode() not in data for data in stored)
    assert all(token.split("_")[-1].encode() not in data for data in stored)
    (listed,) = moto_storage.list_tokens()
    assert "sha256" not in listed.to_dict() and listed.token_id == created.record.token_id
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), "mst_nonsense", ""):
        with pytest.raises(UnauthorizedError):
            moto_storage.authenticate_token(wrong)
    moto_storage.revoke_token(created.record.token_id)
    with pytest.raises(UnauthorizedError):
        moto_storage.authenticate_token(token)
    assert [(e.action, e.details.get("token_id")) for e in events(moto_storage)] == [
        ("token.revoke", created.record.token_id),
        ("token.create", created.record.token_id),
    ]
    assert all(token not in json.dumps(e.to_dict()) for e in events(moto_storage))


def test_an_expired_token_is_refused(moto_storage: MeetingStorage) -> None:
    created = moto_storage.create_token("eve@example.com", "viewer", expires_days=1)
    assert moto_storage.authenticate_token(created.token).role is Role.VIEWER
    past = datetime.now(UTC) - timedelta(seconds=1)
    moto_storage.token_store.put(replace(created.record, expires_at=past))
    with pytest.raises(UnauthorizedError):
        moto_storage.authenticate_token(created.token)


# ---------------------------------------------------------------- the command line


def cli(capsys: pytest.CaptureFixture[str], storage: MeetingStorage, *args: str) -> Any:
    status = main([*args, "--json"], storage=storage)
    data = json.loads(capsys.readouterr().out)
    assert data["success"] is (status == 0)
    return data


def test_cli_tokens_audit_and_uploaded_by(
    capsys: pytest.CaptureFixture[str], moto_storage: MeetingStorage
) -> None:
    created = cli(capsys, moto_storage, "token", "create", "--email", "eve@example.com",
                  "--role", "viewer", "--name", "laptop", "--expires-days", "30")  # fmt: skip
    assert set(created) >= {"token", "token_id", "email", "role", "expires_at"}
    assert created["role"] == "viewer" and created["email"] == "eve@example.com"
    listed = cli(capsys, moto_storage, "token", "list")
    assert [t["token_id"] for t in listed["tokens"]] == [created["token_id"]]
    assert created["token"] not in json.dumps(listed)
    revoked = cli(capsys, moto_storage, "token", "revoke", created["token_id"])
    assert revoked["revoked_at"] is not None
    bad = cli(capsys, moto_storage, "token", "revoke", "tok-nonsense")
    assert bad["error"]["code"] == "invalid_input"

    mine = moto_storage.process(SAMPLE_TRANSCRIPT).record.meeting_id
    theirs = moto_storage.acting_as(ALICE).process(SAMPLE_TRANSCRIPT).record.meeting_id
    local = cli(capsys, moto_storage, "list", "--uploaded-by", "local")
    assert [m["meeting_id"] for m in local["meetings"]] == [mine]
    hers = cli(capsys, moto_storage, "list", "--uploaded-by", ALICE.email)
    assert [m["meeting_id"] for m in hers["meetings"]] == [theirs]

    trail = cli(capsys, moto_storage, "audit")["events"]
    assert [e["action"] for e in trail] == [
        "meeting.process",
        "meeting.process",
        "token.revoke",
        "token.create",
    ]
    assert set(trail[0]) == {"at", "actor", "role", "via", "action", "meeting_id", "details",
                             "outcome"}  # fmt: skip
    assert trail[-1]["actor"] == "local" and trail[-1]["via"] == "cli"
    only = cli(capsys, moto_storage, "audit", "--meeting", theirs)["events"]
    assert [(e["actor"], e["meeting_id"]) for e in only] == [(ALICE.email, theirs)]
    by_actor = cli(capsys, moto_storage, "audit", "--actor", "ALICE@example.com")["events"]
    assert [e["meeting_id"] for e in by_actor] == [theirs]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert cli(capsys, moto_storage, "audit", "--since", tomorrow)["events"] == []


def test_an_older_sql_index_learns_who_stored_its_meetings(tmp_path: Any) -> None:
    from sqlalchemy import text

    from meeting_storage.core.models import MeetingRecord
    from meeting_storage.index.sql import SqlIndex

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = MeetingRecord(meeting_id="meeting-0001", timestamp=datetime.now(UTC), filename="a.txt")
    index = SqlIndex(url)
    index.put(old)
    with index.engine.begin() as conn:  # as the schema was before uploads were recorded
        conn.execute(text("DROP INDEX ix_meetings_uploaded_by"))
        conn.execute(text("ALTER TABLE meetings DROP COLUMN uploaded_by"))
        conn.execute(text("DROP TABLE meeting_heading"))  # and the later migration's table
        conn.execute(text("DELETE FROM schema_version WHERE version >= 2"))
    index.close()
    upgraded = SqlIndex(url)
    assert "schema v3" in upgraded.check()
    theirs = replace(old, meeting_id="meeting-0002", uploaded_by="alice@example.com")
    upgraded.put(theirs)

    def ids(who: str) -> list[str]:
        page = upgraded.list(10, None, None, MeetingFilter(uploaded_by=who))
        return [m.meeting_id for m in page.meetings]

    assert ids("local") == ["meeting-0001"]
    assert ids("Alice@Example.com") == ["meeting-0002"]
    upgraded.close()
