"""Server faults of a load run go to the server's fault API (`chatsim serve`).

`crash`, `expire`, `not_ready`, `command_error` and `slow` cannot happen in a
browser: the master posts them to `<host>/faults` when the run starts, with
their `at` (seconds from then) and `duration`, once for the whole run.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from sim.load.target import check_url

SERVER_KINDS = frozenset({"crash", "expire", "not_ready", "command_error", "slow"})


def post_all(host: str, faults: Iterable[Mapping[str, Any]], token: str | None) -> list[str]:
    """Post each server fault; returns one line per fault that the server refused."""
    problems = []
    for fault in faults:
        if fault.get("kind") not in SERVER_KINDS:
            continue
        problem = post(host, {k: v for k, v in fault.items() if k != "share"}, token)
        if problem:
            problems.append(problem)
            print(f"[load] server fault not applied: {problem}", flush=True)
        else:
            print(f"[load] server fault posted: {json.dumps(dict(fault))}", flush=True)
    return problems


def post(host: str, fault: Mapping[str, Any], token: str | None) -> str | None:
    base, _path = check_url(host)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"{base}/faults",
        data=json.dumps(dict(fault)).encode(),
        headers=headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10.0) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):
            body = str(json.loads(body)["error"])
        return f"{fault.get('kind')}: HTTP {exc.code}: {body[:200]}"
    except (urllib.error.URLError, OSError) as exc:
        return f"{fault.get('kind')}: {exc}"
    return None
