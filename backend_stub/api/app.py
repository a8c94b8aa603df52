"""The core's HTTP API (FastAPI). The only door into the core; OpenAPI at ``/openapi.json``.

Every route but ``/health`` needs a bearer JWT (``api.auth``). A subscriber token reaches
only its own customer: routes that take a customer or invoice id check it with
``ensure_customer_access`` and answer 404 for anything else.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from backend_stub.api import errors
from backend_stub.api.auth import configure_auth
from backend_stub.api.params import storable_text
from backend_stub.api.routers import alerts, autopay, billing, charges, lifecycle, offers, selfservice, support
from backend_stub.core import Core
from backend_stub.services.access.revocations import DbRevocationList
from backend_stub.services.access.sessions import DbSessions, SessionPolicy
from backend_stub.services.access.tokens import AuthSettings, RevocationList
from backend_stub.settings import Settings, get_settings
from selfcare_common.security_headers import SecurityHeadersMiddleware, core_html_policy

meta = APIRouter()


@meta.get("/health", tags=["meta"])
async def health() -> dict[str, str]:
    return {"status": "ok"}


# The routers in the order their routes are matched and documented: each area's own module (``routers/``).
ROUTERS: tuple[APIRouter, ...] = (
    meta,
    billing.router,
    selfservice.router,
    support.router,
    lifecycle.router,
    offers.router,
    charges.router,
    autopay.router,
    alerts.router,
)


def create_app(
    core: Core | None = None,
    *,
    auth: AuthSettings | None = None,
    revocations: RevocationList | None = None,
    settings: Settings | None = None,
) -> FastAPI:
    """The core API as an ASGI app (standalone, or mounted inside the Reflex backend).

    Refuses (``deployment.ConfigurationError``) outside dev without ``SELFCARE_JWT_SECRET``, before it
    touches the database. Every response carries the security headers (``selfcare_common.security_headers``).
    ``settings`` (default: the process's, ``backend_stub.settings.get_settings``) is kept in ``app.state.settings``
    for the routes (``api.deps.settings_of``); ``auth`` overrides the signing settings it gives.
    """
    settings = settings or get_settings()
    signing = auth or AuthSettings.from_settings(settings)
    app = FastAPI(
        title="Selfcare billing core",
        version="0.1.0",
        description="Rating, invoicing and payments for a Swedish telecom operator.",
        dependencies=[Depends(storable_text)],
    )
    app.add_middleware(
        SecurityHeadersMiddleware,
        html_policy=core_html_policy(frozenset(p for p in (app.docs_url, app.redoc_url) if p)),
    )
    app.state.settings = settings
    app.state.core = core or Core.from_url(settings.database_address)
    app.state.session_policy = SessionPolicy.from_settings(settings)
    if revocations is None:
        revocations = DbRevocationList(app.state.core.engine)  # shared by every worker
    configure_auth(app, signing, revocations, DbSessions(app.state.core.engine))
    for each in ROUTERS:
        app.include_router(each)
    errors.install(app, list(ROUTERS))
    return app
