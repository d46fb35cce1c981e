"""``companion doctor``: check, in order, everything the app needs, one pass/fail line each.

Checks: the machine service, when this computer has one (``doctor_service``);
configuration and environment; whether the web engine can show lessons (not as
root with its sandbox on); keyring and stored credentials; proxy and TLS;
connectivity to the token, OneRoster and Caliper hosts; a token; roster freshness; outbox
counts; last successful sync; database integrity. Each check is a small function taking a
``DoctorContext`` and returning a ``CheckResult`` (name, ok, detail, hint), so the UI can show
the same list. Exit status 0 when every check passes, 1 otherwise, 2 for a usage error.

For the sandbox, the server's address comes from ``--url``, ``COMPANION_SANDBOX_URL`` or the
sandbox ``base_url`` setting (config file or ``COMPANION_SANDBOX_BASE_URL``); without one the
network checks fail with a hint to start it.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

import httpx
import truststore

from companion.commands._sandbox import SANDBOX_URL_VAR, given_sandbox_url
from companion.config import Config, ConfigError, load_config
from companion.core.clock import Clock, SystemClock
from companion.store import outbox, paths, roster, runs
from companion.store.db import Database, StoreError
from companion.store.meta import get_meta
from companion.store.results import RESULT_KIND
from companion.store.tables import DeliveryState
from companion.sync.roster_refresh import roster_status
from companion.system import webengine
from companion.timeback import (
    ROSTERING_PATH,
    Credentials,
    CredentialsError,
    Environment,
    OfflineError,
    ProxyFailure,
    TimebackError,
    TLSFailure,
    UnauthorisedError,
    ensure_keyring,
    env_var_name,
    load_credentials,
    map_exception,
    sandbox_environment,
    service_name,
    verify_credentials,
)

SYNC_SUCCESS_KEY = "sync.last_success_at"  # where the sync worker may record its last success
ROSTER_MAX_AGE = timedelta(hours=48)
PENDING_MAX_AGE = timedelta(hours=24)
SYNC_MAX_AGE = timedelta(hours=24)
PROBE_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SANDBOX_HINT = "sandbox not running — start it with `companion sandbox` and pass its --url"
NO_SANDBOX_HINT = (
    "sandbox not running — start it with `companion sandbox`, then run doctor with "
    f"--url URL (or set {SANDBOX_URL_VAR})"
)
NO_SANDBOX_INFO = (
    "the demo's sandbox runs inside the app and only while it is open; events wait on this "
    "computer until then. To check these lines now, start the app (or `companion sandbox`) "
    f"and run doctor with --url URL (or set {SANDBOX_URL_VAR})"
)


@dataclass(frozen=True)
class CheckResult:
    """One line of the report."""

    name: str
    ok: bool
    detail: str
    hint: str | None = None
    info: bool = False  # not a pass or a failure: something to know (printed as INFO)


@dataclass(frozen=True)
class Probe:
    """What one GET to a host gave: an HTTP status, or the error that prevented one."""

    url: str
    proxy: str | None
    status: int | None = None
    error: TimebackError | None = None


@dataclass
class DoctorContext:
    """What the checks share: the environment, the database and cached probes."""

    env_name: str
    clock: Clock
    config: Config | None = None
    config_error: str | None = None
    environment: Environment | None = None
    sandbox_url_missing: bool = False
    db_path: Path | None = None
    db: Database | None = None
    db_error: str | None = None
    transport: httpx.BaseTransport | None = None
    probes: dict[str, Probe] = field(default_factory=dict)
    euid: int | None = None  # the user id to judge (None: this process's)
    environ: Mapping[str, str] | None = None  # the environment to judge (None: os.environ)
    service_socket: Path | None = None  # the machine service's socket, when there is one
    _credentials: Credentials | CredentialsError | None = None

    @classmethod
    def create(
        cls,
        env_name: str | None,
        clock: Clock,
        *,
        sandbox_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        environ: dict[str, str] | None = None,
    ) -> DoctorContext:
        """Read the config, resolve the environment and open its database (if possible)."""
        source = os.environ if environ is None else environ
        try:
            config = load_config()
        except ConfigError as exc:
            return cls(env_name=env_name or "sandbox", clock=clock, config_error=str(exc))
        name = env_name or config.environment
        ctx = cls(env_name=name, clock=clock, config=config, transport=transport)
        if sandbox_url and name != "sandbox":
            ctx.config_error = f"--url is only for the sandbox, not {name}"
            return ctx
        try:
            ctx.environment = config.environment_for(name)
        except ValueError as exc:
            ctx.config_error = str(exc)
            return ctx
        if name == "sandbox":
            url = given_sandbox_url(sandbox_url, source)
            if url:
                ctx.environment = sandbox_environment(url)
            elif not (
                "base_url" in config.url_overrides.get("sandbox", {})
                or source.get(env_var_name("sandbox", "base_url"))
            ):
                ctx.sandbox_url_missing = True
        ctx.open_database()
        return ctx

    def open_database(self) -> None:
        """Open (creating if new) the environment's database; remember why not."""
        try:
            self.db_path = paths.database_path(self.env_name)
            self.db = Database.open(self.db_path, self.env_name)
        except (StoreError, ValueError, OSError) as exc:
            self.db_error = str(exc)

    def close(self) -> None:
        """Close the database."""
        if self.db is not None:
            self.db.close()
            self.db = None

    def __enter__(self) -> DoctorContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def now(self) -> datetime:
        return self.clock.utc_now()

    def credentials(self) -> Credentials | CredentialsError:
        """The stored credentials, or the error that says why there are none (cached)."""
        if self._credentials is None:
            try:
                self._credentials = load_credentials(self.env_name)
            except CredentialsError as exc:
                self._credentials = exc
        return self._credentials

    def probe(self, url: str) -> Probe:
        """GET ``url`` once (cached); any HTTP answer means the host is reachable."""
        if url in self.probes:
            return self.probes[url]
        proxy = None if self.transport is not None else proxy_for(url)
        options: dict[str, Any] = {"timeout": PROBE_TIMEOUT, "trust_env": True}
        if self.transport is not None:
            options["transport"] = self.transport
        else:
            options["verify"] = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            with httpx.Client(**options) as client:
                response = client.get(url, headers={"Accept": "application/json"})
            result = Probe(url, proxy, status=response.status_code)
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            result = Probe(url, proxy, error=map_exception(exc, proxy=proxy))
        self.probes[url] = result
        return result


