"""What one request may hold: texts, characters per text, bytes of body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError

__all__ = ["ServeLimits", "BodySizeLimit"]


@dataclass(frozen=True)
class ServeLimits:
    """Limits of one ``/predict`` request.

    Attributes:
        max_texts: texts per request; more is answered 413.
        max_chars: characters per text; a longer text is cut to its first ``max_chars`` characters
            before prediction (a transformer reads at most ``max_length`` tokens of it anyway, as in
            training), and the response says which texts were cut.
        max_body_bytes: bytes of request body; more is answered 413 before the body is parsed.
    """

    max_texts: int = 1000
    max_chars: int = 10_000
    max_body_bytes: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_texts", "max_chars", "max_body_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SpecError(f"{name} must be an integer >= 1, got {value!r}")


class BodySizeLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets 413 before the app reads it.

    Starlette and uvicorn set no body limit. A declared ``Content-Length`` over the limit is
    refused at once; a chunked body is counted as it arrives and buffered up to the limit.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large(send)
            return
        chunks, size, more = [], 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([body], receive), send)

    async def _too_large(self, send: Any) -> None:
        detail = f"the request body is larger than the limit of {self.max_bytes:,} bytes."
        payload = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    """A ``receive`` that yields ``messages`` first, then the real ones (a disconnect, later)."""
    pending = list(messages)

    async def replay() -> dict[str, Any]:
        return pending.pop(0) if pending else await receive()

    return replay
