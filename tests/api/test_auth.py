"""Tests for backend_stub.services.access.tokens and backend_stub.api.auth: tokens, refusals, revocation and the
FastAPI dependencies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import jwt
import pytest
from fastapi import Depends, FastAPI, HTTPException
from fastapi.testclient import TestClient

from backend_stub.api.auth import configure_auth, current_principal, ensure_customer_access, require_roles
from backend_stub.services.access import tokens
from backend_stub.services.access.tokens import (
    AuthError,
    AuthSettings,
    MemoryRevocationList,
    Principal,
    RevocationList,
    Role,
    decode_token,
    issue_token,
    security_now,
)

SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
OTHER_SECRET = "another-secret-that-is-long-enough-for-hs256-9876543"
SETTINGS = AuthSettings(secret=SECRET)


def subscriber_token(customer_id: int = 42, **kwargs: Any) -> str:
    return issue_token(SETTINGS, subject="anna@example.se", role=Role.SUBSCRIBER, customer_id=customer_id, **kwargs)


def valid_claims(**overrides: Any) -> dict[str, Any]:
    """Claims of a good subscriber token, for hand-built tokens."""
    now = int(security_now().timestamp())
    claims: dict[str, Any] = {
        "sub": "anna@example.se",
        "role": "subscriber",
        "cid": 42,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "iss": SETTINGS.issuer,
        "aud": SETTINGS.audience,
        "jti": "0123456789abcdef0123456789abcdef",
    }
    claims.update(overrides)
    return claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def refusal(token: str, settings: AuthSettings = SETTINGS, **kwargs: Any) -> str:
    with pytest.raises(AuthError) as caught:
        decode_token(settings, token, **kwargs)
    return caught.value.message


# --- settings -----------------------------------------------------------------------------


def test_settings_defaults() -> None:
    assert SETTINGS.issuer == "selfcare-core"
    assert SETTINGS.audience == "selfcare-api"
    assert SETTINGS.algorithm == "HS256"
    assert SETTINGS.default_ttl == timedelta(hours=1)
    assert SETTINGS.leeway_s == 10
    assert SECRET not in repr(SETTINGS)


def test_settings_refuse_short_secret() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        AuthSettings(secret="x" * 31)


@pytest.mark.parametrize("algorithm", ["none", "RS256", "hs256"])
def test_settings_refuse_non_hmac_algorithm(algorithm: str) -> None:
    with pytest.raises(ValueError, match="not allowed"):
        AuthSettings(secret=SECRET, algorithm=algorithm)


def test_from_env_reads_variables() -> None:
    settings = AuthSettings.from_env(
        {"SELFCARE_JWT_SECRET": SECRET, "SELFCARE_JWT_ISSUER": "core-2", "SELFCARE_JWT_AUDIENCE": "api-2"}
    )
    assert (settings.secret, settings.issuer, settings.audience) == (SECRET, "core-2", "api-2")


def test_from_env_refuses_short_secret() -> None:
    with pytest.raises(ValueError, match="too short"):
        AuthSettings.from_env({"SELFCARE_JWT_SECRET": "short"})


def test_from_env_generates_one_dev_secret_per_process(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(tokens, "_dev_secret", None)
    with caplog.at_level(logging.WARNING, logger=tokens.__name__):
        first = AuthSettings.from_env({"SELFCARE_ENV": "test"})
        second = AuthSettings.from_env({"SELFCARE_ENV": "dev"})
    assert first.secret == second.secret
    assert len(first.secret) >= 32
    assert first.issuer == "selfcare-core"
    warnings = [r for r in caplog.records if "SELFCARE_JWT_SECRET is not set" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.parametrize("deployment", [None, "", "production", "prod", "staging", "Dev", " dev", "development"])
def test_from_env_requires_secret_outside_dev(deployment: str | None) -> None:
    """Production is the default: unset, empty, a typo or any other name is not dev."""
    env = {} if deployment is None else {"SELFCARE_ENV": deployment}
    with pytest.raises(ValueError, match="SELFCARE_JWT_SECRET is not set"):
        AuthSettings.from_env(env)


# --- issuing and decoding -----------------------------------------------------------------


def test_round_trip_subscriber() -> None:
    now = security_now().replace(microsecond=0)
    token = subscriber_token(now=now, ttl=timedelta(minutes=5))
    principal = decode_token(SETTINGS, token)
    assert principal.subject == "anna@example.se"
    assert principal.role is Role.SUBSCRIBER
    assert principal.customer_id == 42
    assert principal.expires_at == now + timedelta(minutes=5)
    assert len(principal.token_id) == 32
    int(principal.token_id, 16)  # uuid4 hex


def test_round_trip_agent_has_no_customer() -> None:
    principal = decode_token(SETTINGS, issue_token(SETTINGS, subject="agent-7", role=Role.AGENT))
    assert (principal.role, principal.customer_id) == (Role.AGENT, None)


def test_issued_claims() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    token = subscriber_token(now=now)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    stamp = int(now.timestamp())
    assert claims["iat"] == claims["nbf"] == stamp
    assert claims["exp"] == stamp + 3600
    assert (claims["iss"], claims["aud"], claims["sub"], claims["role"], claims["cid"]) == (
        "selfcare-core",
        "selfcare-api",
        "anna@example.se",
        "subscriber",
        42,
    )
    assert claims["jti"] != jwt.decode(subscriber_token(now=now), options={"verify_signature": False})["jti"]


def test_issue_requires_customer_for_subscriber() -> None:
    with pytest.raises(ValueError, match="needs a customer_id"):
        issue_token(SETTINGS, subject="anna", role=Role.SUBSCRIBER)


def test_issue_refuses_customer_for_staff() -> None:
    with pytest.raises(ValueError, match="only for subscriber"):
        issue_token(SETTINGS, subject="agent-7", role=Role.AGENT, customer_id=42)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"subject": ""},
        {"customer_id": True},
        {"ttl": timedelta(0)},
        {"now": datetime(2026, 3, 10, 12, 0)},  # naive
    ],
)
def test_issue_refuses_bad_arguments(kwargs: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {"subject": "anna", "role": Role.SUBSCRIBER, "customer_id": 42} | kwargs
    with pytest.raises(ValueError):
        issue_token(SETTINGS, **arguments)


def test_expired() -> None:
    token = subscriber_token(now=security_now() - timedelta(hours=2))
    assert refusal(token) == "token expired"


def test_expired_within_leeway_is_accepted() -> None:
    issued = security_now() - timedelta(minutes=1, seconds=5)
    token = subscriber_token(now=issued, ttl=timedelta(minutes=1))
    assert decode_token(SETTINGS, token).customer_id == 42


def test_not_yet_valid() -> None:
    token = subscriber_token(now=security_now() + timedelta(minutes=5))
    assert refusal(token) == "token is not valid yet"


def test_wrong_audience() -> None:
    token = issue_token(replace(SETTINGS, audience="someone-else"), subject="agent-7", role=Role.AGENT)
    assert refusal(token) == "token audience is wrong"


def test_wrong_issuer() -> None:
    token = issue_token(replace(SETTINGS, issuer="evil-core"), subject="agent-7", role=Role.AGENT)
    assert refusal(token) == "token issuer is wrong"


def test_wrong_secret_is_forged() -> None:
    token = issue_token(AuthSettings(secret=OTHER_SECRET), subject="agent-7", role=Role.AGENT)
    assert refusal(token) == "token signature is invalid"


def test_alg_none_refused() -> None:
    header = b64url_json({"alg": "none", "typ": "JWT"})
    payload = b64url_json(valid_claims(role="supervisor", cid=None))
    for token in (f"{header}.{payload}.", f"{header}.{payload}.{b64url(b'x')}"):
        assert refusal(token) == "token algorithm is not allowed"


def test_hs512_header_refused() -> None:
    token = jwt.encode(valid_claims(), SECRET * 2, algorithm="HS512")
    assert refusal(token) == "token algorithm is not allowed"


def test_rs256_header_refused() -> None:
    # The classic key-confusion attack: claim RS256 but sign with HMAC over the "public key".
    header = b64url_json({"alg": "RS256", "typ": "JWT"})
    payload = b64url_json(valid_claims())
    signing_input = f"{header}.{payload}".encode()
    signature = b64url(hmac.new(SECRET.encode(), signing_input, hashlib.sha256).digest())
    assert refusal(f"{header}.{payload}.{signature}") == "token algorithm is not allowed"


def test_tampered_customer_id_refused() -> None:
    header, payload, signature = subscriber_token(customer_id=42).split(".")
    claims = json.loads(b64url_decode(payload))
    claims["cid"] = 43
    assert refusal(f"{header}.{b64url_json(claims)}.{signature}") == "token signature is invalid"


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "a.b", "....", "Bearer x.y.z", f"{'e' * 40}.{'e' * 40}.{'e' * 40}"]
)
def test_malformed(token: str) -> None:
    assert refusal(token) == "token is malformed"


def test_payload_that_is_not_an_object_is_malformed() -> None:
    header = b64url_json({"alg": "HS256", "typ": "JWT"})
    payload = b64url(b"[1,2,3]")
    signature = b64url(hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest())
    assert refusal(f"{header}.{payload}.{signature}") == "token is malformed"


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "jti", "role"])
def test_missing_claim(claim: str) -> None:
    claims = valid_claims()
    del claims[claim]
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    assert refusal(token) == f"token is missing the '{claim}' claim"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"role": "admin"}, "token role is unknown"),
        ({"role": 1}, "token role is unknown"),
        ({"cid": None}, "subscriber token has no valid customer id (cid)"),
        ({"cid": "42"}, "subscriber token has no valid customer id (cid)"),
        ({"cid": True}, "subscriber token has no valid customer id (cid)"),
        ({"cid": 42.0}, "subscriber token has no valid customer id (cid)"),
        ({"role": "agent"}, "token for role agent must not carry a customer id (cid)"),
        ({"sub": ""}, "token subject is invalid"),
        ({"sub": 7}, "token subject is invalid"),
        ({"jti": 7}, "token id (jti) is invalid"),
        ({"jti": ""}, "token id (jti) is invalid"),
        ({"exp": "soon"}, "token is malformed"),
    ],
)
def test_bad_claims(overrides: dict[str, Any], message: str) -> None:
    claims = {key: value for key, value in valid_claims(**overrides).items() if value is not None}
    assert refusal(jwt.encode(claims, SECRET, algorithm="HS256")) == message


def test_revoked_jti() -> None:
    token = subscriber_token()
    principal = decode_token(SETTINGS, token)
    assert decode_token(SETTINGS, token, revoked=lambda jti: False) == principal
    assert refusal(token, revoked=lambda jti: jti == principal.token_id) == "token was revoked"


def test_revocation_is_not_asked_about_invalid_tokens() -> None:
    asked: list[str] = []
    token = issue_token(AuthSettings(secret=OTHER_SECRET), subject="agent-7", role=Role.AGENT)

    def revoked(jti: str) -> bool:
        asked.append(jti)
        return False

    refusal(token, revoked=revoked)
    assert asked == []


def test_errors_are_never_raw_pyjwt_exceptions() -> None:
    with pytest.raises(AuthError) as caught:
        decode_token(SETTINGS, "a.b.c")
    assert not isinstance(caught.value, jwt.PyJWTError)
    assert caught.value.__cause__ is None


# --- revocation list ----------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_memory_revocation_list_is_a_revocation_list() -> None:
    assert isinstance(MemoryRevocationList(), RevocationList)


def test_memory_revocation_list_forgets_after_expiry() -> None:
    clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    revocations = MemoryRevocationList(grace=timedelta(seconds=30), clock=clock)
    revocations.revoke("short", clock.now + timedelta(minutes=1))
    revocations.revoke("long", clock.now + timedelta(hours=1))
    assert revocations.is_revoked("short") and revocations.is_revoked("long")
    assert not revocations.is_revoked("never")

    clock.now += timedelta(minutes=1, seconds=20)  # past expiry, within grace (> leeway)
    assert revocations.is_revoked("short")
    clock.now += timedelta(seconds=20)
    assert not revocations.is_revoked("short")
    assert revocations.is_revoked("long")
    assert len(revocations) == 1


def test_memory_revocation_list_keeps_the_later_expiry() -> None:
    clock = Clock(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    revocations = MemoryRevocationList(grace=timedelta(0), clock=clock)
    revocations.revoke("jti", clock.now + timedelta(hours=1))
    revocations.revoke("jti", clock.now + timedelta(minutes=1))
    clock.now += timedelta(minutes=30)
    assert revocations.is_revoked("jti")


def test_memory_revocation_list_refuses_naive_expiry() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        MemoryRevocationList().revoke("jti", datetime(2026, 3, 10, 12, 0))


def test_memory_revocation_list_is_thread_safe() -> None:
    revocations = MemoryRevocationList()
    expires = security_now() + timedelta(hours=1)

    def revoke_many(offset: int) -> None:
        for index in range(500):
            revocations.revoke(f"{offset}-{index}", expires)
            revocations.is_revoked(f"{offset}-{index}")

    threads = [threading.Thread(target=revoke_many, args=(offset,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(revocations) == 8 * 500


# --- FastAPI dependencies -----------------------------------------------------------------


@pytest.fixture
def revocations() -> MemoryRevocationList:
    return MemoryRevocationList()


@pytest.fixture
def client(revocations: MemoryRevocationList) -> Iterator[TestClient]:
    app = FastAPI()
    configure_auth(app, SETTINGS, revocations)

    @app.get("/me")
    def me(principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, Any]:
        return {"subject": principal.subject, "role": principal.role, "customer_id": principal.customer_id}

    @app.get("/agent-only")
    def agent_only(principal: Annotated[Principal, Depends(require_roles(Role.AGENT))]) -> dict[str, str]:
        return {"subject": principal.subject}

    @app.get("/customers/{customer_id}")
    def customer(customer_id: int, principal: Annotated[Principal, Depends(current_principal)]) -> dict[str, int]:
        ensure_customer_access(principal, customer_id)
        return {"customer_id": customer_id}

    with TestClient(app) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_api_without_token_is_401(client: TestClient) -> None:
    response = client.get("/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing bearer token"}


def test_api_with_other_scheme_is_401(client: TestClient) -> None:
    response = client.get("/me", headers={"Authorization": "Basic YW5uYTpzZWNyZXQ="})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_api_bad_token_is_401(client: TestClient) -> None:
    response = client.get("/me", headers=bearer("a.b.c"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "token is malformed"}

    forged = issue_token(AuthSettings(secret=OTHER_SECRET), subject="agent-7", role=Role.AGENT)
    response = client.get("/agent-only", headers=bearer(forged))
    assert response.status_code == 401
    assert response.json() == {"detail": "token signature is invalid"}


def test_api_expired_token_is_401(client: TestClient) -> None:
    response = client.get("/me", headers=bearer(subscriber_token(now=security_now() - timedelta(days=1))))
    assert response.status_code == 401
    assert response.json() == {"detail": "token expired"}


def test_api_ok(client: TestClient) -> None:
    response = client.get("/me", headers=bearer(subscriber_token()))
    assert response.status_code == 200
    assert response.json() == {"subject": "anna@example.se", "role": "subscriber", "customer_id": 42}

    agent = issue_token(SETTINGS, subject="agent-7", role=Role.AGENT)
    response = client.get("/agent-only", headers=bearer(agent))
    assert response.status_code == 200
    assert response.json() == {"subject": "agent-7"}


def test_api_wrong_role_is_403(client: TestClient) -> None:
    response = client.get("/agent-only", headers=bearer(subscriber_token()))
    assert response.status_code == 403
    assert response.json() == {"detail": "this needs role agent"}


def test_api_revoked_token_is_401(client: TestClient, revocations: MemoryRevocationList) -> None:
    token = subscriber_token()
    principal = decode_token(SETTINGS, token)
    revocations.revoke(principal.token_id, principal.expires_at)
    response = client.get("/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.json() == {"detail": "token was revoked"}


def test_api_foreign_customer_is_404(client: TestClient) -> None:
    token = subscriber_token(customer_id=42)
    assert client.get("/customers/42", headers=bearer(token)).status_code == 200
    response = client.get("/customers/43", headers=bearer(token))
    assert response.status_code == 404
    assert response.json() == {"detail": "customer not found"}


def test_api_unconfigured_app_fails_loudly() -> None:
    app = FastAPI()

    @app.get("/me")
    def me(principal: Annotated[Principal, Depends(current_principal)]) -> str:
        return principal.subject

    with (
        TestClient(app, raise_server_exceptions=True) as test_client,
        pytest.raises(RuntimeError, match="configure_auth"),
    ):
        test_client.get("/me", headers=bearer(subscriber_token()))


def test_configure_auth_defaults_to_memory_revocations() -> None:
    app = FastAPI()
    configure_auth(app, SETTINGS)
    assert app.state.auth_settings is SETTINGS
    assert isinstance(app.state.auth_revocations, MemoryRevocationList)


def test_openapi_declares_bearer_scheme(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["HTTPBearer"]["description"],
    }


# --- role helpers -------------------------------------------------------------------------


def test_require_roles_message_lists_roles() -> None:
    guard = require_roles(Role.AGENT, Role.SUPERVISOR, Role.SERVICE)
    marketer = Principal("mia", Role.MARKETING, None, "jti", security_now())
    with pytest.raises(HTTPException) as caught:
        guard(marketer)
    assert (caught.value.status_code, caught.value.detail) == (403, "this needs role agent, supervisor or service")
    supervisor = replace(marketer, role=Role.SUPERVISOR)
    assert guard(supervisor) is supervisor
    with pytest.raises(ValueError):
        require_roles()


def principal(role: Role, customer_id: int | None = None) -> Principal:
    return Principal("someone", role, customer_id, "jti", security_now() + timedelta(hours=1))


def test_ensure_customer_access() -> None:
    ensure_customer_access(principal(Role.SUBSCRIBER, 42), 42)
    with pytest.raises(HTTPException) as caught:
        ensure_customer_access(principal(Role.SUBSCRIBER, 42), 43)
    assert caught.value.status_code == 404
    for staff in (Role.AGENT, Role.SUPERVISOR, Role.SERVICE):
        ensure_customer_access(principal(staff), 43)
    with pytest.raises(HTTPException) as caught:
        ensure_customer_access(principal(Role.MARKETING), 43)
    assert caught.value.status_code == 403


def test_role_values() -> None:
    assert [role.value for role in Role] == ["subscriber", "agent", "supervisor", "marketing", "service"]
    assert Role("agent") is Role.AGENT