def proxy_for(url: str) -> str | None:
    """The proxy the system settings give for ``url``, or None for a direct connection."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    if urllib.request.proxy_bypass(parsed.host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parsed.scheme) or proxies.get("all")


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def _duration(delta: timedelta) -> str:
    return _ago(delta).removesuffix(" ago")


# --- the checks ------------------------------------------------------------------------------


def check_configuration(ctx: DoctorContext) -> CheckResult:
    """The config file reads and the environment resolves."""
    name = "configuration"
    if ctx.config_error is not None or ctx.environment is None:
        return CheckResult(name, False, ctx.config_error or "no environment",
                           "fix or remove the config file named above (it is optional)")
    where = ctx.config.path if ctx.config else None
    source = "defaults (no config file)" if where is None or not where.exists() else str(where)
    env = ctx.environment
    if ctx.sandbox_url_missing:
        return CheckResult(name, True, f"{env.name} environment; {source}; sandbox URL not given")
    return CheckResult(name, True, f"{env.name} environment at {env.oneroster_base}; {source}")


def check_lesson_pages(ctx: DoctorContext) -> CheckResult:
    """Qt WebEngine can start: as root only with its sandbox turned off on purpose."""
    name = "lesson pages (web engine)"
    environ = os.environ if ctx.environ is None else ctx.environ
    euid = webengine.current_euid() if ctx.euid is None else ctx.euid
    if webengine.root_refusal(euid, environ) is not None:
        return CheckResult(name, False, "running as root: the web engine refuses to start, "
                           "so the app cannot show lessons",
                           "run the app from a normal user account, or set "
                           f"{webengine.SANDBOX_VAR}=1 to run lesson pages without the "
                           "web engine's sandbox")
    if euid == 0:
        return CheckResult(name, True, f"running as root with {webengine.SANDBOX_VAR} set: "
                                       "lesson pages run without the web engine's sandbox")
    return CheckResult(name, True, "can start (not running as root)")


def check_credentials(ctx: DoctorContext) -> CheckResult:
    """A usable keyring holds the environment's client id and secret."""
    name = "keyring and credentials"
    if ctx.env_name == "sandbox":
        return CheckResult(name, True, "built in (sandbox); the keyring is not used")
    try:
        backend = ensure_keyring()
    except CredentialsError as exc:
        return CheckResult(name, False, exc.message,
                           "install or unlock an OS keyring, then run "
                           f"`companion --env {ctx.env_name} setup`")
    creds = ctx.credentials()
    kind = f"{type(backend).__module__}.{type(backend).__name__}"
    if isinstance(creds, CredentialsError):
        return CheckResult(name, False, f"keyring {kind}: {creds.message}",
                           f"run `companion --env {ctx.env_name} setup`")
    return CheckResult(name, True, f"client {creds.client_id!r} in {kind} "
                                   f"(service {service_name(ctx.env_name)!r})")


