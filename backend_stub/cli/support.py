"""CLI commands of the support side: ``create-agent``, ``deactivate-agent``."""

from __future__ import annotations

import argparse
import getpass
import json

from backend_stub.cli.common import fail, open_core
from backend_stub.services.support import agents
from backend_stub.settings import get_settings


def cmd_create_agent(args: argparse.Namespace) -> int:
    """Create a staff account (agent, supervisor, marketing); the password comes from SELFCARE_AGENT_PASSWORD or a prompt."""
    password = get_settings().agent_password or getpass.getpass("Password: ")
    try:
        who = agents.create_agent(open_core().engine, args.username, args.name or args.username, password, args.role)
    except ValueError as exc:
        return fail(str(exc))
    out = {"id": who.id, "username": who.username, "name": who.name, "role": who.role}
    print(json.dumps(out) if args.json else f"created {who.role} {who.username}")
    return 0


def cmd_deactivate_agent(args: argparse.Namespace) -> int:
    """Close a staff account; its sessions end at once."""
    try:
        ended = agents.deactivate_agent(open_core().engine, args.username)
    except LookupError as exc:
        return fail(str(exc))
    out = {"username": args.username.strip().lower(), "sessions_ended": ended}
    print(json.dumps(out) if args.json else f"deactivated {out['username']} ({ended} sessions ended)")
    return 0
