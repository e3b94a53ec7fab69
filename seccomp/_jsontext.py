"""JSON text as ``json.dumps(value, indent=...)`` writes it (ASCII, the same escapes, the same
layout), without importing the json module: it imports re, and re enum, which together cost
more than building and checking a recorded profile (`seccomp record` writes one per run).

For the values profiles and policies are made of: dicts with str keys, lists and tuples, str,
int (bool too), float and None; anything else is a TypeError, as for json.dumps."""
from __future__ import annotations

try:
    from _json import encode_basestring_ascii as _quote  # the json module's own escaping
except ImportError:  # an interpreter without the accelerator
    from json.encoder import encode_basestring_ascii as _quote

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Collection, Iterable, List, Optional

__all__ = ["dumps"]


def dumps(value: Any, indent: Optional[int] = None) -> str:
    """*value* as JSON text: what ``json.dumps(value, indent=indent)`` returns."""
    parts: List[str] = []
    _write(value, parts, None if indent is None else " " * indent, "\n")
    return "".join(parts)


def _write(value: Any, out: List[str], step: Optional[str], newline: str) -> None:
    if isinstance(value, str):
        out.append(_quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, dict):
        _write_items((_key(k) for k in value), value.values(), "{}", out, step, newline)
    elif isinstance(value, (list, tuple)):
        _write_items(("" for _ in value), value, "[]", out, step, newline)
    else:
        raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


def _write_items(heads: Iterable[str], items: Collection[Any], brackets: str,
                 out: List[str], step: Optional[str], newline: str) -> None:
    """An object or array: each of *items* after its head (``"key": `` or nothing)."""
    if not items:
        out.append(brackets)
        return
    inner = newline + step if step is not None else ""
    out.append(brackets[0] + inner)
    comma = "," + inner if step is not None else ", "
    for i, (head, item) in enumerate(zip(heads, items)):
        if i:
            out.append(comma)
        out.append(head)
        _write(item, out, step, inner or newline)
    out.append(newline + brackets[1] if step is not None else brackets[1])


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError("keys must be str, not %s" % type(key).__name__)
    return _quote(key) + ": "


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