def _hosts(env: Environment) -> list[tuple[str, str]]:
    """(label, probe URL) for the token, OneRoster and Caliper hosts."""
    return [
        ("token host", env.token_url),
        ("OneRoster host", f"{env.oneroster_base}{ROSTERING_PATH}/orgs?limit=1"),
        ("Caliper host", f"{env.caliper_base}/"),
    ]


def _not_checkable(ctx: DoctorContext, name: str) -> CheckResult | None:
    """A failing result when the network checks cannot run at all, else None."""
    if ctx.environment is None:
        return CheckResult(name, False, "no environment", "fix the configuration first")
    if ctx.sandbox_url_missing:
        return CheckResult(name, True, "not checked: the app (and its sandbox) is not running",
                           NO_SANDBOX_INFO, info=True)
    return None


def check_proxy_tls(ctx: DoctorContext) -> CheckResult:
    """No proxy refuses us and every HTTPS host's certificate is trusted."""
    name = "proxy and TLS"
    blocked = _not_checkable(ctx, name)
    if blocked is not None:
        return blocked
    assert ctx.environment is not None
    probes = [ctx.probe(url) for _, url in _hosts(ctx.environment)]
    proxies = sorted({p.proxy for p in probes if p.proxy})
    route = f"via proxy {', '.join(proxies)}" if proxies else "direct (no proxy)"
    for probe in probes:
        if isinstance(probe.error, TLSFailure):
            return CheckResult(name, False, probe.error.message,
                               "the certificate is not trusted: a school proxy that inspects "
                               "HTTPS needs its root certificate in the OS certificate store "
                               "(ask IT), or the computer's date is wrong")
        if isinstance(probe.error, ProxyFailure):
            return CheckResult(name, False, probe.error.message,
                               "check the proxy settings (system settings or HTTPS_PROXY / "
                               "NO_PROXY) or ask IT to allow the Timeback hosts")
    unanswered = [p for p in probes if p.status is None]
    if unanswered:
        hint = SANDBOX_HINT if ctx.env_name == "sandbox" else "see the host lines below"
        return CheckResult(name, False, f"{route}; not checked: no answer from "
                                        f"{httpx.URL(unanswered[0].url).host}", hint)
    tls = ("certificates verified with the OS store"
           if any(p.url.startswith("https:") for p in probes) else "plain HTTP, no TLS")
    return CheckResult(name, True, f"{route}; {tls}")


def _check_host(ctx: DoctorContext, label: str) -> CheckResult:
    blocked = _not_checkable(ctx, label)
    if blocked is not None:
        return blocked
    assert ctx.environment is not None
    url = dict(_hosts(ctx.environment))[label]
    probe = ctx.probe(url)
    host = httpx.URL(url)
    where = f"{host.scheme}://{host.netloc.decode('ascii')}"
    if probe.status is not None:
        return CheckResult(label, True, f"{where} answers (HTTP {probe.status})")
    error = probe.error
    detail = error.message if error else f"{where}: no answer"
    if ctx.env_name == "sandbox":
        hint = SANDBOX_HINT
    elif isinstance(error, TLSFailure | ProxyFailure):
        hint = "see the proxy and TLS line"
    elif isinstance(error, OfflineError):
        hint = ("check the network connection, DNS and firewall; "
                f"the computer must reach {host.host} on port {host.port or 443}")
    else:
        hint = "the host did not answer properly; try again later or ask IT"
    return CheckResult(label, False, detail, hint)


def check_token_host(ctx: DoctorContext) -> CheckResult:
    """The OAuth2 token endpoint answers."""
    return _check_host(ctx, "token host")


def check_oneroster_host(ctx: DoctorContext) -> CheckResult:
    """The OneRoster API answers."""
    return _check_host(ctx, "OneRoster host")


def check_caliper_host(ctx: DoctorContext) -> CheckResult:
    """The Caliper API answers."""
    return _check_host(ctx, "Caliper host")


def check_token(ctx: DoctorContext) -> CheckResult:
    """The token endpoint issues a token for the stored credentials."""
    name = "token"
    blocked = _not_checkable(ctx, name)
    if blocked is not None:
        return blocked
    assert ctx.environment is not None
    creds = ctx.credentials()
    if isinstance(creds, CredentialsError):
        return CheckResult(name, False, f"no credentials: {creds.message}",
                           f"run `companion --env {ctx.env_name} setup`")
    try:
        verify_credentials(ctx.environment, creds, transport=ctx.transport,
                           timeout=PROBE_TIMEOUT)
    except UnauthorisedError as exc:
        return CheckResult(name, False, exc.message,
                           "the client id or secret was refused: run "
                           f"`companion --env {ctx.env_name} setup` with the right ones")
    except TimebackError as exc:
        hint = SANDBOX_HINT if ctx.env_name == "sandbox" else "see the lines above"
        return CheckResult(name, False, f"{type(exc).__name__}: {exc.message}", hint)
    return CheckResult(name, True, f"issued for client {creds.client_id!r}")


