"""CLI commands of the support side: ``create-agent``, ``deactivate-agent``."""

from __future__ import annotations

import argparse
import getpass
import json
import os

from backend_stub.cli_common import fail, open_core


def cmd_create_agent(args: argparse.Namespace) -> int:
    """Create a staff account (agent, supervisor, marketing); the password comes from SELFCARE_AGENT_PASSWORD or a prompt."""
    from backend_stub.services.support import agents

    password = os.environ.get("SELFCARE_AGENT_PASSWORD") or getpass.getpass("Password: ")
    try:
        who = agents.create_agent(open_core().engine, args.username, args.name or args.username, password,
                                  args.role)
    except ValueError as exc:
        return fail(str(exc))
    out = {"id": who.id, "username": who.username, "name": who.name, "role": who.role}
    print(json.dumps(out) if args.json else f"created {who.role} {who.username}")
    return 0


def cmd_deactivate_agent(args: argparse.Namespace) -> int:
    """Close a staff account; its sessions end at once."""
    from backend_stub.services.support import agents

    try:
        ended = agents.deactivate_agent(open_core().engine, args.username)
    except LookupError as exc:
        return fail(str(exc))
    out = {"username": args.username.strip().lower(), "sessions_ended": ended}
    print(json.dumps(out) if args.json else f"deactivated {out['username']} ({ended} sessions ended)")
    return 0


def register(add) -> None:
    from backend_stub.services.support.agents import ROLES

    sp = add("create-agent", cmd_create_agent, "create a staff account: support agent, supervisor or marketing")
    sp.add_argument("--username", required=True)
    sp.add_argument("--name")
    sp.add_argument("--role", choices=list(ROLES), default="agent")
    sp = add("deactivate-agent", cmd_deactivate_agent, "close a staff account; its sessions end at once")
    sp.add_argument("--username", required=True)
