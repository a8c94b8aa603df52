"""The preview tab of the marketing console: how many subscribers the saved rules match now (with a
sample), and the banner as one subscriber would see it, with why they match or not.

:class:`PreviewPart` is a part of :class:`selfcare.pages.marketing.state.MarketingState` (a Reflex
state mixin: ``MarketingState.preview_segment``, ``MarketingState.segment_text``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx

from selfcare.api_client import NotFound
from selfcare.i18n import gettext
from selfcare.offers_client import offers_client
from selfcare.state.offers import banner_view
from selfcare.state.typed import DictField, dict_field, event

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from selfcare.state.calls import Call


class PreviewPart(rx.State, mixin=True):
    """The selected offer's segment and one subscriber's view of it."""

    if TYPE_CHECKING:  # the console's, which this is a part of (MarketingState)
        problems: list[str]
        _offers: dict[str, dict[str, Any]]

        async def _who(self) -> tuple[Any, str, str]: ...

        def _call(self, session: Any, lang: str, what: str, **options: Any) -> AbstractAsyncContextManager[Call]: ...

        def _selected_offer(self) -> int: ...

    segment_text: rx.Field[str] = rx.field("")
    segment_sample: rx.Field[list[dict[str, str]]] = rx.field(default_factory=list)
    preview_customer: rx.Field[str] = rx.field("")
    preview_matches: rx.Field[str] = rx.field("")
    preview_reasons: rx.Field[list[str]] = rx.field(default_factory=list)
    preview_banner: DictField[dict[str, str]] = dict_field()

    def _clear_preview(self) -> None:
        self.segment_text = ""
        self.segment_sample = []
        self.preview_matches = ""
        self.preview_reasons = []
        self.preview_banner = {}

    @event
    async def preview_segment(self):
        """How many subscribers the saved rules match now, with a sample."""
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        offer = self._offers[str(offer_id)]
        async with self._call(session, lang, "segment") as call:
            answer = await offers_client().segment_preview(token, offer.get("rules") or {}, offer.get("sells"))
        if call.failed:
            return
        self.segment_text = gettext(
            lang,
            "{matching} of {total} subscribers match now.",
            matching=int(answer.get("matching") or 0),
            total=int(answer.get("total") or 0),
        )
        self.segment_sample = [
            {"customer_number": str(x.get("customer_number") or ""), "name": str(x.get("name") or "")}
            for x in answer.get("sample") or []
        ]

    @event
    async def preview_for(self, form: dict[str, Any]):
        """The banner as one subscriber (customer number) would see it, and why they match or not."""
        session, token, lang = await self._who()
        offer_id = self._selected_offer()
        if not token or not offer_id:
            return
        number = form.get("customer_number") if isinstance(form, dict) else None
        number = number.strip().upper() if isinstance(number, str) else ""
        self.preview_customer = number
        self.preview_matches, self.preview_reasons, self.preview_banner = "", [], {}
        if not number or len(number) > 20 or not number[1:].isdigit():
            self.problems = [gettext(lang, "Customer number: e.g. K100004.")]
            return
        self.problems = []
        async with self._call(session, lang, "preview", refused={NotFound: None}) as call:
            answer = await offers_client().offer_preview(token, offer_id, number, lang)
        if isinstance(call.exc, NotFound):
            self.problems = [gettext(lang, "Customer number: no such customer.")]
        if call.failed:
            return
        self.preview_matches = gettext(lang, "Matches") if answer.get("matches") else gettext(lang, "Does not match")
        self.preview_reasons = [str(x) for x in answer.get("reasons") or []]
        banner = answer.get("banner")
        self.preview_banner = banner_view({"offer_id": offer_id, **banner}, lang) if isinstance(banner, dict) else {}

    @event
    def use_sample(self, customer_number: str):
        """Fill the preview's customer number from the sample list."""
        if isinstance(customer_number, str) and len(customer_number) <= 20:
            self.preview_customer = customer_number
            return rx.set_value("preview-customer", customer_number)
        return None
