"""Sessions that end (issue 14, item 7, the core's half): every signed-in session (a subscriber's, an
invoice link's, a staff member's) is recorded, ends after 30 minutes unused or 12 hours in all
(configurable), and ends at once on sign-out, link revocation or an agent's deactivation, on every
worker. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from backend_stub import clock
from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from backend_stub.services.access import sessions
from backend_stub.services.access.tokens import decode_token
from backend_stub.services.support import agents
from backend_stub.storage.models.access import WebSession
from tests.conftest import token_for

TODAY = date(2026, 11, 21)
PASSWORD = "a-long-enough-password"


@pytest.fixture
def seeded(core):
    seed(core, 3, 2, today=TODAY, quiet=True)
    return core


@pytest.fixture
def workers(seeded, auth, env):
    """Two workers of the core on one database, with the session limits set by the environment."""
    env.set(sessions.IDLE_VAR, "20")
    env.set(sessions.MAX_VAR, "6")
    with TestClient(create_app(seeded, auth=auth)) as one, TestClient(create_app(seeded, auth=auth)) as two:
        yield one, two


def _customer(api, auth) -> dict:
    return api.get("/customers", headers=token_for(auth, "agent"), params={"limit": 1}).json()["items"][0]


def _sign_in(api, auth, customer: dict) -> dict:
    service = token_for(auth, "service")
    assert (
        api.post("/auth/otp/request", headers=service, json={"identifier": customer["customer_number"]}).status_code
        == 202
    )
    text = api.get("/dev/outbox", headers=service, params={"customer": customer["customer_number"]}).json()[0]["text"]
    answer = api.post(
        "/auth/otp/verify",
        headers=service,
        json={"identifier": customer["customer_number"], "code": re.search(r"\b(\d{6})\b", text)[1]},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _row(core, token: str):
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    with core.engine.connect() as conn:
        return conn.execute(select(WebSession).where(WebSession.jti == jti)).one()


def _age(core, token: str, **moved: timedelta) -> None:
    """Move a session's own times into the past (as if that much wall-clock time had gone by)."""
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    row = _row(core, token)
    values = {column: getattr(row, column) - delta for column, delta in moved.items()}
    with core.engine.begin() as conn:
        conn.execute(update(WebSession).where(WebSession.jti == jti).values(**values))


def test_a_sign_in_is_a_recorded_session_with_the_configured_lifetimes(workers, auth, seeded):
    one, _two = workers
    customer = _customer(one, auth)
    answer = _sign_in(one, auth, customer)
    principal = decode_token(auth, answer["access_token"])
    assert principal.session and principal.customer_id == customer["id"]
    row = _row(seeded, answer["access_token"])
    assert (row.subject, row.role, row.customer_id, row.invoice_id) == (
        customer["customer_number"],
        "subscriber",
        customer["id"],
        None,
    )
    assert row.idle_s == 20 * 60
    # The token's own expiry is the absolute end, 6 hours (SELFCARE_SESSION_MAX_HOURS=6) after it began.
    expires = datetime.fromisoformat(answer["expires_at"])
    assert expires - principal.expires_at < timedelta(seconds=1)
    assert timedelta(hours=6) - timedelta(seconds=5) < expires - clock.wall_now() <= timedelta(hours=6)


def test_a_session_ends_after_its_idle_time_and_use_keeps_it_alive(workers, auth, seeded):
    one, two = workers
    customer = _customer(one, auth)
    bearer = _bearer(_sign_in(one, auth, customer)["access_token"])
    token = bearer["Authorization"].split()[1]
    # 19 minutes unused: still live, and the use starts the idle time again (written through).
    _age(seeded, token, last_seen_at=timedelta(minutes=19))
    assert two.get(f"/customers/{customer['id']}", headers=bearer).status_code == 200
    assert clock.wall_now() - clock.to_instant(_row(seeded, token).last_seen_at) < timedelta(seconds=5)
    # 21 minutes unused: over, on every worker.
    _age(seeded, token, last_seen_at=timedelta(minutes=21))
    for api in (one, two):
        refused = api.get(f"/customers/{customer['id']}", headers=bearer)
        assert refused.status_code == 401 and refused.json()["detail"] == "session has ended"


def test_a_session_ends_at_its_absolute_end_however_busy(workers, auth, seeded):
    one, _two = workers
    customer = _customer(one, auth)
    token = _sign_in(one, auth, customer)["access_token"]
    _age(seeded, token, expires_at=timedelta(hours=6, seconds=1))  # used a second ago, but begun over 6 h ago
    assert one.get(f"/customers/{customer['id']}", headers=_bearer(token)).status_code == 401


def test_sign_out_on_one_worker_ends_the_session_on_the_other(workers, auth, seeded):
    one, two = workers
    customer = _customer(one, auth)
    first, second = (_bearer(_sign_in(one, auth, customer)["access_token"]) for _ in range(2))
    assert two.get(f"/customers/{customer['id']}", headers=first).status_code == 200
    assert one.post("/auth/logout", headers=first).status_code == 204
    assert _row(seeded, first["Authorization"].split()[1]).ended_at is not None
    assert two.get(f"/customers/{customer['id']}", headers=first).status_code == 401
    # The same subscriber's other session (another browser) goes on.
    assert two.get(f"/customers/{customer['id']}", headers=second).status_code == 200


