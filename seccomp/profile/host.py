"""The target a profile is resolved for: capability names and sets, the host's own
capabilities and kernel version."""
from __future__ import annotations

import errno as _errno
import os

from .._capabilities import CAPABILITIES, CONTAINER_CAPS
from .._core import InvalidArgumentError
from .._info import split_kernel_release
from .errors import ProfileError, _string

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, FrozenSet, Iterable, Set, Tuple

__all__ = ["CAPABILITIES", "CONTAINER_CAPS", "parse_caps", "host_caps", "host_kernel",
           "unknown_capability"]

_CAP_SET = frozenset(CAPABILITIES)


def parse_caps(caps: Iterable[str]) -> FrozenSet[str]:
    """Capability names normalised to ``CAP_SYS_ADMIN`` form (``sys_admin`` is accepted);
    ``ALL`` stands for every capability. A name that is not a Linux capability raises
    InvalidArgumentError (a ValueError) saying which, with the nearest real name."""
    if isinstance(caps, str):
        caps = (caps,)
    out: Set[str] = set()
    for c in caps:
        if not isinstance(c, str):
            raise InvalidArgumentError(_errno.EINVAL, "a capability is a name such as "
                                                      "CAP_SYS_ADMIN, not %r" % (c,))
        name = c.strip().upper()
        if name == "ALL":
            out.update(CAPABILITIES)
            continue
        if not name.startswith("CAP_"):
            name = "CAP_" + name
        if name not in _CAP_SET:
            raise InvalidArgumentError(_errno.EINVAL, unknown_capability(c))
        out.add(name)
    return frozenset(out)


def unknown_capability(name: str) -> str:
    """The message for a capability name that does not exist, with the nearest real one."""
    import difflib

    upper = name.strip().upper()
    guess = difflib.get_close_matches(upper if upper.startswith("CAP_") else "CAP_" + upper,
                                      CAPABILITIES, n=1, cutoff=0.8)
    return "unknown capability %r%s" % (name, " (did you mean %s?)" % guess[0] if guess else "")


def host_caps() -> FrozenSet[str]:
    """This process's effective capabilities (from /proc/self/status). Profiles resolve for
    them only when asked: ``profile.resolve(caps=host_caps())``."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    mask = int(line.split()[1], 16)
                    return frozenset(c for i, c in enumerate(CAPABILITIES) if mask >> i & 1)
    except OSError:
        pass
    return frozenset()


def host_kernel() -> Tuple[int, int]:
    """The running kernel's (major, minor) version."""
    return _kernel_version(os.uname().release, "kernel")


def _kernel_version(value: Any, place: str) -> Tuple[int, int]:
    if isinstance(value, tuple) and len(value) >= 2 and all(isinstance(v, int) for v in value):
        return (value[0], value[1])
    text = _string(value, place)
    parsed = split_kernel_release(text.strip())
    # a kernel to resolve for may be a whole release ("6.1.0-13-amd64"); minKernel is a version
    if parsed is None or (place != "kernel" and parsed[2]):
        raise ProfileError(place, "invalid kernel version %r (expected \"MAJOR.MINOR\")" % text)
    return parsed[:2]

