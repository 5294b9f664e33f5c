"""A minimal PX4 ULog writer for tests (header, flag bits, formats, subscriptions, data)."""

from __future__ import annotations

import struct
from pathlib import Path

_TYPES = {"uint64_t": "Q", "double": "d", "float": "f", "int32_t": "i", "uint8_t": "B"}


def _msg(kind: bytes, payload: bytes) -> bytes:
    return struct.pack("<HB", len(payload), kind[0]) + payload


def write_ulog(path: Path, topics: dict[str, tuple[list[tuple[str, str]], list[tuple]]]) -> Path:
    """Write ``topics``: name -> (fields [(type, name)], rows); the first field is the uint64 timestamp."""
    out = bytearray(b"ULog\x01\x12\x35" + bytes([1]) + struct.pack("<Q", 0))
    out += _msg(b"B", bytes(16) + struct.pack("<3Q", 0, 0, 0))
    for name, (fields, _) in topics.items():
        fmt = f"{name}:" + "".join(f"{t} {n};" for t, n in fields)
        out += _msg(b"F", fmt.encode())
    for msg_id, name in enumerate(topics):
        out += _msg(b"A", struct.pack("<BH", 0, msg_id) + name.encode())
    rows = []
    for msg_id, (fields, data) in enumerate(topics.values()):
        code = "<" + "".join(_TYPES[t] for t, _ in fields)
        rows += [(r[0], msg_id, struct.pack(code, *r)) for r in data]
    for _, msg_id, payload in sorted(rows, key=lambda r: r[0]):
        out += _msg(b"D", struct.pack("<H", msg_id) + payload)
    path.write_bytes(bytes(out))
    return path
