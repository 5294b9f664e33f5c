"""JSON answers serialised in small pieces, in the handler's worker thread.

A model with thousands of items (an intent's volumes, a list of intents, track hits)
serialised in one pydantic call holds the GIL for hundreds of milliseconds, and the
event loop (health probes, every other request) waits that long. :func:`json_response`
writes the same JSON, but each long list item by item, so no single call holds the GIL
for long, and it does so in the thread that runs the handler rather than on the event
loop.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from fastapi import Response
from pydantic import BaseModel, TypeAdapter

#: Lists longer than this are written item by item.
_CHUNK = 32
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
