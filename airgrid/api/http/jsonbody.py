"""JSON bodies validated, and JSON answers serialised in small pieces, off the event loop.

FastAPI parses and validates a request body on the event loop: a body of thousands of
items (a 5,000-point track, an intent of 5,000 volumes) holds it for tens of
milliseconds, during which no other request (health probes included) is answered.
Routes of :class:`ThreadBodyRoute` validate a large JSON body in a worker thread first.

A model with thousands of items (an intent's volumes, a list of intents, track hits)
serialised in one pydantic call holds the GIL for hundreds of milliseconds, and the
event loop (health probes, every other request) waits that long. :func:`json_response`
writes the same JSON, but each long list item by item, so no single call holds the GIL
for long, and it does so in the thread that runs the handler rather than on the event
loop.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any, TypeGuard

import anyio.to_thread
from fastapi import Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError

#: Lists longer than this are written item by item.
_CHUNK = 32
#: Bodies from this size on are validated in a worker thread; smaller ones cost less on
#: the event loop (about 2 ms at this size) than a wait for a worker thread.
THREAD_BODY_BYTES = 64_000
_ANY: TypeAdapter[Any] = TypeAdapter(Any)


def _long(value: object) -> TypeGuard[list[Any]]:
    return isinstance(value, list) and len(value) > _CHUNK


def dump_json(value: object) -> bytes:
    """``value`` (a model, a list, a dict or plain data) as the JSON pydantic writes for it.

    Models and dicts without long lists, and short lists, are written in one call; a
    long list, and a model or dict holding one, are written part by part.
    """
    if _long(value):
        return b"[" + b",".join(dump_json(v) for v in value) + b"]"
    if isinstance(value, dict) and any(_long(v) for v in value.values()):
        return (
            b"{"
            + b",".join(json.dumps(str(k)).encode() + b":" + dump_json(v) for k, v in value.items())
            + b"}"
        )
    if isinstance(value, BaseModel):
        names = type(value).model_fields
        if any(_long(getattr(value, n)) for n in names):
            return (
                b"{"
                + b",".join(
                    json.dumps(n).encode() + b":" + dump_json(getattr(value, n)) for n in names
                )
                + b"}"
            )
        return value.model_dump_json().encode()
    return _ANY.dump_json(value)


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """A JSON response with ``model`` serialised by :func:`dump_json`."""
    return Response(dump_json(model), status_code=status_code, media_type="application/json")


def _body_model(route: APIRoute) -> type[BaseModel] | None:
    """The model of ``route``'s body if it is a single, not embedded, model parameter."""
    field = route.body_field
    if field is None or route._embed_body_fields:
        return None
    model = field.field_info.annotation
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _is_json(request: Request) -> bool:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/json" or (
        kind.startswith("application/") and kind.endswith("+json")
    )


class ThreadBodyRoute(APIRoute):
    """A route whose large JSON body is validated in a worker thread, not on the event loop.

    A body of at least :data:`THREAD_BODY_BYTES` that validates is handed to FastAPI
    already validated (as the parsed JSON it would otherwise validate there: a model
    instance passes through unchanged). One that does not validate is left to FastAPI,
    which answers its errors exactly as for any route. The validation thread counts
    against the same thread budget as the sync handlers.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """FastAPI's handler, after the body's validation in a worker thread."""
        handler = super().get_route_handler()
        model = _body_model(self)
        if model is None:
            return handler

        async def threaded(request: Request) -> Response:
            if _is_json(request):
                raw = await request.body()
                if len(raw) >= THREAD_BODY_BYTES:
                    try:
                        parsed = await anyio.to_thread.run_sync(model.model_validate_json, raw)
                    except ValidationError:
                        pass
                    else:
                        # what Request.json() returns from now on, and FastAPI validates
                        request._json = parsed
            return await handler(request)

        return threaded
