"""Why an input was refused, in words a person can act on.

Every parser in this package raises `Rejected` with a stable machine `code`
(counted in metrics and stored in `ingest.rejected`), the `field` concerned
when there is one, and a human `message` naming what was wrong.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from dr_contracts import jsonio
from dr_contracts.topics import MAX_PAYLOAD_BYTES


class Rejected(ValueError):
    """Input that does not meet the contract."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.field = field

    @property
    def reason(self) -> str:
        """One line: code, field and message."""
        where = f" [{self.field}]" if self.field else ""
        return f"{self.code}{where}: {self.message}"


_PYDANTIC_CODES = {
    "missing": "missing_field",
    "extra_forbidden": "unknown_field",
    "finite_number": "not_finite",
    "greater_than": "out_of_range",
    "greater_than_equal": "out_of_range",
    "less_than": "out_of_range",
    "less_than_equal": "out_of_range",
    "string_too_long": "too_long",
    "string_too_short": "too_short",
    "literal_error": "invalid_value",
    "enum": "invalid_value",
    "too_long": "too_long",
}


def from_validation_error(err: ValidationError, prefix: str = "") -> Rejected:
    """Turn the first pydantic error into a specific Rejected (field path + reason)."""
    first = err.errors(include_url=False)[0]
    field = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "") or None
    kind = str(first["type"])
    code = _PYDANTIC_CODES.get(kind)
    if code is None:
        code = "wrong_type" if kind.endswith(("_type", "_parsing")) else "invalid_value"
    got = first.get("input")
    detail = first["msg"]
    if code != "missing_field":
        detail = f"{detail} (got {_short(got)})"
    return Rejected(code, detail, field)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def decode_object(raw: bytes, max_bytes: int = MAX_PAYLOAD_BYTES) -> dict[str, Any]:
    """Bytes from the wire -> a JSON object, or Rejected saying why not."""
    if len(raw) > max_bytes:
        raise Rejected("too_large", f"payload is {len(raw)} bytes; the limit is {max_bytes}")
    if not raw.strip():
        raise Rejected("empty", "payload is empty")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("invalid_utf8", f"payload is not UTF-8 (byte {exc.start})") from None
    try:
        value = jsonio.loads(text)
    except ValueError as exc:
        raise _json_error(text, exc) from None
    if not isinstance(value, dict):
        raise Rejected("not_object", f"payload must be a JSON object, got {_json_kind(value)}")
    return value


def _json_error(text: str, exc: ValueError) -> Rejected:
    """Tell NaN/Infinity (which lenient encoders emit) apart from plain syntax errors."""
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return Rejected("invalid_json", f"payload is not JSON: {exc}")
    token = next((t for t in ("-Infinity", "Infinity", "NaN") if t in text), "a non-finite number")
    return Rejected("not_finite", f"payload contains {token}, which JSON does not allow")


def _json_kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
