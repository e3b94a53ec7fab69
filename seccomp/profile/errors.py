"""The profile error (where in the profile, and what is wrong there) and the checks of JSON
value types that raise it."""
from __future__ import annotations

from .._errors import ProfileError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, List

__all__ = ["ProfileError"]


_U64 = 0xFFFFFFFFFFFFFFFF


def _join(base: str, key: str) -> str:
    if key.startswith("["):
        return base + key
    return "%s.%s" % (base, key) if base else key


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _list(value: Any, place: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProfileError(place, "expected an array, not %s" % _json_type(value))
    return value


def _string(value: Any, place: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(place, "expected a string, not %s" % _json_type(value))
    return value


def _uint(value: Any, place: str, limit: int = _U64) -> int:
    if isinstance(value, float):
        raise ProfileError(place, "expected a whole number, not %r" % value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProfileError(place, "expected a number, not %s" % _json_type(value))
    if not 0 <= value <= limit:
        raise ProfileError(place, "%d is out of range 0..%d" % (value, limit))
    return value

