"""The demo's offers: three banners with generated gradient images, created and scheduled once."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import Engine, func, select

from backend_stub import clock
from backend_stub.domain.catalogue import Catalogue
from backend_stub.services.offers.marketing import create_offer, schedule_offer, store_image
from backend_stub.storage.models.offers import Offer

# --------------------------------------------------------------------------- demo


def _demo_image(colours: tuple[tuple[int, int, int], tuple[int, int, int]]) -> bytes:
    """A small gradient banner (PNG) for the demo offers."""
    from PIL import Image, ImageDraw

    width, height = 720, 240
    img = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(img)
    (r1, g1, b1), (r2, g2, b2) = colours
    for x in range(width):
        t = x / (width - 1)
        draw.line(
            [(x, 0), (x, height)],
            fill=(round(r1 + (r2 - r1) * t), round(g1 + (g2 - g1) * t), round(b1 + (b2 - b1) * t)),
        )
    for i in range(6):
        draw.ellipse(
            [width - 220 + i * 18, 40 + i * 12, width - 60 + i * 6, 200 - i * 6], outline=(255, 255, 255), width=2
        )
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


DEMO_OFFERS = (
    (
        {
            "name": "Heavy data → 20 GB",
            "title": "Slut på surf igen?",
            "body": "Med Mobil 20 GB räcker surfen hela månaden. Första tre månaderna utan månadsavgift.",
            "cta": "Visa erbjudandet",
            "sells": {"kind": "plan", "id": "mobil-20gb"},
            "terms": {"percent": "100", "periods": 3},
            "effective": "now",
            "priority": 20,
            "cap": {"impressions": 5, "days": 7},
            "placements": ["overview", "invoice"],
            "rules": {
                "plans": ["mobil-bas", "mobil-5gb"],
                "data_usage": {"min_percent": 90, "periods": 2, "of_last": 3},
            },
        },
        ((12, 74, 110), (40, 170, 160)),
    ),
    (
        {
            "name": "Bredband 100 → 250",
            "title": "Dubbla farten hemma",
            "body": "Uppgradera till 250 Mbit/s. Samma pris som i dag de första tre månaderna.",
            "cta": "Uppgradera",
            "sells": {"kind": "plan", "id": "bredband-250"},
            "terms": {"amount_ore": 10000, "periods": 3},
            "effective": "next_period",
            "priority": 15,
            "cap": {"impressions": 3, "days": 7},
            "placements": ["overview", "invoice"],
            "rules": {"plans": ["bredband-100"], "tenure_months": {"min": 3}},
        },
        ((60, 30, 110), (200, 80, 150)),
    ),
    (
        {
            "name": "Rekommenderat: Mobil 5 GB",
            "title": "Rekommenderat för dig",
            "body": "Med {offer_plan} hade dina tre senaste månader kostat {offer_cost} i stället för {current_cost}.",
            "cta": "Se hur",
            "sells": {"kind": "plan", "id": "mobil-5gb"},
            "effective": "next_period",
            "priority": 10,
            "cap": {"impressions": 3, "days": 14},
            "placements": ["overview", "invoice"],
            "rules": {"recommended": True},
        },
        ((20, 90, 50), (150, 200, 60)),
    ),
)


def seed_demo_offers(engine: Engine, catalogue: Catalogue, *, now: datetime | None = None) -> int:
    """Create and schedule the demo's offers once (a database with offers is left as it is)."""
    now = now or clock.now()
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(Offer)).scalar_one():
            return 0
    made = 0
    for body, colours in DEMO_OFFERS:
        image = store_image(engine, _demo_image(colours), actor="demo", now=now)
        offer = create_offer(engine, catalogue, {**body, "image_id": image["id"]}, actor="demo", now=now)
        schedule_offer(engine, offer["id"], {}, now=now)
        made += 1
    return made
