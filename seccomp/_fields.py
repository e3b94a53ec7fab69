"""Value classes without the dataclasses module: importing it (and inspect, which it imports)
is a good part of the `seccomp` command's start-up.

A subclass lists its ``__slots__`` (the fields, in order) and writes its own ``__init__``; it
gets what ``@dataclass`` would give it: equality by field values (except the fields named in
``_uncompared``) between instances of the same class, a repr naming every field, and
``dataclasses.replace``/``fields`` (the dataclasses module is imported when they ask). A
`Frozen` subclass is immutable and hashable, as a frozen dataclass."""
from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, Optional, Tuple, Type, TypeVar

    _Self = TypeVar("_Self", bound="Fields")

__all__ = ["Fields", "Frozen"]


class _DataclassFields:
    """The class's ``__dataclass_fields__``, made by the dataclasses module when first asked
    for (what ``dataclasses.replace``, ``fields`` and ``is_dataclass`` look at)."""

    def __get__(self, obj: object, cls: "Type[Fields]") -> "Dict[str, Any]":
        fields: "Optional[Dict[str, Any]]" = cls.__dict__.get("_dataclass_fields")
        if fields is None:
            import dataclasses

            made = dataclasses.make_dataclass(cls.__name__, [
                (name, "Any", dataclasses.field(compare=name not in cls._uncompared))
                for name in cls.__slots__])
            fields = getattr(made, "__dataclass_fields__")
            type.__setattr__(cls, "_dataclass_fields", fields)
        return fields


class Fields:
    """A mutable value class (see the module's docstring); not hashable."""

    __slots__: "Tuple[str, ...]" = ()
    #: Fields left out of equality (and hashing).
    _uncompared: "Tuple[str, ...]" = ()
    _compared: "Tuple[str, ...]" = ()
    __dataclass_fields__ = _DataclassFields()
    __hash__ = None  # type: ignore[assignment]

    def __init_subclass__(cls, **kwargs: "Any") -> None:
        super().__init_subclass__(**kwargs)
        cls._compared = tuple(n for n in cls.__slots__ if n not in cls._uncompared)

    def _values(self) -> "Tuple[Any, ...]":
        return tuple([getattr(self, n) for n in self._compared])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined,unused-ignore]
        return NotImplemented

    def __repr__(self) -> str:
        return "%s(%s)" % (type(self).__qualname__, ", ".join(
            "%s=%r" % (n, getattr(self, n)) for n in self.__slots__))

    def __reduce__(self) -> "Tuple[Any, ...]":
        return type(self), tuple([getattr(self, n) for n in self.__slots__])

    def _replace(self: "_Self", **changes: "Any") -> "_Self":
        """A copy with *changes* (what ``dataclasses.replace`` does)."""
        values = {n: getattr(self, n) for n in self.__slots__}
        values.update(changes)
        return type(self)(**values)


class Frozen(Fields):
    """An immutable, hashable value class (see the module's docstring). Its ``__init__``
    sets the fields with ``object.__setattr__``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("cannot assign to field %r of %s: it is immutable"
                             % (name, type(self).__name__))

    def __delattr__(self, name: str) -> None:
        raise AttributeError("cannot delete field %r of %s: it is immutable"
                             % (name, type(self).__name__))

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())
