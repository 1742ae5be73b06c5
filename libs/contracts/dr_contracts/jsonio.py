"""Fast JSON (orjson) for every wire and log payload."""

from __future__ import annotations

from typing import Any

import orjson


def dumps(obj: Any) -> bytes:
    """Serialise to compact UTF-8 JSON; datetimes become ISO 8601 with zone."""
    return orjson.dumps(obj, option=orjson.OPT_UTC_Z)


def loads(data: bytes | str) -> Any:
    """Parse JSON strictly (NaN and Infinity are not JSON and are refused)."""
    return orjson.loads(data)
