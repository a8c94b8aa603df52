"""CLI commands of the charges area: ``add-charge``, ``add-instalment``, ``payoff``.

The back office's way to what agents do in the console: a one-off charge or credit for a
customer's next invoice, a device on instalment, an early payoff. Each is audited with the
actor ``cli:<user>``.
"""

from __future__ import annotations

import argparse

from sqlalchemy import or_, select

from backend_stub.cli.common import actor, fail, open_core, print_result
from backend_stub.domain.errors import Conflict, NotFound
from backend_stub.domain.money import MoneyError, kr_to_ore, ore_to_kr
from backend_stub.services.billing.customers import find_customer_id
from backend_stub.services.charges import instalments, one_offs
from backend_stub.storage.models import billing as m


def _customer(core, identifier: str) -> int | None:
    return find_customer_id(core.engine, identifier)


def _subscription(core, customer_id: int, identifier: str | None) -> int | None:
    """A subscription of the customer by subscription number or phone number (None: none given)."""
    if identifier is None:
        return None
    return _subscription_id(core, customer_id, identifier)


def _subscription_id(core, customer_id: int, identifier: str) -> int:
    """The customer's subscription with this subscription number or phone number; ValueError when none."""
    with core.engine.connect() as conn:
        sid = conn.execute(
            select(m.Subscription.id).where(
                m.Subscription.customer_id == customer_id,
                or_(m.Subscription.subscription_number == identifier, m.Subscription.msisdn == identifier),
            )
        ).scalar()
    if sid is None:
        raise ValueError(f"--subscription: the customer has no subscription {identifier!r}")
    return sid


def cmd_add_charge(args: argparse.Namespace) -> int:
    """A one-off charge (or, with a negative amount, a credit) for the customer's next invoice."""
    core = open_core()
    cid = _customer(core, args.customer)
    if cid is None:
        return fail(f"--customer: no customer {args.customer!r}")
    try:
        amount = kr_to_ore(args.amount, field="--amount")
        sub_id = _subscription(core, cid, args.subscription)
        rate = args.vat_rate if args.vat_rate is not None else str(core.catalogue.operator.vat_rate)
        out = one_offs.add_charge(
            core.engine,
            cid,
            subscription_id=sub_id,
            description=args.description,
            amount_ore=amount,
            vat_rate=rate,
            reason=args.reason,
            actor=actor(),
        )
    except (MoneyError, ValueError, NotFound) as exc:
        return fail(str(exc))
    kind = "credit" if amount < 0 else "charge"
    print_result(
        out,
        args.json,
        f"Added {kind} {out['id']} for {args.customer}: {out['description']}, {args.amount} kr (next invoice).",
    )
    return 0


def cmd_add_instalment(args: argparse.Namespace) -> int:
    """Put a catalogue device on instalment for a subscription of the customer."""
    core = open_core()
    cid = _customer(core, args.customer)
    if cid is None:
        return fail(f"--customer: no customer {args.customer!r}")
    try:
        sub_id = _subscription_id(core, cid, args.subscription)  # --subscription is required here
        out = instalments.create_instalment(
            core.engine,
            core.catalogue,
            cid,
            subscription_id=sub_id,
            device_id=args.device,
            months=args.months,
            start_period=args.start_period,
            actor=actor(),
        )
    except (ValueError, NotFound, Conflict) as exc:
        return fail(str(exc))
    print_result(
        out,
        args.json,
        f"Instalment {out['id']}: {out['device_name']} over {out['months']} months, "
        f"{ore_to_kr(out['monthly_ore'])} kr a month from {out['start_period']}.",
    )
    return 0


def cmd_payoff(args: argparse.Namespace) -> int:
    """Pay off an instalment early: the next invoice carries the whole remainder."""
    core = open_core()
    try:
        out = instalments.payoff(core.engine, args.instalment, actor=actor(), catalogue=core.catalogue)
    except (ValueError, NotFound, Conflict) as exc:
        return fail(str(exc))
    print_result(
        out, args.json, f"Instalment {out['id']} paid off: {ore_to_kr(out['remaining_ore'])} kr on the next invoice."
    )
    return 0
