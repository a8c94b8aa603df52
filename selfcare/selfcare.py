"""The subscriber app: routes and the Reflex app object (little more than ``rx.App``)."""

from __future__ import annotations

import reflex as rx

from selfcare import embedding, page_shells, session_cookie, styles, web_security
from selfcare.brand import brand
from selfcare.components import layout
from selfcare.components.pending_changes import PendingChangesState
from selfcare.pages.addons.page import addons_page
from selfcare.pages.addons.state import AddonsState
from selfcare.pages.agent.audit import AuditState
from selfcare.pages.agent.page import agent_page, audit_page
from selfcare.pages.agent.state import AgentState
from selfcare.pages.invoice.page import invoice_page
from selfcare.pages.invoice.state import InvoiceState
from selfcare.pages.invoices.page import invoices_page
from selfcare.pages.invoices.state import InvoicesState
from selfcare.pages.link.page import link_page
from selfcare.pages.link.state import LinkState
from selfcare.pages.login.page import login_page
from selfcare.pages.marketing.page import marketing_page
from selfcare.pages.marketing.state import MarketingState
from selfcare.pages.outbox.page import outbox_page
from selfcare.pages.outbox.state import OutboxState, dev_outbox_enabled
from selfcare.pages.overview.page import overview_page
from selfcare.pages.overview.state import OverviewState
from selfcare.pages.payment_method.page import payment_method_page
from selfcare.pages.settings.page import settings_page
from selfcare.pages.settings.state import SettingsState
from selfcare.pages.usage.page import usage_page
from selfcare.pages.usage.state import UsageState
from selfcare.settings import get_settings
from selfcare.state.alerts import AlertNoticesState
from selfcare.state.browser import browser_orders
from selfcare.state.payment_method import PaymentMethodState
from selfcare.state.session import SessionState

# Fail closed: outside SELFCARE_ENV=dev (or test) the app does not start without SELFCARE_JWT_SECRET
# (deployment.ConfigurationError names it), before anything is compiled or served.
get_settings().require_secret()

_b = brand()

app = rx.App(
    style=styles.base_style,
    # Bundled into Reflex's one global stylesheet (no request of its own): the accent's contrast.
    stylesheets=["/app.css"],
    head_components=[
        rx.el.link(rel="icon", href=_b.favicon, type="image/svg+xml"),
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.meta(name="theme-color", content=_b.colors.primary),
        rx.script(src=layout.LANG_SYNC_SCRIPT),
    ],
    html_lang="sv",
    # The dynamic routes' prerendered shells innermost (page_shells: only the page server sees the shell's path),
    # the core under /core, then the security headers and the upload cap around everything (the last wraps
    # outermost). The session cookie's routes and the invoice link's one-step open (session_cookie) sit inside,
    # so they get the headers too, and see the address the browser asked for.
    api_transformer=[
        page_shells.api_transformer,
        embedding.api_transformer,
        session_cookie.api_transformer,
        web_security.api_transformer,
    ],
    # On every page, inside the state providers: the browser's orders (full page loads) without eval.
    extra_app_wraps={(3, "BrowserOrders"): lambda stateful: rx.fragment(browser_orders()) if stateful else None},
)


def _title(what: str) -> str:
    return f"{what} – {_b.name}"


def _subscriber_title(msgid: str) -> rx.Var:
    """A subscriber page's title in the chosen language (the catalogue's text, then the brand)."""
    return SessionState.t[msgid].to(str) + f" – {_b.name}"


app.add_page(
    overview_page, route="/", title=_subscriber_title("Overview"), on_load=[OverviewState.load, AlertNoticesState.load]
)
app.add_page(login_page, route="/login", title=_subscriber_title("Sign in"), on_load=SessionState.at_sign_in)
app.add_page(invoices_page, route="/invoices", title=_subscriber_title("Invoices"), on_load=InvoicesState.load)
app.add_page(
    invoice_page, route="/invoices/[invoice_id]", title=_subscriber_title("Invoice"), on_load=InvoiceState.load
)
app.add_page(link_page, route="/i/[link_token]", title=_subscriber_title("Invoice"), on_load=LinkState.open)
app.add_page(
    usage_page, route="/usage", title=_subscriber_title("Usage"), on_load=[UsageState.load, AlertNoticesState.load]
)
app.add_page(
    payment_method_page,
    route="/payment-method",
    title=_subscriber_title("Payment method"),
    on_load=PaymentMethodState.load,
)
# The plan card comes with the page (add-ons: plan_card(load_on_mount=False)), not after it.
app.add_page(
    addons_page,
    route="/addons",
    title=_subscriber_title("Add-ons"),
    on_load=[AddonsState.load, PendingChangesState.load],
)
app.add_page(settings_page, route="/settings", title=_subscriber_title("Alerts"), on_load=SettingsState.load)
app.add_page(agent_page, route="/agent", title=_title("Kundtjänst"), on_load=AgentState.load)
app.add_page(audit_page, route="/agent/audit", title=_title("Granskningslogg"), on_load=AuditState.load)
app.add_page(marketing_page, route="/marketing", title=_title("Marknad"), on_load=MarketingState.load)
if dev_outbox_enabled():
    app.add_page(outbox_page, route="/dev/outbox", title=_title("Skickade meddelanden"), on_load=OutboxState.load)
