"""The API's one error shape, produced by one handler for every failure.

Every 4xx/5xx body is `SalespipeError.to_dict()`: error, message, hint, file, line,
key, field; `field` names the request parameter at fault. tests/test_api.py pins it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from salespipe.errors import (
    ConfigError,
    MissingExtraError,
    SalespipeError,
    UsageError,
    WarehouseError,
)

log = logging.getLogger("salespipe.api")


class ApiError(SalespipeError):
    """An error of the request itself; `status` is its HTTP status code."""

    status = 400


class InvalidParameter(ApiError):
    """A query, path or body parameter is malformed or out of range."""


class AuthenticationRequired(ApiError):
    status = 401


class PermissionDenied(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class MethodNotAllowed(ApiError):
    status = 405


class RunInProgress(ApiError):
    status = 409


class InternalError(ApiError):
    status = 500


# Core errors that reach the API: what the client did (4xx) or the server's state (503).
CORE_STATUS: tuple[tuple[type[SalespipeError], int], ...] = (
    (UsageError, 400),
    (ConfigError, 400),
    (WarehouseError, 503),
    (MissingExtraError, 501),
)


class ErrorBody(BaseModel):
    """The one error shape of every 4xx and 5xx response."""

    error: str = Field(description="Error class, e.g. InvalidParameter, NotFound.")
    message: str = Field(description="What went wrong, in one sentence.")
    hint: str | None = Field(None, description="What to do next.")
    file: str | None = Field(None, description="A file the error is about (runs).")
    line: int | None = Field(None, description="A line of that file.")
    key: str | None = Field(None, description="A salespipe.yaml key the error is about.")
    field: str | None = Field(None, description="The request parameter at fault.")

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "error": "InvalidParameter",
                    "message": "from '2025-02-30' is not a date",
                    "hint": "use YYYY-MM-DD",
                    "file": None,
                    "line": None,
                    "key": None,
                    "field": "from",
                }
            ]
        }
    }


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer."""
    text = {
        400: "Invalid parameter",
        401: "Missing or unknown API key",
        403: "The key's scope does not allow this",
        404: "No such resource",
        409: "A run is already in progress",
        503: "The warehouse is not available",
    }
    return {code: {"model": ErrorBody, "description": text[code]} for code in codes}


_LOCATIONS = ("query", "path", "body", "header", "cookie")


def _status_of(exc: SalespipeError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    for cls, status in CORE_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def _translate(exc: Exception) -> SalespipeError:
    if isinstance(exc, SalespipeError):
        return exc
    if isinstance(exc, RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return InvalidParameter("the request body is not valid JSON", hint=_hint_for(first))
        loc = [p for p in first.get("loc", ()) if isinstance(p, str) and p not in _LOCATIONS]
        field = loc[0] if loc else None
        detail = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        where = f"{field}: " if field else ""
        return InvalidParameter(f"{where}{detail}", field=field, hint=_hint_for(first))
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return NotFound("no such endpoint", hint="see /docs for the API's endpoints")
        if exc.status_code == 405:
            return MethodNotAllowed("this endpoint does not accept that method")
        error = ApiError(str(exc.detail))
        error.status = exc.status_code
        return error
    log.exception("unexpected error", exc_info=exc)
    return InternalError("internal error; the server log has the details")


def _hint_for(error: Any) -> str | None:
    kind = str(error.get("type", ""))
    if kind.startswith(("int_", "less_than", "greater_than")):
        return "give a whole number in the documented range"
    if kind == "json_invalid" or kind.startswith("model_"):
        return "send a JSON object as documented in /docs"
    return None


async def error_response(request: Request, exc: Exception) -> JSONResponse:
    """The one exception handler: every failure becomes the documented shape."""
    error = _translate(exc)
    headers = {"WWW-Authenticate": "X-API-Key"} if _status_of(error) == 401 else None
    return JSONResponse(error.to_dict(), status_code=_status_of(error), headers=headers)


def install_error_handler(app: FastAPI) -> None:
    for exc_type in (SalespipeError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(exc_type, error_response)
