"""The REST API acts as each token's person: API_TOKEN, personal tokens, the OIDC provider's
JWTs; what their role may not do is 403 and changes nothing; every change is attributed."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from meeting_storage.api.app import create_app
from meeting_storage.core.access import Principal, Role
from meeting_storage.service.facade import MeetingStorage
from tests.conftest import SAMPLE_TRANSCRIPT, wav_bytes
from tests.servers import oidc_provider_mock, oidc_sign_in

TOKEN = "test-api-token-0123456789"
MEETING = "meeting-0123456789abcdef0123456789abcdef"
ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/api/meetings", {}),
    ("POST", "/api/meeting/process", {"json": {"text": SAMPLE_TRANSCRIPT}}),
    ("POST", "/api/meetings/upload-url", {"json": {"filename": "a.wav", "content_type": "audio/wav"}}),
    ("POST", "/api/meetings/upload", {"files": {"file": ("a.wav", b"RIFF", "audio/wav")}}),
    ("GET", f"/api/meetings/{MEETING}", {}),
    ("DELETE", f"/api/meetings/{MEETING}", {}),
    ("GET", "/api/costs", {}),
    ("GET", "/api/audit", {}),
    ("GET", "/api/tokens", {}),
    ("POST", "/api/tokens", {"json": {"email": "x@example.com", "role": "viewer"}}),
    ("DELETE", "/api/tokens/tok-0123456789abcdef", {}),
]  # fmt: skip


def client_for(storage: MeetingStorage, token: str | None = TOKEN) -> TestClient:
    settings = replace(storage.settings, api_token=TOKEN)
    app = create_app(lambda: storage, settings=settings)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return TestClient(app, headers=headers, raise_server_exceptions=False)


def error_code(response: Any) -> str:
    body = response.json()
    assert body["success"] is False and body["error"]["message"]
    return str(body["error"]["code"])


def meeting_keys(storage: MeetingStorage) -> set[str]:
    return {
        info.key for info in storage.audio.iter_objects("") if not info.key.startswith("audit/")
    }


@pytest.fixture
def tokens(moto_storage: MeetingStorage) -> dict[str, str]:
    """A personal token for each role and person, plus a revoked and an expired one."""
    made = {
        name: moto_storage.create_token(f"{name}@example.com", role).token
        for name, role in (("vic", "viewer"), ("alice", "editor"), ("bob", "editor"))
    }
    revoked = moto_storage.create_token("rev@example.com", "admin")
    moto_storage.revoke_token(revoked.record.token_id)
    expired = moto_storage.create_token("old@example.com", "admin")
    past = datetime.now(UTC) - timedelta(minutes=1)
    moto_storage.token_store.put(replace(expired.record, expires_at=past))
    return {**made, "revoked": revoked.token, "expired": expired.token}


@pytest.mark.parametrize(("method", "path", "request_args"), ROUTES)
@pytest.mark.parametrize("which", ["none", "revoked", "expired", "wrong"])
def test_every_route_refuses_a_missing_revoked_expired_or_wrong_token(
    moto_storage: MeetingStorage,
    tokens: dict[str, str],
    which: str,
    method: str,
    path: str,
    request_args: dict[str, Any],
) -> None:
    wrong = "mst_" + "0" * 16 + "_" + "A" * 43
    token = None if which == "none" else wrong if which == "wrong" else tokens[which]
    before = meeting_keys(moto_storage)
    with client_for(moto_storage, token) as client:
        response = client.request(method, path, **request_args)
    assert response.status_code == 401, response.text
    assert error_code(response) == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert meeting_keys(moto_storage) == before


def test_a_viewer_reads_but_every_write_is_403_and_changes_nothing(
    moto_storage: MeetingStorage, tokens: dict[str, str]
) -> None:
    meeting_id = moto_storage.process(SAMPLE_TRANSCRIPT).record.meeting_id
    before = meeting_keys(moto_storage)
    with client_for(moto_storage, tokens["vic"]) as viewer:
        assert viewer.get("/api/meetings").json()["count"] == 1
        assert viewer.get(f"/api/meetings/{meeting_id}").status_code == 200
        assert viewer.get("/api/costs").status_code == 200
        writes = [
            viewer.post("/api/meeting/process", json={"text": SAMPLE_TRANSCRIPT}),
            viewer.post(
                "/api/meetings/upload-url", json={"filename": "a.wav", "content_type": "audio/wav"}
            ),
            viewer.post(
                "/api/meetings/upload", files={"file": ("a.wav", wav_bytes(), "audio/wav")}
            ),
            viewer.delete(f"/api/meetings/{meeting_id}"),
            viewer.get("/api/audit"),
            viewer.get("/api/tokens"),
            viewer.post("/api/tokens", json={"email": "vic@example.com", "role": "admin"}),
        ]
    for response in writes:
        assert response.status_code == 403, response.text
        assert error_code(response) == "forbidden"
    assert meeting_keys(moto_storage) == before
    refused = moto_storage.audit_events(actor="vic@example.com")
    assert len(refused) == len(writes)
    assert {(e.outcome, e.via, e.role) for e in refused} == {("forbidden", "api", "viewer")}


def test_an_editor_works_on_their_own_meetings_only(
    moto_storage: MeetingStorage, tokens: dict[str, str]
) -> None:
    with client_for(moto_storage, tokens["bob"]) as bob:
        his = bob.post("/api/meeting/process", json={"text": SAMPLE_TRANSCRIPT}).json()
    with client_for(moto_storage, tokens["alice"]) as alice:
        uploaded = alice.post(
            "/api/meetings/upload", files={"file": ("Sync.wav", wav_bytes(), "audio/wav")}
        ).json()
        hers = alice.post(
            "/api/meeting/process",
            json={"text": SAMPLE_TRANSCRIPT, "audio_s3_key": uploaded["audio_s3_key"]},
        ).json()
        assert alice.delete(f"/api/meetings/{MEETING}").status_code == 404
        refused = alice.delete(f"/api/meetings/{his['meeting_id']}")
        assert refused.status_code == 403 and error_code(refused) == "forbidden"
        mine = alice.get("/api/meetings", params={"uploaded_by": "alice@example.com"}).json()
        assert [m["meeting_id"] for m in mine["meetings"]] == [hers["meeting_id"]]
        assert mine["meetings"][0]["uploaded_by"] == "alice@example.com"
        assert alice.delete(f"/api/meetings/{hers['meeting_id']}").status_code == 200
    assert moto_storage.get_record(his["meeting_id"]).uploaded_by == "bob@example.com"
    with client_for(moto_storage) as admin:  # API_TOKEN: the administrator's bootstrap token
        trail = admin.get("/api/audit").json()["events"]
        assert admin.delete(f"/api/meetings/{his['meeting_id']}").status_code == 200
        created = admin.post("/api/tokens", json={"email": "new@example.com", "role": "editor"})
        assert created.status_code == 200 and created.json()["token"].startswith("mst_")
        token_id = created.json()["token_id"]
        listed = admin.get("/api/tokens").json()["tokens"]
        assert token_id in [t["token_id"] for t in listed]
        assert created.json()["token"] not in str(listed)
        assert admin.delete(f"/api/tokens/{token_id}").json()["token"]["revoked_at"]
        last = admin.get("/api/audit", params={"limit": 1}).json()["events"]
    assert [(e["actor"], e["action"], e["outcome"]) for e in trail] == [
        ("alice@example.com", "meeting.delete", "ok"),
        ("alice@example.com", "meeting.delete", "forbidden"),
        ("alice@example.com", "meeting.process", "ok"),
        ("alice@example.com", "meeting.upload", "ok"),
        ("bob@example.com", "meeting.process", "ok"),
        ("local", "token.create", "ok"),
        ("local", "token.revoke", "ok"),
        *[("local", "token.create", "ok")] * 4,
    ]
    assert (last[0]["actor"], last[0]["action"]) == ("api-token", "token.revoke")


def test_owner_visibility_through_the_api(
    moto_storage: MeetingStorage, tokens: dict[str, str]
) -> None:
    storage = moto_storage.acting_as(moto_storage.principal)
    storage.settings = replace(moto_storage.settings, meeting_visibility="owner")
    his = storage.acting_as(Principal("bob@example.com", Role.EDITOR, "api")).process(
        SAMPLE_TRANSCRIPT
    )
    with client_for(storage, tokens["alice"]) as alice:
        assert alice.get("/api/meetings").json()["meetings"] == []
        hidden = alice.get(f"/api/meetings/{his.record.meeting_id}")
        assert hidden.status_code == 404 and error_code(hidden) == "not_found"
    with client_for(storage, tokens["bob"]) as bob:
        assert bob.get("/api/meetings").json()["count"] == 1


# ---------------------------------------------------------------- the provider's JWTs


@pytest.fixture
def oidc_storage(moto_storage: MeetingStorage, oidc_provider: str) -> MeetingStorage:
    storage = moto_storage.acting_as(moto_storage.principal)
    storage.settings = replace(
        moto_storage.settings,
        oidc_server_metadata_url=f"{oidc_provider}/.well-known/openid-configuration",
        oidc_client_id="meeting-storage",
        editor_emails=("@example.com",),
        oidc_roles_claim="groups",
    )
    return storage


def test_a_jwt_of_the_provider_acts_as_its_person(
    oidc_storage: MeetingStorage, oidc_provider: str
) -> None:
    editor = oidc_sign_in(oidc_provider, "dana@example.com")["id_token"]
    admin = oidc_sign_in(
        oidc_provider, "root@else.org", {"email": "root@else.org", "groups": ["admin"]}
    )["id_token"]
    nobody = oidc_sign_in(oidc_provider, "eve@else.org")["id_token"]
    with client_for(oidc_storage, str(editor)) as dana:
        stored = dana.post("/api/meeting/process", json={"text": SAMPLE_TRANSCRIPT, "wait": True})
        assert stored.status_code == 200, stored.text
        assert dana.get("/api/audit").status_code == 403
    assert oidc_storage.get_record(stored.json()["meeting_id"]).uploaded_by == "dana@example.com"
    with client_for(oidc_storage, str(admin)) as root:
        events = root.get("/api/audit").json()["events"]
    assert (events[1]["actor"], events[1]["action"]) == ("dana@example.com", "meeting.process")
    with client_for(oidc_storage, str(nobody)) as eve:
        refused = eve.get("/api/meetings")
    assert refused.status_code == 403 and "no access" in refused.json()["error"]["message"]


def test_jwts_for_another_audience_tampered_or_expired_are_401(
    oidc_storage: MeetingStorage, oidc_provider: str
) -> None:
    other = oidc_sign_in(oidc_provider, "dana@example.com", client_id="another-app")["id_token"]
    good = str(oidc_sign_in(oidc_provider, "dana@example.com")["id_token"])
    header, payload, signature = good.split(".")
    tampered = ".".join(
        [header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]
    )
    for token in (str(other), tampered):
        with client_for(oidc_storage, token) as client:
            response = client.get("/api/meetings")
        assert response.status_code == 401 and error_code(response) == "unauthorized"
    with oidc_provider_mock(token_max_age=-120) as short_lived:
        expired = str(oidc_sign_in(short_lived, "dana@example.com")["id_token"])
        storage = oidc_storage.acting_as(oidc_storage.principal)
        storage.settings = replace(
            oidc_storage.settings,
            oidc_server_metadata_url=f"{short_lived}/.well-known/openid-configuration",
        )
        with client_for(storage, expired) as client:
            response = client.get("/api/meetings")
    assert response.status_code == 401 and "expired" in response.json()["error"]["message"]