def _no_database(name: str, ctx: DoctorContext) -> CheckResult:
    return CheckResult(name, False, f"database unavailable: {ctx.db_error}",
                       "see the database integrity line")


def check_roster(ctx: DoctorContext) -> CheckResult:
    """The cached roster was refreshed recently."""
    name = "roster freshness"
    if ctx.db is None:
        return _no_database(name, ctx)
    status = roster_status(ctx.db)
    age = status.age(ctx.now)
    if status.last_success_at is None or age is None:
        detail = "never pulled"
        if status.last_error:
            detail += f"; last attempt failed: {status.last_error}"
        return CheckResult(name, False, detail,
                           "set the computer up for a school and start the app while online; "
                           "the roster is pulled then and refreshed every 15 minutes")
    users, classes = roster.live_counts(ctx.db)
    detail = (f"school {status.school_id}: {users} users, {classes} classes; "
              f"last refreshed {_ago(age)}")
    if status.failing and status.last_error:
        detail += f"; the latest attempt failed: {status.last_error}"
    if age > ROSTER_MAX_AGE:
        return CheckResult(name, False, detail,
                           "start the app while online so it refreshes the roster; "
                           "new students and class changes are missing until then")
    return CheckResult(name, True, detail)


def _waiting_lines(ctx: DoctorContext) -> list[str]:
    """What is held or waits for data, with names and reasons, one phrase each."""
    assert ctx.db is not None
    lines = [f"{w.runs} run(s) of {w.name} ({w.student_id}) not sent: {w.text()}"
             for w in runs.waiting_runs(ctx.db)]
    for group in outbox.waiting_reasons(ctx.db):
        if group.state is DeliveryState.HELD:
            noun = "result(s)" if group.kind == RESULT_KIND else "event(s)"
            lines.append(f"{group.count} {noun} held: {group.reason or 'no reason recorded'}")
    return lines


def _what_to_do(lines: list[str]) -> str:
    steps = []
    text = " ".join(lines)
    if "email" in text or "not in the roster" in text:
        steps.append("add the missing email (or the student) in the school's roster; the "
                     "runs go out by themselves at the next roster refresh")
    if "line item" in text:
        steps.append("run `companion content push` to create the missing line items")
    if "read-back" in text:
        steps.append("read `companion outbox list --state held`; the batch is checked again "
                     "after the next delivery, or release it with `companion outbox release ID`")
    return "; ".join(steps) or "see `companion outbox list --state held`"


def check_outbox(ctx: DoctorContext) -> CheckResult:
    """Nothing refused, nothing held, nothing waiting for roster data or for too long."""
    name = "outbox"
    if ctx.db is None:
        return _no_database(name, ctx)
    counts = outbox.counts(ctx.db)
    oldest = outbox.oldest_pending_age(ctx.db, ctx.now)
    dead = counts[DeliveryState.REFUSED.value]
    detail = (f"{counts['pending']} pending, {counts['in_flight']} in flight, "
              f"{counts['settling']} settling, {counts['held']} held, {dead} refused, "
              f"{counts['delivered']} delivered; oldest waiting: "
              f"{'none' if oldest is None else _duration(oldest)}")
    if dead:
        return CheckResult(name, False, detail,
                           f"{dead} event(s) were refused by Timeback: see `companion outbox "
                           "list --state refused` and `companion outbox show ID`, fix the "
                           "cause, then `companion outbox retry ID`")
    waiting = _waiting_lines(ctx)
    if waiting:
        return CheckResult(name, False, f"{detail}; " + "; ".join(waiting), _what_to_do(waiting))
    if oldest is not None and oldest > PENDING_MAX_AGE:
        return CheckResult(name, False, detail,
                           "events have waited for over a day: check the lines above, then "
                           "run `companion sync`")
    return CheckResult(name, True, detail)


def last_sync_success(db: Database) -> datetime | None:
    """When a delivery last succeeded: the sync worker's record, else the newest ack."""
    recorded = get_meta(db, SYNC_SUCCESS_KEY)
    if recorded is not None:
        return datetime.fromisoformat(recorded)
    return outbox.newest_ack(db)


