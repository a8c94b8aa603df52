"""The banner image of the offer being edited: PNG, JPEG or WebP up to 1 MB, checked here and by the core.

:class:`ImagePart` is a part of :class:`selfcare.pages.marketing.state.MarketingState` (a Reflex
state mixin: ``MarketingState.upload_image``, ``MarketingState.image_src``); the uploaded image is
used once the offer is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import reflex as rx

from selfcare.i18n import gettext
from selfcare.offers_client import Invalid, offers_client
from selfcare.state.offers import image_src
from selfcare.state.session import SessionState
from selfcare.state.typed import event

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from selfcare.state.calls import Call

MAX_IMAGE_BYTES = 1024 * 1024


def image_type(data: bytes) -> str | None:
    """The image's content type from its first bytes (PNG, JPEG, WebP), or ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ImagePart(rx.State, mixin=True):
    """The image of the offer in the form (``image_id`` 0: none)."""

    if TYPE_CHECKING:  # the console's, which this is a part of (MarketingState)
        notice: str

        async def _who(self) -> tuple[Any, str, str]: ...

        def _call(self, session: Any, lang: str, what: str, **options: Any) -> AbstractAsyncContextManager[Call]: ...

        def _forget(self) -> None: ...

    image_id: rx.Field[int] = rx.field(0)
    image_src: rx.Field[str] = rx.field("")
    image_error: rx.Field[str] = rx.field("")

    def _clear_image(self) -> None:
        self.image_id = 0
        self.image_src = ""
        self.image_error = ""

    def _show_image(self, offer: dict[str, Any]) -> None:
        image_id = offer.get("image_id")
        self.image_id = image_id if type(image_id) is int else 0
        self.image_src = image_src(offer.get("image_url"))

    @event
    async def upload_image(self, files: list[rx.UploadFile]):
        """The banner image: PNG, JPEG or WebP up to 1 MB (checked here, and again by the core)."""
        session, token, lang = await self._who()
        if not token:
            self._forget()
            return
        self.image_error = ""
        if not files:
            return
        upload = files[0]
        data = upload.file.read(MAX_IMAGE_BYTES + 1)
        if len(data) > MAX_IMAGE_BYTES:
            self.image_error = gettext(lang, "Image: at most 1 MB.")
            return
        kind = image_type(data)
        if kind is None:
            self.image_error = gettext(lang, "Image: a PNG, JPEG or WebP picture.")
            return
        async with self._call(session, lang, "image", refused={Invalid: None}) as call:
            answer = await offers_client().upload_image(token, str(upload.filename or "image"), data, kind)
        if isinstance(call.exc, Invalid):
            self.image_error = gettext(lang, "Image: {reason}", reason=call.exc.detail)
        if call.failed:
            return
        self.image_id = int(answer["id"])
        self.image_src = image_src(answer.get("url"))
        self.notice = gettext(lang, "The image is uploaded. Save the offer to use it.")

    @event
    async def image_rejected(self, rejected: list[dict[str, Any]]):
        """The drop zone's own refusal (too large, wrong type, more than one) before anything is sent."""
        lang = (await self.get_state(SessionState))._lang()
        self.image_error = gettext(lang, "Image: one PNG, JPEG or WebP picture of at most 1 MB.") if rejected else ""

    @event
    def remove_image(self):
        self.image_id = 0
        self.image_src = ""