def test_a_session_flag_without_a_recorded_session_is_refused(workers, auth):
    one, _two = workers
    customer = _customer(one, auth)
    now = clock.wall_now()
    forged = jwt.encode(
        {
            "sub": customer["customer_number"],
            "role": "subscriber",
            "cid": customer["id"],
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(hours=1)).timestamp()),
            "iss": auth.issuer,
            "aud": auth.audience,
            "jti": "never-recorded",
            "ses": 1,
        },
        auth.secret,
        algorithm="HS256",
    )
    assert one.get(f"/customers/{customer['id']}", headers=_bearer(forged)).status_code == 401
    for bad in (2, True, "1"):
        claims = jwt.decode(forged, auth.secret, algorithms=["HS256"], audience=auth.audience)
        odd = jwt.encode({**claims, "ses": bad}, auth.secret, algorithm="HS256")
        assert (
            one.get(f"/customers/{customer['id']}", headers=_bearer(odd)).json()["detail"]
            == "token session flag (ses) is invalid"
        )


def test_a_link_session_is_a_session_too_and_reads_its_invoices_credit_notes(workers, auth, seeded):
    one, two = workers
    agent = token_for(auth, "agent")
    invoices = one.get("/invoices", headers=agent, params={"kind": "invoice", "limit": 2}).json()["items"]
    inv, other = invoices[0], invoices[1]
    note = one.post(
        f"/invoices/{inv['id']}/credit-notes", headers=agent, json={"reason": "fel pris", "amount_ore": 1000}
    )
    assert note.status_code == 201, note.text
    note_id = note.json()["id"]
    link = one.post(f"/invoices/{inv['id']}/link", headers=agent).json()["token"]
    opened = one.post("/links/open", headers=token_for(auth, "service"), json={"token": link}).json()
    bearer = _bearer(opened["access_token"])
    row = _row(seeded, opened["access_token"])
    assert (row.invoice_id, row.role, row.idle_s) == (inv["id"], "subscriber", 20 * 60)
    assert two.get(f"/invoices/{inv['id']}", headers=bearer).status_code == 200
    # Its invoice's credit note reads (document and PDF); no other invoice, nothing done to the note.
    assert two.get(f"/invoices/{note_id}", headers=bearer).status_code == 200
    assert two.get(f"/invoices/{note_id}/pdf", headers=bearer).status_code == 200
    assert two.get(f"/invoices/{other['id']}", headers=bearer).status_code == 404
    assert two.post(f"/invoices/{note_id}/link", headers=bearer).status_code in (403, 404)
    _age(seeded, opened["access_token"], last_seen_at=timedelta(minutes=21))
    assert one.get(f"/invoices/{inv['id']}", headers=bearer).status_code == 401


def test_deactivating_an_agent_ends_their_sessions_at_once(workers, auth, seeded):
    one, two = workers
    agents.create_agent(seeded.engine, "eva", "Eva", PASSWORD)
    login = one.post(
        "/agent-auth/login", headers=token_for(auth, "service"), json={"username": "eva", "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    bearer = _bearer(login.json()["access_token"])
    assert two.get("/invoices", headers=bearer, params={"limit": 1}).status_code == 200
    assert agents.deactivate_agent(seeded.engine, "Eva") == 1
    assert two.get("/invoices", headers=bearer, params={"limit": 1}).status_code == 401
    again = one.post(
        "/agent-auth/login", headers=token_for(auth, "service"), json={"username": "eva", "password": PASSWORD}
    )
    assert again.status_code == 401
    with pytest.raises(LookupError, match="username"):
        agents.deactivate_agent(seeded.engine, "nobody")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({sessions.IDLE_VAR: "half an hour"}, "SELFCARE_SESSION_IDLE_MINUTES: 'half an hour' is not a whole number"),
        ({sessions.IDLE_VAR: "0"}, "SELFCARE_SESSION_IDLE_MINUTES: 0 is outside 1..1440"),
        ({sessions.MAX_VAR: "1000"}, "SELFCARE_SESSION_MAX_HOURS: 1000 is outside 1..720"),
        ({sessions.IDLE_VAR: "120", sessions.MAX_VAR: "1"}, "must not be longer than SELFCARE_SESSION_MAX_HOURS"),
    ],
)
def test_bad_session_settings_stop_the_start_naming_the_variable(env, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        sessions.SessionPolicy.from_env(env)


def test_default_lifetimes_are_30_minutes_idle_and_12_hours_in_all():
    policy = sessions.SessionPolicy.from_env({})
    assert (policy.idle, policy.absolute) == (timedelta(minutes=30), timedelta(hours=12))


def test_support_ends_every_session_of_a_subscriber(workers, auth, seeded):
    one, two = workers
    customer = _customer(one, auth)
    signed_in = _bearer(_sign_in(one, auth, customer)["access_token"])
    inv = one.get(
        "/invoices",
        headers=token_for(auth, "agent"),
        params={"customer_id": customer["id"], "kind": "invoice", "limit": 1},
    ).json()["items"][0]
    link = one.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()["token"]
    from_link = _bearer(
        one.post("/links/open", headers=token_for(auth, "service"), json={"token": link}).json()["access_token"]
    )
    other = next(
        c for c in one.get("/customers", headers=token_for(auth, "agent")).json()["items"] if c["id"] != customer["id"]
    )
    others = _bearer(_sign_in(one, auth, other)["access_token"])
    assert (
        one.post(f"/customers/{customer['id']}/sessions/end", headers=token_for(auth, "marketing")).status_code == 403
    )
    assert one.post(f"/customers/{customer['id']}/sessions/end", headers=signed_in).status_code == 403
    ended = one.post(f"/customers/{customer['id']}/sessions/end", headers=token_for(auth, "agent"))
    assert ended.json() == {"ended": 2}
    assert two.get(f"/customers/{customer['id']}", headers=signed_in).status_code == 401
    assert two.get(f"/invoices/{inv['id']}", headers=from_link).status_code == 401
    assert two.get(f"/customers/{other['id']}", headers=others).status_code == 200  # nobody else's
    assert one.post("/customers/999999/sessions/end", headers=token_for(auth, "agent")).status_code == 404
