"""Links that really end (issue 14): revoking an invoice's links ends every session opened from
them at once, on every worker; a session opened from a link never makes a link; what the
database keeps of a link is never the link itself. Run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from backend_stub.api.app import create_app
from backend_stub.demo.seed import seed
from backend_stub.services.lifecycle import links
from backend_stub.storage.db import alembic_config
from backend_stub.storage.models.access import InvoiceLink, LinkSession, RevokedToken
from tests.conftest import SECRET, token_for

TODAY = date(2026, 11, 21)


@pytest.fixture
def seeded(core):
    seed(core, 3, 2, today=TODAY, quiet=True)
    return core


@pytest.fixture
def workers(seeded, auth):
    """Two workers of the core on one database (as the scale path runs it)."""
    with TestClient(create_app(seeded, auth=auth)) as one, TestClient(create_app(seeded, auth=auth)) as two:
        yield one, two


def _invoice(api, auth) -> dict:
    """An invoice (with its ``customer_id``)."""
    first = api.get("/invoices", headers=token_for(auth, "agent"), params={"kind": "invoice", "limit": 1}).json()[
        "items"
    ][0]
    return api.get(f"/invoices/{first['id']}", headers=token_for(auth, "agent")).json()


def _open(api, auth, token: str) -> dict[str, str]:
    opened = api.post("/links/open", headers=token_for(auth, "service"), json={"token": token})
    assert opened.status_code == 200, opened.text
    return {"Authorization": f"Bearer {opened.json()['access_token']}"}


def test_revoking_an_invoices_links_ends_every_session_from_them_on_every_worker(workers, auth, seeded):
    one, two = workers
    inv = _invoice(one, auth)
    short = one.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()["token"]
    old = links.create_jwt_link(seeded.engine, SECRET, auth.issuer, inv["id"]).token
    sessions = [_open(one, auth, short), _open(two, auth, short), _open(one, auth, old)]
    owner = token_for(auth, "subscriber", inv["customer_id"])  # the subscriber's own, signed-in session
    for api in (one, two):
        for bearer in sessions:
            assert api.get(f"/invoices/{inv['id']}", headers=bearer).status_code == 200
    # Support revokes the invoice's links on worker two …
    revoked = two.post(f"/invoices/{inv['id']}/links/revoke", headers=token_for(auth, "agent"))
    assert revoked.json() == {"revoked": 2}
    # … and at once no session opened from them reads anything, on either worker.
    for api in (one, two):
        for bearer in sessions:
            for path in (f"/invoices/{inv['id']}", f"/invoices/{inv['id']}/pdf", f"/invoices/{inv['id']}/qr"):
                answer = api.get(path, headers=bearer)
                assert answer.status_code == 401 and answer.json()["detail"] == "token was revoked", path
            assert api.post(f"/invoices/{inv['id']}/link", headers=bearer).status_code == 401
        assert api.get(f"/invoices/{inv['id']}", headers=owner).status_code == 200  # not the owner's own
    # The links themselves are gone too (410 naming the invoice: the app asks for a sign-in).
    gone = one.post("/links/open", headers=token_for(auth, "service"), json={"token": short})
    assert gone.status_code == 410 and gone.json()["detail"]["invoice_id"] == inv["id"]


def test_revoking_one_link_ends_its_sessions_only(workers, auth):
    one, _two = workers
    inv = _invoice(one, auth)
    first = one.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()["token"]
    second = links.create_link(one.app.state.core.engine, SECRET, auth.issuer, inv["id"]).token
    a, b = _open(one, auth, first), _open(one, auth, second)
    assert one.delete(f"/links/{first}", headers=token_for(auth, "agent")).status_code == 204
    assert one.get(f"/invoices/{inv['id']}", headers=a).status_code == 401
    assert one.get(f"/invoices/{inv['id']}", headers=b).status_code == 200


def test_a_session_from_a_link_never_makes_a_link(workers, auth, seeded):
    one, _two = workers
    inv = _invoice(one, auth)
    # A link close to its end: a full session would make a fresh one for the PDF.
    near_end = links.create_link(seeded.engine, SECRET, auth.issuer, inv["id"], ttl=timedelta(days=3))
    scoped = _open(one, auth, near_end.token)
    made = one.post(f"/invoices/{inv['id']}/link", headers=scoped)
    assert made.status_code == 403 and "link" in made.json()["detail"]
    pdf = one.get(f"/invoices/{inv['id']}/pdf", headers=scoped)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    with seeded.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(InvoiceLink)).scalar_one() == 1  # none made
    # The subscriber signed in, and staff, still may.
    owner = token_for(auth, "subscriber", inv["customer_id"])
    assert one.post(f"/invoices/{inv['id']}/link", headers=owner).status_code == 200
    assert one.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).status_code == 200


def test_a_session_is_recorded_with_its_link_before_it_is_handed_out(workers, auth, seeded):
    one, _two = workers
    inv = _invoice(one, auth)
    token = one.post(f"/invoices/{inv['id']}/link", headers=token_for(auth, "agent")).json()["token"]
    _open(one, auth, token)
    _open(one, auth, token)
    with seeded.engine.connect() as conn:
        recorded = conn.execute(select(LinkSession.link_jti)).scalars().all()
    assert recorded == [links.link_key(SECRET, token)] * 2
    links.revoke_links(seeded.engine, invoice_id=inv["id"])
    with seeded.engine.connect() as conn:
        revoked = set(conn.execute(select(RevokedToken.jti)).scalars())
        sessions = set(conn.execute(select(LinkSession.jti)).scalars())
    assert sessions and sessions <= revoked


def test_old_long_links_are_stored_hashed_and_still_open_and_revoke(workers, auth, seeded):
    one, _two = workers
    inv = _invoice(one, auth)
    old = links.create_jwt_link(seeded.engine, SECRET, auth.issuer, inv["id"]).token
    with seeded.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(InvoiceLink))]
    assert rows and not any(old in str(value) for row in rows for value in row.values())
    assert rows[0]["token"] == "sha256:" + hashlib.sha256(old.encode()).hexdigest()
    bearer = _open(one, auth, old)
    assert one.delete(f"/links/{old}", headers=token_for(auth, "agent")).status_code == 204
    assert one.get(f"/invoices/{inv['id']}", headers=bearer).status_code == 401


def test_the_migration_hashes_links_kept_in_plain_text(seeded, auth):
    """Links kept as they were sent (before migration 0012h) are hashed in place, and still work."""
    inv_id = _first_invoice_id(seeded)
    old = links.create_jwt_link(seeded.engine, SECRET, auth.issuer, inv_id).token
    cfg = alembic_config(seeded.engine.url.render_as_string(hide_password=False))
    with seeded.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0011c")
        conn.execute(update(InvoiceLink).values(token=old))  # as the earlier code stored it
    with seeded.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
    with seeded.engine.connect() as conn:
        stored = conn.execute(select(InvoiceLink.token)).scalars().all()
    assert stored == ["sha256:" + hashlib.sha256(old.encode()).hexdigest()]
    with TestClient(create_app(seeded, auth=auth)) as api:
        assert api.post("/links/open", headers=token_for(auth, "service"), json={"token": old}).status_code == 200
        assert api.delete(f"/links/{old}", headers=token_for(auth, "agent")).status_code == 204


def _first_invoice_id(core) -> str:
    from backend_stub.storage.models import billing as m

    with core.engine.connect() as conn:
        return conn.execute(select(m.Invoice.id).where(m.Invoice.kind == "invoice").limit(1)).scalar_one()
