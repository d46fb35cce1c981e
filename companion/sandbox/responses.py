"""Response helpers shared by the sandbox's routes: JSON, imsx errors, Caliper errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def imsx_error(status: int, code: str, description: str) -> JSONResponse:
    """A OneRoster imsx_StatusInfo failure payload."""
    return JSONResponse(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": description,
            "imsx_CodeMinor": {
                "imsx_codeMinorField": [
                    {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code}
                ]
            },
        },
        status_code=status,
    )


def caliper_error(status: int, message: str, errors: list[dict[str, Any]] | None = None
                  ) -> JSONResponse:
    """A Caliper-service error payload."""
    body: dict[str, Any] = {"status": "error", "message": message}
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status)
