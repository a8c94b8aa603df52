"""Calling the core from an event handler: the busy flag, an ended session and a refusal, written once.

Every handler that calls the core does the same around the call. It may show that it is busy; a
session the core no longer accepts (401) ends here too; any other refusal is logged and shown as
one sentence in the session's language. ::

    async with core_call(self, Subscriber(session, forget=self._forget), "add-on shop",
                         N_("The add-ons could not be loaded just now. Please try again."), busy="loading") as call:
        ...  # the awaits on the core
    if call.failed:
        return call.event  # the sign-in page when the session ended, else None

What differs between handlers is a parameter:

- who is asking, and what an ended session means for them: :class:`Subscriber` (the session is
  dropped, the state's own data of it forgotten, and the page goes to sign-in; a link's invoice can
  be kept for after the sign-in), :class:`Staff` (the console's session is dropped and its sign-in
  says why) or :class:`Visitor` (nobody is signed in yet);
- ``failed``: the sentence for any other refusal (``None``: logged only), or a function of the error
  giving it; ``error``: the field that shows it; ``quiet``: logged as information, not a warning;
- ``refused``: refusals with a sentence of their own, by exception class or HTTP status, checked in
  order before the rest: a text, a function of the error giving one (or showing it itself and giving
  ``None``), or ``None`` when the handler looks at ``call.exc`` itself after the block;
- ``busy``: a flag that is set while the call runs and cleared however it ends.

Texts are message ids (mark them with ``N_`` where they are written); they are translated here.
Errors other than :class:`ApiError` pass through, as before.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import reflex as rx

from selfcare.api_client import ApiError, Unauthorized
from selfcare.i18n import gettext
from selfcare.state.session import LOGIN_ROUTE, SessionState

Text = str | Callable[[Any], str | None] | None
"""A message id; a function of the error giving the (translated) sentence, or setting its own fields and
giving ``None``; or ``None``."""


class Caller(Protocol):
    """Who a handler calls the core for: their language, and what to do when their session ended."""

    @property
    def lang(self) -> str: ...

    def ended(self) -> Any: ...


@dataclass
class Subscriber:
    """A subscriber's session. When it ended: dropped, ``forget`` run, and (``to_sign_in``) the sign-in page."""

    session: SessionState
    forget: Callable[[], None] | None = None  # the state's own data of that session
    keep_invoice: str = ""  # a link's invoice: shown after the next sign-in when the link's session ended
    to_sign_in: bool = True

    @property
    def lang(self) -> str:
        return self.session._lang()

    def ended(self) -> Any:
        scoped = self.session.scoped
        self.session._drop()
        if scoped and self.keep_invoice:
            self.session._remember_invoice(self.keep_invoice)
        if self.forget is not None:
            self.forget()
        return rx.redirect(LOGIN_ROUTE) if self.to_sign_in else None


class StaffSession(Protocol):
    def _lost(self, lang: str) -> None: ...


@dataclass
class Staff:
    """A console's staff session. When it ended: dropped (its sign-in says why) and ``forget`` run."""

    session: StaffSession
    lang: str
    forget: Callable[[], None] | None = None

    def ended(self) -> Any:
        self.session._lost(self.lang)
        if self.forget is not None:
            self.forget()
        return None


@dataclass
class Visitor:
    """Nobody signed in yet (the sign-in itself): there is no session to end."""

    lang: str

    def ended(self) -> Any:
        return None


@dataclass
class Call:
    """What became of the calls in one ``async with core_call(...)`` block."""

    failed: bool = False
    exc: ApiError | None = None
    event: Any = None  # what the handler returns or yields: the sign-in page after a subscriber's session ended
    ended: bool = False  # the core no longer accepted the session (401)
    refused: bool = False  # a refusal listed in ``refused``


def _reaction(refused: Mapping[type[ApiError] | int, Text], exc: ApiError) -> tuple[bool, Text]:
    for kind, text in refused.items():
        if (exc.status == kind) if isinstance(kind, int) else isinstance(exc, kind):
            return True, text
    return False, None


def _say(state: Any, field: str, text: Text, exc: ApiError, lang: str) -> None:
    sentence = text(exc) if callable(text) else None if text is None else gettext(lang, text)
    if sentence is not None:
        setattr(state, field, sentence)


@asynccontextmanager
async def core_call(
    state: Any,
    who: Caller,
    what: str,
    failed: Text = None,
    *,
    error: str = "error",
    refused: Mapping[type[ApiError] | int, Text] | None = None,
    busy: str = "",
    quiet: bool = False,
) -> AsyncIterator[Call]:
    """Run the block's calls to the core for ``state`` (see the module's docstring); ``what`` names
    them in the log (``"<what>: <error>"``, in the state's module's log)."""
    call = Call()
    if busy:
        setattr(state, busy, True)
    try:
        yield call
    except ApiError as exc:
        call.failed, call.exc = True, exc
        call.refused, text = _reaction(refused or {}, exc)
        if call.refused:
            _say(state, error, text, exc, who.lang)
        elif isinstance(exc, Unauthorized):
            call.ended = True
            call.event = who.ended()
        else:
            log = logging.getLogger(type(state).__module__)
            log.log(logging.INFO if quiet else logging.WARNING, "%s: %s", what, exc)
            _say(state, error, failed, exc, who.lang)
    finally:
        if busy:
            setattr(state, busy, False)
