"""Every error answer is ``{"detail": "one sentence."}`` with a 4xx code, never a pydantic dump or a traceback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

__all__ = ["install_error_handlers", "validation_message"]

log = logging.getLogger(__name__)

_PRIOR_RULE = 'prior must be "true", "raw" or an object {label: probability}'
_COSTS_RULE = ('costs must be a text such as "fn=10,fp=1,positive=spam", an object {"fn": 10, "fp": 1} or '
               '{"matrix": [[0, 1], [10, 0]], "labels": [...]} (true × predicted)')
_DEPLOY_RULE = 'deploy_prior must be a text such as "spam=0.02" or an object {label: probability}'


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:50] + "…"


def _where(loc: Sequence[Any]) -> str:
    """``("body", "texts", 3)`` → ``texts[3]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_message(errors: Sequence[dict[str, Any]], fields: Sequence[str]) -> tuple[int, str]:
    """(status, one sentence) for FastAPI's validation errors of a JSON body with ``fields``."""
    first = errors[0]
    kind, loc = first.get("type", ""), tuple(first.get("loc", ()))[1:]  # drop "body"
    if kind == "json_invalid":
        return 400, "the request body is not valid JSON."
    if not loc:
        if isinstance(first.get("input"), (bytes, bytearray)):  # FastAPI parses JSON only when the header says so
            return 415, "send the body as JSON with the header Content-Type: application/json."
        if kind == "missing":
            return 422, f"the request needs a JSON body with {fields[0]!r}."
        return 422, f"the request body must be a JSON object with the fields {', '.join(fields)}."
    if kind == "extra_forbidden":
        return 422, f"unknown field {loc[0]!r}: the fields are {', '.join(fields)}."
    if loc[0] == "prior":
        # A union (keyword | mapping): report the mapping's error when a key is at fault, else the rule.
        for error in errors:
            sub = tuple(error.get("loc", ()))[1:]
            if sub[:1] == ("prior",) and len(sub) >= 3 and not str(sub[1]).startswith("literal"):
                return 422, f"prior[{sub[2]!r}] must be a finite number, got {error.get('input')!r}."
        return 422, f"{_PRIOR_RULE}, got {first.get('input')!r}."
    if loc[0] == "costs":
        return 422, f"{_COSTS_RULE}, got {_shown(errors[-1].get('input'))}."
    if loc[0] == "deploy_prior":
        return 422, f"{_DEPLOY_RULE}, got {_shown(errors[-1].get('input'))}."
    if loc[0] == "texts":
        if kind == "missing":
            return 422, "the field 'texts' is required: a list of strings."
        if kind == "too_short":
            return 422, "texts must hold at least one text."
        if len(loc) == 1:
            return 422, f"texts must be a list of strings, got {type(first.get('input')).__name__}."
        return 422, f"texts[{loc[1]}] must be a string, got {type(first.get('input')).__name__}."
    message = str(first.get("msg", "invalid value")).rstrip(".")
    return 422, f"{_where(loc)}: {message[:1].lower()}{message[1:]}."


def install_error_handlers(app: FastAPI, fields: Sequence[str]) -> None:
    """Turn validation errors, HTTP errors and crashes into one-sentence JSON answers."""

    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, detail = validation_message(list(exc.errors()), fields)
        return JSONResponse({"detail": detail}, status_code=status)

    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log (Starlette re-raises to uvicorn), never to the client.
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
        return JSONResponse({"detail": "the server failed to answer this request; its log says why."},
                            status_code=500)

    app.add_exception_handler(RequestValidationError, on_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, on_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, on_crash)
