"""CLI commands of the offers area: ``offers [list|seed-demo|results ID]`` and ``recommend --customer K…``."""

from __future__ import annotations

import argparse
import json
from datetime import date

from backend_stub import clock
from backend_stub.cli.common import fail, open_core
from backend_stub.demo import offers
from backend_stub.domain import errors
from backend_stub.services.billing.customers import find_customer_id
from backend_stub.services.offers import marketing, recommend, results
from backend_stub.storage.repo import load_subscriptions
from selfcare_common.money_format import format_kr


def cmd_offers(args: argparse.Namespace) -> int:
    """List offers, seed the demo's offers, or print one offer's results."""
    core = open_core()
    if args.action == "seed-demo":
        made = offers.seed_demo_offers(core.engine, core.catalogue)
        print(json.dumps({"created": made}) if args.json else f"created {made} demo offers")
        return 0
    if args.action == "results":
        if args.id is None:
            return fail("offers results needs an offer id")
        try:
            res = results.results(core.engine, args.id)
        except errors.NotFound:
            return fail(f"no offer {args.id}")
        if args.json:
            print(json.dumps(res, ensure_ascii=False, indent=2))
        else:
            print(
                f"impressions {res['impressions']}, clicks {res['clicks']}, dismissals {res['dismissals']}, "
                f"acceptances {res['acceptances']}, conversion {res['conversion']}, "
                f"extra monthly revenue {format_kr(res['extra_monthly_revenue_ore'], plain_spaces=True)}"
            )
        return 0
    items = marketing.list_offers(core.engine)
    if args.json:
        print(json.dumps(items, ensure_ascii=False, indent=2))
        return 0
    for o in items:
        print(
            f"{o['id']:>4}  {o['status']:<9}  prio {o['priority']:>4}  {o['sells']['kind']} {o['sells']['id']:<16} "
            f"{o['name']}"
        )
    if not items:
        print("no offers")
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    """Re-rate a subscriber's last three invoiced periods under every plan on sale."""
    core = open_core()
    cid = find_customer_id(core.engine, args.customer)
    if cid is None:
        return fail(f"no customer {args.customer}")
    today = date.fromisoformat(args.today) if args.today else clock.today()
    catalogue = core.catalogue
    with core.engine.begin() as conn:
        subs = [
            s
            for s in load_subscriptions(conn, customer_ids=[cid])
            if s.segment_on(today) is not None and (args.subscription is None or s.id == args.subscription)
        ]
        results = [recommend.recommendation(conn, catalogue, s, today) for s in subs]
    if not results:
        return fail(f"{args.customer} has no such active subscription")
    if args.json:
        print(json.dumps([recommend.for_api(r) for r in results], ensure_ascii=False, indent=2))
        return 0
    for r in results:
        print(f"subscription {r['subscription_id']} ({r['msisdn'] or 'no number'}), periods {', '.join(r['periods'])}")
        for p in r["plans"]:
            mark = "*" if p["current"] else ("→" if p["plan_id"] == r["best_plan_id"] else " ")
            costs = "  ".join(f"{format_kr(c, plain_spaces=True):>12}" for c in p["per_period_ore"])
            print(f"  {mark} {p['name']:<22} {costs}  total {format_kr(p['total_ore'], plain_spaces=True):>12}")
        print(f"  best: {r['best_plan_id'] or 'the current plan'}   (* current plan, → recommended)")
    return 0
