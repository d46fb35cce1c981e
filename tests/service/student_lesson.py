"""Run as a student's OS account by test_service_accounts: an honest lesson over the socket.

``python student_lesson.py SOCKET STUDENT SECONDS`` signs the student in, opens the drill,
streams a journal line every 0.2 s stamped with the real time since the lesson opened (so
the service's clock accepts every one), answers the drill's items (the service scores
them), closes the lesson as completed and disconnects. It prints one JSON object: the run
and what closing it gave.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

from companion.service.client import ServiceClient, unix_socket

LESSON = "demo-math-drill"
STEP_S = 0.2


def main(socket_path: Path, student: str, seconds: float) -> dict[str, Any]:
    client = ServiceClient(unix_socket(socket_path), client_name="student-lesson")
    client.sign_in(student, "1234")
    run = client.open_run(student, LESSON)
    opened = time.monotonic()
    pace = threading.Event()  # never set: it paces the lesson at real time
    n = 0
    while (elapsed := time.monotonic() - opened) < seconds:
        n += 1
        t = round(max(0.0, elapsed - 0.05), 3)
        if n % 5 == 0:
            client.answer(run, t, f"drill-{n // 5 % 5 + 1}", response="13")
        else:
            client.line(run, {"t": t, "kind": "input"})
        pace.wait(STEP_S)
    closed = client.close_run(run, completed=True)
    client.close()
    return {"run": run, "lines": n, "closed": closed}


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]))))
