"""Caliper endpoints: send, validate, read back, and ingestion job status."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from companion.sandbox.ingestion import EventQuery
from companion.sandbox.responses import caliper_error
from companion.sandbox.state import SandboxState
from companion.sandbox.validation import validate_envelope

EXTRA_DELAY_KEY = "companion.sandbox.extra_processing_delay"


async def _read_envelope(request: Request) -> tuple[Any, Response | None]:
    try:
        return json.loads(await request.body()), None
    except (ValueError, UnicodeDecodeError):
        return None, caliper_error(400, "request body is not valid JSON", [
            {"eventIndex": None, "eventId": None, "field": "", "message": "not valid JSON"}])


def routes(state: SandboxState) -> list[Route]:
    """The Caliper routes."""

    async def send_event(request: Request) -> Response:
        envelope, problem = await _read_envelope(request)
        if problem is not None:
            return problem
        errors = validate_envelope(envelope)
        if errors:
            return caliper_error(400, f"envelope rejected: {len(errors)} error(s)", errors)
        extra = float(request.scope.get(EXTRA_DELAY_KEY, 0.0))
        raw = await request.body()  # kept by the request: not read twice
        job_id = state.ingestion.submit(envelope, extra, raw.decode(json.detect_encoding(raw)))
        return JSONResponse({"status": "success",
                             "message": f"{len(envelope['data'])} item(s) queued for processing",
                             "jobId": job_id})

    async def validate_only(request: Request) -> Response:
        envelope, problem = await _read_envelope(request)
        if problem is not None:
            return problem
        errors = validate_envelope(envelope)
        if errors:
            return caliper_error(400, f"envelope invalid: {len(errors)} error(s)", errors)
        return JSONResponse({"status": "success", "message": "envelope is valid"})

    async def list_events(request: Request) -> Response:
        params = request.query_params
        try:
            limit = min(int(params.get("limit", "100")), 3000)
            offset = int(params.get("offset", "0"))
        except ValueError:
            return caliper_error(400, "limit and offset must be integers")
        if limit < 1 or offset < 0:
            return caliper_error(400, "limit must be >= 1 and offset >= 0")
        query = EventQuery(actor_id=params.get("actorId"), actor_email=params.get("actorEmail"),
                           sensor=params.get("sensor"), start_date=params.get("startDate"),
                           end_date=params.get("endDate"), limit=limit, offset=offset)
        events, total = state.store.query(query)
        return JSONResponse({"status": "success", "message": f"{total} event(s) found",
                             "events": events, "totalCount": total, "offset": offset,
                             "limit": limit})

    async def event_by_id(request: Request) -> Response:
        event = state.store.event(request.path_params["event_id"])
        if event is None:
            return caliper_error(404, "event not found")
        return JSONResponse({"status": "success", "event": event})

    async def job_status(request: Request) -> Response:
        job = state.store.job(request.path_params["job_id"])
        if job is None:
            return caliper_error(404, "job not found")
        return JSONResponse(job)

    return [
        Route("/caliper/event", send_event, methods=["POST"]),
        Route("/caliper/event/validate", validate_only, methods=["POST"]),
        Route("/caliper/events", list_events, methods=["GET"]),
        Route("/caliper/events/{event_id:path}", event_by_id, methods=["GET"]),
        Route("/jobs/{job_id}/status", job_status, methods=["GET"]),
    ]
