"""``seccomp info``: what this host supports, as JSON."""
from __future__ import annotations

import argparse
import os

from .. import _core
from .._enums import Action, Arch, Op
from .._info import action_available, api_level, library_version
from .common import out, subcommand

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict


def add_info(sub: Any) -> None:
    """Register ``seccomp info``."""
    p = sub.add_parser(
        "info", help="library version, API level, the kernel's actions and flags (JSON)",
        description="Print what this host supports as JSON: libseccomp's version and API "
                    "level, and a 'seccomp' object in the shape of the OCI runtime-spec "
                    "features.json (actions, operators, archs, knownFlags, supportedFlags).")
    p.set_defaults(func=_cmd_info)


def info() -> Dict[str, Any]:
    """What this host supports, as data (the output of ``seccomp info``)."""
    from .. import profile

    actions = [name for name, act in sorted(profile.model.ACTIONS.items())
               if _safe_available(act)]
    seccomp_obj = {
        "enabled": _seccomp_enabled(),
        "actions": actions,
        "operators": ["SCMP_CMP_" + op.name for op in Op],
        "archs": ["SCMP_ARCH_" + str(a).upper() for a in Arch.known()],
        "knownFlags": list(profile.FLAGS),
        "supportedFlags": [f for f in profile.FLAGS if _flag_supported(f)],
    }
    return {
        "libseccomp": {"version": ".".join(map(str, library_version())),
                       "compiledVersion": ".".join(map(str, _core.COMPILED_VERSION)),
                       "apiLevel": api_level()},
        "nativeArch": str(Arch.native()),
        "kernel": os.uname().release,
        "seccomp": seccomp_obj,
        "profiles": list(profile.builtin_profiles()),
        "groups": sorted(profile.GROUPS),
    }


@subcommand
def _cmd_info(args: argparse.Namespace) -> int:
    import json

    out(json.dumps(info(), indent=2) + "\n")
    return 0


def _safe_available(action: Action) -> bool:
    try:
        return action_available(action)
    except _core.SeccompError:
        return False


def _seccomp_enabled() -> bool:
    try:
        with open("/proc/self/status") as fh:
            return any(line.startswith("Seccomp:") for line in fh)
    except OSError:
        return False


def _flag_supported(flag: str) -> bool:
    """Whether the running kernel accepts an OCI flag name (SECCOMP_FILTER_FLAG_...)."""
    return _core.filter_flags_available(_core.FILTER_FLAGS[flag[len("SECCOMP_FILTER_FLAG_"):]])
