"""The sandbox's Starlette application: routes plus the fault/auth/counting middleware."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion.sandbox import caliper, demo_pages, gradebook, lti, oneroster
from companion.sandbox.auth import TokenError
from companion.sandbox.faults import Decision, Fault, drop_connection
from companion.sandbox.state import SandboxState

_ENDPOINTS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^/oauth2/token$"), "token", "/oauth2/token"),
    (re.compile(r"^/caliper/event$"), "caliper.event", "/caliper/event"),
    (re.compile(r"^/caliper/event/validate$"), "caliper.validate", "/caliper/event/validate"),
    (re.compile(r"^/caliper/events$"), "caliper.events", "/caliper/events"),
    (re.compile(r"^/caliper/events/.+$"), "caliper.event_by_id", "/caliper/events/{eventId}"),
    (re.compile(r"^/jobs/[^/]+/status$"), "jobs", "/jobs/{jobId}/status"),
    *[(re.compile(p), name, counted) for p, name, counted in gradebook.FAULT_ENDPOINTS],
    (re.compile(r"^/ims/oneroster/"), "oneroster", ""),
    (re.compile(r"^/_admin/"), "admin", ""),
]


def classify(path: str) -> tuple[str, str]:
    """(fault endpoint name, counted path) for a request path."""
    for pattern, name, template in _ENDPOINTS:
        if pattern.match(path):
            return name, template or path
    return "other", path


ADMIN_HEADER = "X-Sandbox-Admin-Token"


class SandboxMiddleware:
    """Counts requests, injects faults, and requires a bearer token where Timeback does."""

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    def _admin_allowed(self, scope: Scope) -> bool:
        wanted = ADMIN_HEADER.lower().encode()
        given = next((v for k, v in scope.get("headers", []) if k == wanted), b"")
        return secrets.compare_digest(given, self.state.admin_token.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name, counted = classify(scope["path"])
        self.state.count_request(f"{scope['method']} {counted}")
        if name == "admin":
            if not self._admin_allowed(scope):
                await JSONResponse({"error": "the sandbox's admin routes need its admin token "
                                             f"in the {ADMIN_HEADER} header"},
                                   status_code=403)(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        decision = self.state.faults.decide(name)
        if decision.drop_before:
            await drop_connection(scope, receive)
            return
        await self._wait(decision.delay_s)
        if decision.status is not None:
            await _fault_response(decision)(scope, receive, send)
            return
        if name not in ("token", "other") and not self.state.tokens.is_valid(
            _header(scope, b"authorization")
        ):
            response = JSONResponse({"error": "invalid_token",
                                     "message": "missing, unknown or expired bearer token"},
                                    status_code=401,
                                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            await response(scope, receive, send)
            return
        scope[caliper.EXTRA_DELAY_KEY] = decision.processing_delay_s
        if not decision.commit_then_drop:
            await self.app(scope, receive, send)
            return

        async def swallow(message: Message) -> None:
            return None

        await self.app(scope, receive, swallow)
        await drop_connection(scope, receive)

    async def _wait(self, seconds: float) -> None:
        """Sleep for a fault's delay, but stop early when the server shuts down."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.state.shutdown.is_set() and (left := deadline - loop.time()) > 0:
            await asyncio.sleep(min(left, 0.05))


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _fault_response(decision: Decision) -> Response:
    if decision.status == 429:
        return JSONResponse({"status": "error", "message": "rate limit exceeded"},
                            status_code=429,
                            headers={"Retry-After": str(decision.retry_after_s)})
    return JSONResponse({"status": "error", "message": "injected internal server error"},
                        status_code=500)


def _token_route(state: SandboxState) -> Route:
    async def token(request: Request) -> Response:
        fields = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        try:
            body = state.tokens.issue(request.headers.get("authorization"), fields)
        except TokenError as exc:
            return JSONResponse({"error": exc.error}, status_code=exc.status)
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return Route("/oauth2/token", token, methods=["POST"])


def _admin_routes(state: SandboxState) -> list[Route]:
    async def get_state(request: Request) -> Response:
        return JSONResponse(state.snapshot())

    async def set_faults(request: Request) -> Response:
        try:
            body: Any = json.loads(await request.body())
            if not isinstance(body, dict):
                raise ValueError("expected an object of endpoint -> fault settings")
            parsed = {name: Fault.from_json(settings) for name, settings in body.items()}
        except (ValueError, TypeError) as exc:
            return JSONResponse({"status": "error", "message": str(exc)}, status_code=400)
        for name, fault in parsed.items():
            state.faults.set(name, fault)
        return JSONResponse({"status": "success", "faults": state.faults.snapshot()})

    async def clear_faults(request: Request) -> Response:
        state.faults.clear()
        return JSONResponse({"status": "success", "faults": {}})

    async def process_now(request: Request) -> Response:
        await asyncio.to_thread(state.process_now)
        return JSONResponse({"status": "success"})

    async def reset(request: Request) -> Response:
        state.reset()
        return JSONResponse({"status": "success"})

    async def expire_tokens(request: Request) -> Response:
        state.tokens.expire_all()
        return JSONResponse({"status": "success"})

    return [
        Route("/_admin/state", get_state, methods=["GET"]),
        Route("/_admin/faults", set_faults, methods=["POST"]),
        Route("/_admin/faults", clear_faults, methods=["DELETE"]),
        Route("/_admin/process-now", process_now, methods=["POST"]),
        Route("/_admin/reset", reset, methods=["POST"]),
        Route("/_admin/expire-tokens", expire_tokens, methods=["POST"]),
    ]


def build_app(state: SandboxState) -> ASGIApp:
    """The whole sandbox as an ASGI application."""
    routes = [_token_route(state), *caliper.routes(state), *oneroster.routes(state.roster),
              *gradebook.routes(state.gradebook, state.roster), *_admin_routes(state)]
    routes += lti.routes(state)  # the LTI 1.3 platform and OpenID provider (lti.py)
    routes += demo_pages.routes()  # reading pages for the demo's browser lesson
    return SandboxMiddleware(Starlette(routes=routes), state)
