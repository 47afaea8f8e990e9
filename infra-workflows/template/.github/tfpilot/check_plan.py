#!/usr/bin/env python3
"""Checks a saved plan against the scope tfpilot dispatched the run with.

Usage: TFPILOT_SCOPE='<scope json>' check_plan.py <plan.json> <check.json>

<plan.json> is `terraform show -json tfplan`. Writes <check.json> as
{"blocked": [{"address", "action", "owner"}, ...]} (owner null when the
resource is not in a tfpilot block), prints one line per change outside
the scope, and exits 0 when there is none, 3 when the run must stop
before `terraform apply`, 2 when the inputs cannot be read.

The rules are those of tfpilot's `app::domain::scope::check` (a test runs
both on one table); the actions are read as `exec::plan::parse_show_json`
reads them. Python standard library only.
"""

import json
import os
import sys

# Lowercase Crockford base32, the alphabet of tfpilot request ids.
ALPHABET = frozenset("0123456789abcdefghjkmnpqrstvwxyz")
ID_LEN = 16

BLOCKED = 3
UNREADABLE = 2


def action_of(actions, importing=False):
    """The one word for a change's actions: `import` for a resource
    adopted as it is, None for a no-op."""
    action = {
        ("create",): "create",
        ("update",): "update",
        ("delete",): "delete",
        ("delete", "create"): "replace",
        ("create", "delete"): "replace",
        ("read",): "read",
    }.get(tuple(actions))
    if action is None and importing:
        return "import"
    return action


def changes_of(plan):
    """(address, action) of every resource change, destructive first."""
    out = []
    for rc in plan.get("resource_changes") or []:
        change = rc["change"]
        action = action_of(change["actions"], change.get("importing") is not None)
        if action is not None:
            out.append((rc["address"], action))
    out.sort(key=lambda c: (0 if c[1] in ("delete", "replace") else 1, c[0]))
    return out


def is_request_id(s):
    return len(s) == ID_LEN and all(c in ALPHABET for c in s)


def owner(address):
    """The request whose block (`module.<module>_<id>`) holds `address`."""
    if not address.startswith("module."):
        return None
    rest = address[len("module."):]
    cut = len(rest)
    for sep in ".[":
        at = rest.find(sep)
        if at != -1:
            cut = min(cut, at)
    name = rest[:cut]
    if "_" not in name:
        return None
    candidate = name.rsplit("_", 1)[1]
    return candidate if is_request_id(candidate) else None


def allowed(scope, address, action):
    if action in ("read", "no-op"):
        return True
    for c in scope.get("confirmed") or []:
        if c.get("address") == address and c.get("action") == action:
            return True
    who = owner(address)
    if who is None:
        return False
    if action in ("create", "update", "import"):
        return scope.get("kind") == "apply" and who in (scope.get("apply") or [])
    if action == "delete":
        return who in (scope.get("destroy") or [])
    return False  # replace: never without a confirmation


def check(scope, plan):
    return [
        {"address": address, "action": action, "owner": owner(address)}
        for address, action in changes_of(plan)
        if not allowed(scope, address, action)
    ]


def main(argv):
    if len(argv) != 3:
        print("usage: TFPILOT_SCOPE=<json> check_plan.py <plan.json> <check.json>", file=sys.stderr)
        return UNREADABLE
    try:
        scope = json.loads(os.environ["TFPILOT_SCOPE"])
        if not isinstance(scope, dict) or scope.get("kind") not in ("apply", "destroy"):
            raise ValueError("the scope must be an object with kind apply or destroy")
        with open(argv[1], encoding="utf-8") as f:
            plan = json.load(f)
        blocked = check(scope, plan)
    except (KeyError, TypeError, ValueError, OSError) as e:
        print(f"tfpilot: cannot check the plan: {e!r}", file=sys.stderr)
        return UNREADABLE
    with open(argv[2], "w", encoding="utf-8") as f:
        json.dump({"blocked": blocked}, f, indent=2)
        f.write("\n")
    if not blocked:
        print("tfpilot: every planned change is within the run's scope")
        return 0
    for b in blocked:
        who = f"request {b['owner']}" if b["owner"] else "not a tfpilot block"
        print(f"tfpilot: blocked: {b['action']} {b['address']} ({who})")
    print(f"tfpilot: {len(blocked)} change(s) outside the scope; nothing will be applied")
    return BLOCKED


if __name__ == "__main__":
    sys.exit(main(sys.argv))
