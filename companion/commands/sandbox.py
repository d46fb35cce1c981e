"""`companion sandbox`: run the local Timeback-compatible server in the foreground."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

from companion.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the sandbox subcommand and its options."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text)
    p.add_argument("--port", type=int, default=8787, help="port on 127.0.0.1 (0: any free)")
    p.add_argument("--data", type=Path, default=None,
                   help="folder that keeps stored events and jobs across restarts")
    p.add_argument("--seed", choices=["demo", "large", "empty"], default="demo",
                   help="roster to serve (default: the demo school)")
    p.add_argument("--processing-delay", type=float, default=0.0, metavar="SECONDS",
                   help="delay before an accepted event becomes readable")
    p.add_argument("--token-ttl", type=float, default=3600, metavar="SECONDS",
                   help="lifetime of issued access tokens")
    p.add_argument("--fault", action="append", default=[], metavar="ENDPOINT:KEY=VALUE,...",
                   help="inject a fault, e.g. caliper.event:error_rate=0.2 or "
                        "oneroster:burst_429=3,retry_after_s=2 (repeatable)")
    p.add_argument("--fault-seed", type=int, default=0, help="seed of the fault generator")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM."""
    from companion.sandbox.app import ADMIN_HEADER
    from companion.sandbox.faults import FaultPlan, parse_fault_spec
    from companion.sandbox.server import serve

    try:
        faults = dict(parse_fault_spec(spec) for spec in args.fault)
    except ValueError as exc:
        print(f"companion sandbox: bad --fault: {exc}")
        return 2

    admin_token = secrets.token_urlsafe(24)

    def announce(base_url: str) -> None:
        print(f"Timeback sandbox listening on {base_url}", flush=True)
        print(f"  client id:     {DEMO_CLIENT_ID}", flush=True)
        print(f"  client secret: {DEMO_CLIENT_SECRET}", flush=True)
        print("  admin:         GET /_admin/state, POST /_admin/faults (Ctrl-C to stop)",
              flush=True)
        print(f"  admin token:   {admin_token} (send it as {ADMIN_HEADER})", flush=True)

    serve(port=args.port, data_dir=args.data, seed=args.seed,
          processing_delay_s=args.processing_delay,
          faults=FaultPlan(faults, seed=args.fault_seed), token_ttl_s=args.token_ttl,
          on_started=announce, admin_token=admin_token)
    return 0
