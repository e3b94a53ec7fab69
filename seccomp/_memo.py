"""A cache for pure functions of hashable arguments, as ``functools.lru_cache`` gives, without
importing functools (its import is about as dear as the emulator's, and `seccomp record` loads
both while its command runs). When full, the cache is emptied rather than trimmed."""
from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

    _F = TypeVar("_F", bound=Callable[..., Any])

__all__ = ["memo"]


def memo(maxsize: Optional[int]) -> "Callable[[_F], _F]":
    """Decorate a function to remember its results by positional arguments, up to *maxsize*
    of them (None: no bound). Calls with keyword arguments are not cached; exceptions are not
    remembered."""
    def wrap(fn: "_F") -> "_F":
        cache: Dict[Tuple[Any, ...], Any] = {}

        def cached(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                return fn(*args, **kwargs)
            try:
                return cache[args]
            except KeyError:
                pass
            value = fn(*args)
            if maxsize is not None and len(cache) >= maxsize:
                cache.clear()
            cache[args] = value
            return value

        cached.__name__ = fn.__name__
        cached.__qualname__ = fn.__qualname__
        cached.__doc__ = fn.__doc__
        cached.__module__ = fn.__module__
        cached.__wrapped__ = fn  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]
    return wrap