def check_last_sync(ctx: DoctorContext) -> CheckResult:
    """Deliveries succeed: fails only when events wait and no sync succeeded for a day."""
    name = "last successful sync"
    if ctx.db is None:
        return _no_database(name, ctx)
    last = last_sync_success(ctx.db)
    counts = outbox.counts(ctx.db)
    waiting = sum(counts[state.value] for state in outbox.UNDONE)
    detail = "never" if last is None else f"{last:%Y-%m-%d %H:%M:%SZ} ({_ago(ctx.now - last)})"
    if waiting and (last is None or ctx.now - last > SYNC_MAX_AGE):
        return CheckResult(name, False, f"{detail}; {waiting} event(s) waiting",
                           "check the network lines above, then run `companion sync`")
    if not waiting and last is None:
        detail += " (nothing to send yet)"
    return CheckResult(name, True, detail)


def check_database(ctx: DoctorContext) -> CheckResult:
    """The database opens and passes ``PRAGMA quick_check``."""
    name = "database integrity"
    if ctx.db is None:
        return CheckResult(name, False, ctx.db_error or "not opened",
                           "quit the app, move the file aside (keep it: it may hold "
                           "undelivered events), then start again")
    result = str(ctx.db.pragma("quick_check"))
    if result != "ok":
        return CheckResult(name, False, f"{ctx.db.path}: quick_check: {result}",
                           "quit the app, move the file aside (keep it), then start again")
    return CheckResult(name, True, f"{ctx.db.path}: quick_check ok, schema "
                                   f"{ctx.db.schema_version()}")


Check = Callable[[DoctorContext], CheckResult]
CHECKS: tuple[Check, ...] = (
    check_configuration,
    check_lesson_pages,
    check_credentials,
    check_proxy_tls,
    check_token_host,
    check_oneroster_host,
    check_caliper_host,
    check_token,
    check_roster,
    check_outbox,
    check_last_sync,
    check_database,
)


def run_checks(ctx: DoctorContext, checks: Sequence[Check] = CHECKS) -> list[CheckResult]:
    """Every check in order; a check that crashes fails its line rather than the run."""
    results = []
    for check in checks:
        try:
            results.append(check(ctx))
        except Exception as exc:
            label = (check.__name__.removeprefix("check_").replace("_", " "))
            results.append(CheckResult(label, False, f"the check itself failed: {exc!r}",
                                       "please report this"))
    return results


def format_results(results: Sequence[CheckResult]) -> str:
    """The report: one PASS/FAIL line per check, a hint under each failure."""
    width = max((len(r.name) for r in results), default=0)
    lines = []
    said: set[str] = set()  # an information's hint is said once, under its first line
    for r in results:
        mark = "INFO" if r.info else "PASS" if r.ok else "FAIL"
        lines.append(f"{mark}  {r.name.ljust(width)}  {r.detail}")
        if r.info and r.hint in said:
            continue
        if r.info and r.hint:
            said.add(r.hint)
        if (r.info or not r.ok) and r.hint:
            lines.append(f"      {' ' * width}  hint: {r.hint}")
    failed = sum(not r.ok for r in results)
    lines.append("all checks passed" if not failed else f"{failed} check(s) failed")
    return "\n".join(lines)


# --- the command -----------------------------------------------------------------------------


def register(subparsers: Any, name: str, help_text: str) -> None:
    """Add the ``doctor`` subcommand."""
    p: argparse.ArgumentParser = subparsers.add_parser(name, help=help_text,
                                                       description=help_text)
    p.add_argument("--url", default=None,
                   help=f"base URL of a running sandbox (or set {SANDBOX_URL_VAR})")
    p.add_argument("--socket", type=Path, default=None,
                   help="the machine service's socket (default: "
                        "/run/timeback-companion/service.sock, when it is there)")
    p.set_defaults(func=run)


def run(
    args: argparse.Namespace,
    *,
    clock: Clock | None = None,
    transport: httpx.BaseTransport | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run every check and print the report; 0 if all pass, 1 if any fails."""
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if args.url and (args.env or "sandbox") != "sandbox":
        print("error: --url is only for the sandbox environment", file=err)
        return 2
    from companion.commands.doctor_service import check_service, service_socket

    with DoctorContext.create(args.env, clock or SystemClock(), sandbox_url=args.url,
                              transport=transport) as ctx:
        ctx.service_socket = service_socket(getattr(args, "socket", None))
        checks = CHECKS if ctx.service_socket is None else (check_service, *CHECKS)
        results = run_checks(ctx, checks)
    print(format_results(results), file=out)
    return 0 if all(r.ok for r in results) else 1
