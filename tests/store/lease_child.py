"""A process that holds (or wants) a lease, driven by commands on stdin.

Usage: ``python lease_child.py DB_PATH ENV TTL_S [--probe]``. With ``--probe`` the lease
checks whether a holder's process still exists (``system.processes.ThisComputer``). Prints
``ready <pid>`` and then one line per command:

- ``try [OFFSET]``: try to take the lease with the clock moved OFFSET seconds ahead;
  prints ``acquired`` or ``busy``
- ``renew``: prints ``renewed`` or ``lost``
- ``holder [OFFSET]``: prints ``holder <pid>`` or ``holder none``
- ``keep``: start a LeaseKeeper; prints ``keeping``
- ``release``: prints ``released``
- ``quit``: closes the database and exits
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from companion.store.db import Database
from companion.store.lease import Lease, LeaseKeeper
from companion.system.processes import ThisComputer


def main(argv: list[str]) -> int:
    """Run the command loop until ``quit`` or end of input."""
    db_path, env, ttl = Path(argv[0]), argv[1], float(argv[2])
    offset = [0.0]
    db = Database.open(db_path, env)
    probe = ThisComputer() if "--probe" in argv[3:] else None
    lease = Lease(db, ttl_s=ttl, clock=lambda: time.time() + offset[0], processes=probe)
    keeper: LeaseKeeper | None = None
    print(f"ready {os.getpid()}", flush=True)
    try:
        for line in sys.stdin:
            command, *args = line.split() or [""]
            if args:
                offset[0] = float(args[0])
            if command == "try":
                reply = "acquired" if lease.try_acquire() else "busy"
            elif command == "renew":
                reply = "renewed" if lease.renew() else "lost"
            elif command == "holder":
                info = lease.holder()
                reply = f"holder {info.pid if info else 'none'}"
            elif command == "keep":
                keeper = LeaseKeeper(lease)
                keeper.start()
                reply = "keeping"
            elif command == "release":
                lease.release()
                reply = "released"
            elif command == "quit":
                break
            else:
                reply = f"unknown {command}"
            print(reply, flush=True)
    finally:
        if keeper is not None:
            keeper.stop()
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
