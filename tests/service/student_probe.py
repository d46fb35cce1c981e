"""Run as a student's OS account by test_service_accounts: what that account can do.

``python student_probe.py SOCKET STATE_DIR`` prints one JSON object: what reading the
service's files gave, the uid the service saw, and the service's answer to each forged
request.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from companion.service.client import ServiceClient, ServiceRefused, unix_socket


def try_read(path: Path) -> str:
    try:
        path.read_bytes()
    except PermissionError:
        return "denied"
    except OSError as exc:
        return f"error {exc.errno}"
    return "read"


def try_list(path: Path) -> str:
    try:
        list(path.iterdir())
    except PermissionError:
        return "denied"
    return "listed"


def refusal(call: Any) -> str:
    try:
        call()
    except ServiceRefused as exc:
        return exc.code
    return "accepted"


def main(socket_path: Path, state: Path) -> dict[str, Any]:
    out: dict[str, Any] = {
        "list_state": try_list(state),
        "read_db": try_read(state / "companion-sandbox.sqlite3"),
        "read_token_key": try_read(state / "credentials" / "service-token-key"),
    }
    connect = unix_socket(socket_path)
    ava = ServiceClient(connect)
    out["uid"] = ava.request("status")["uid"]
    ava.sign_in("demo-student-05", "1234")
    run = ava.open_run("demo-student-05", "demo-math-drill")
    # lines faster than real time: a minute of lesson at once
    out["ahead"] = refusal(
        lambda: ava.request("journal", run=run, lines=[{"seq": 1, "t": 60, "kind": "input"}])
    )
    out["in_time"] = ava.request("journal", run=run, lines=[{"seq": 1, "t": 0, "kind": "input"}])[
        "acked"
    ]
    # lines for another student, through a connection that signed in someone else
    other = ServiceClient(connect)
    other.sign_in("demo-student-07", "1234")
    out["other_student_lines"] = refusal(
        lambda: other.request("journal", run=run, lines=[{"seq": 2, "t": 0, "kind": "input"}])
    )
    out["other_student_run"] = refusal(lambda: other.open_run("demo-student-09", "demo-math-drill"))
    # a second run of the same student while the first is open
    again = ServiceClient(connect)
    again.sign_in("demo-student-05", "1234")
    out["second_run"] = refusal(lambda: again.open_run("demo-student-05", "demo-math-drill"))
    # PIN guesses beyond the limit, then the right PIN
    guesser = ServiceClient(connect)
    out["guesses"] = [refusal(lambda: guesser.sign_in("demo-student-11", "0000")) for _ in range(6)]
    out["right_pin_after"] = refusal(lambda: guesser.sign_in("demo-student-11", "1234"))
    for client in (ava, other, again, guesser):
        client.close()
    return out


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), Path(sys.argv[2]))))
