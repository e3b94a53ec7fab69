"""The prebuilt program of ``seccomp run -- CMD ARGS...``: the built-in default profile with
every option at its default, made and checked once, loaded directly while nothing that decides
it has changed.

Building that filter (reading and resolving the profile, libseccomp's program, its check
against the rules by the emulator, the ENOSYS stub) is most of the command's start-up. The
package build makes it once (``python -m seccomp.cli.prebuilt``, run by setup.py on the built
package) through the very path ``seccomp run`` takes (`seccomp.cli.options`: so it is checked
against its rules like every filter that leaves the library) and writes it beside the profile,
as ``seccomp/profile/default.prebuilt``, with the inputs that decided it:

- the profile's bytes (``default.json``, compared in full: an edited profile rebuilds);
- the package version, the libseccomp version in use and the one compiled against;
- libseccomp's API level (what the library and the running kernel support together);
- the native architecture;
- the capabilities the profile is resolved for (an unprivileged container's set);
- for each minimum kernel version the profile tests (read from the profile's bytes, not
  from the file), whether the running kernel has it.

``seccomp run -- CMD`` (nothing between ``run`` and ``--``) loads the prebuilt program only
when every one of these equals what this process would build with; any difference, a missing
or unreadable file, or another command line, and the filter is built as always. Why it is
trusted: it was made by this package's own code and checked for exactly these inputs, and it
lives inside the installed package, writable only by whoever can change the package's code.
A source checkout never has one (the build writes it into the built package only): code being
edited would leave it stale under an unchanged version.

File format: ASCII header lines ``KEY VALUE`` (inputs, then what the program needs to run:
``flags``, ``no-new-privs``, ``warning`` lines), an empty line, then the
profile's bytes and the BPF program (their lengths in ``profile`` and ``bpf``).
"""
from __future__ import annotations

import os

from .. import __version__, _core
from .._capabilities import CONTAINER_CAPS
from .._enums import Arch
from .._info import api_level, library_version, split_kernel_release

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Tuple

__all__ = ["Prebuilt", "PATH", "PROFILE_PATH", "inputs", "kernel_bounds", "load", "make",
           "read", "write"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Where the package build puts the prebuilt program.
PATH = os.path.join(_PACKAGE, "profile", "default.prebuilt")
#: The built-in default profile (`seccomp.profile.load("default")` reads this file).
PROFILE_PATH = os.path.join(_PACKAGE, "profile", "default.json")

_MAGIC = "seccomp prebuilt run program 1"
# The header keys that are inputs (compared), in file order; the profile's bytes are one too.
_INPUTS = ("package", "libseccomp", "compiled", "api", "arch", "caps", "kernel")
# The command line the program is made for: `seccomp run -- CMD` (options all at default).
_ARGV = ["run", "--", "true"]


class Prebuilt:
    """A prebuilt program and the warnings ``seccomp run`` prints while building it."""

    __slots__ = ("bpf", "flags", "no_new_privs", "warnings")

    def __init__(self, bpf: bytes, flags: int, no_new_privs: bool,
                 warnings: Tuple[str, ...]) -> None:
        self.bpf = bpf
        self.flags = flags
        self.no_new_privs = no_new_privs
        self.warnings = warnings

    def program(self) -> _core.Program:
        """The program, ready to load."""
        return _core.Program(self.bpf, self.flags, self.no_new_privs)


def _version(numbers: Iterable[int]) -> str:
    return ".".join(map(str, numbers))


def inputs(profile: bytes, release: Optional[str] = None) -> Dict[str, object]:
    """What decides the program here and now, for a default profile whose bytes are
    *profile*. *release*: the kernel release to answer the profile's minimum kernel versions
    for (default: the running kernel's, from uname)."""
    parsed = split_kernel_release(os.uname().release if release is None else release)
    bounds = kernel_bounds(profile)
    kernel = "unknown" if parsed is None or bounds is None else " ".join(
        "%d.%d:%s" % (b[0], b[1], "yes" if parsed[:2] >= b else "no") for b in bounds)
    return {
        "package": __version__,
        "libseccomp": _version(library_version()),
        "compiled": _version(_core.COMPILED_VERSION),
        "api": str(api_level()),
        "arch": str(Arch.native()),
        "caps": ",".join(sorted(CONTAINER_CAPS)),
        "kernel": kernel,
        "profile": profile,
    }


def kernel_bounds(profile: bytes) -> Optional[List[Tuple[int, int]]]:
    """The minimum kernel versions (``minKernel``) a profile's text tests, sorted, found
    without parsing the JSON (`make` checks that the profile's model finds the same); None
    when one is not plainly ``"MAJOR.MINOR"``."""
    key = b'"minKernel"'
    out = set()
    at = profile.find(key)
    while at >= 0:
        rest = profile[at + len(key):].lstrip()
        if rest[:1] == b":":
            rest = rest[1:].lstrip()
            value = rest[1:].partition(b'"')[0] if rest[:1] == b'"' else b""
            major, dot, minor = value.partition(b".")
            if not (dot and major.isdigit() and minor.isdigit()):
                return None
            out.add((int(major), int(minor)))
        at = profile.find(key, at + len(key))
    return sorted(out)


def write(path: str, key: Dict[str, object], prebuilt: Prebuilt) -> None:
    """Write *prebuilt*, made for the inputs *key* (see `inputs`), to *path* (replaced
    whole, never seen half-written)."""
    profile = key["profile"]
    assert isinstance(profile, bytes)
    lines = [_MAGIC] + ["%s %s" % (name, key[name]) for name in _INPUTS]
    lines += ["profile %d" % len(profile), "flags %d" % prebuilt.flags,
              "no-new-privs %d" % prebuilt.no_new_privs]
    lines += ["warning %s" % w for w in prebuilt.warnings]  # one line each (see make)
    lines += ["bpf %d" % len(prebuilt.bpf)]
    head = "\n".join(lines).encode("ascii") + b"\n\n"
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "wb") as fh:
        fh.write(head + profile + prebuilt.bpf)
    os.replace(tmp, path)


def read(path: str) -> Optional[Tuple[Dict[str, object], Prebuilt]]:
    """The inputs a prebuilt file was made for and its program; None when *path* is missing,
    unreadable or not such a file."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        head, sep, body = data.partition(b"\n\n")
        lines = head.decode("ascii").split("\n")
        if not sep or lines[0] != _MAGIC:
            return None
        fields: Dict[str, str] = {}
        warnings: List[str] = []
        for line in lines[1:]:
            name, _, value = line.partition(" ")
            if name == "warning":
                warnings.append(value)
            elif name in fields:
                return None
            else:
                fields[name] = value
        size, bpf_size = int(fields["profile"]), int(fields["bpf"])
        if size < 0 or bpf_size <= 0 or len(body) != size + bpf_size:
            return None
        key: Dict[str, object] = {name: fields[name] for name in _INPUTS}
        key["profile"] = body[:size]
        prebuilt = Prebuilt(body[size:], int(fields["flags"]), fields["no-new-privs"] == "1",
                            tuple(warnings))
    except (OSError, ValueError, KeyError):  # UnicodeDecodeError is a ValueError
        return None
    return key, prebuilt


def load(path: Optional[str] = None, release: Optional[str] = None) -> Optional[Prebuilt]:
    """The prebuilt program at *path* (default `PATH`) when it was made for exactly the inputs
    this process would build with (see `inputs`; *release* as there), else None: build it."""
    found = read(PATH if path is None else path)
    if found is None:
        return None
    key, prebuilt = found
    try:
        with open(PROFILE_PATH, "rb") as fh:
            profile = fh.read()
    except OSError:
        return None
    if inputs(profile, release) != key:
        return None
    return prebuilt


def make(path: str) -> Optional[Prebuilt]:
    """Build the program of ``seccomp run -- CMD`` as that command does (checked against its
    rules on the way) and write it to *path* with the inputs that decided it. Nothing is
    written (None returned) when that command would not simply load it and exec: the build
    raises an error or an unexpected warning, the profile needs a seccomp agent, or execve
    does not run under it (the command's own check, made here once for this program)."""
    import warnings

    from .. import profile as profile_
    from . import build_parser
    from .common import CommandError
    from .options import _compile, _resolved
    from .run import _check_exec_allowed

    args = build_parser(_ARGV).parse_args(_ARGV)
    with open(PROFILE_PATH, "rb") as fh:
        text = fh.read()
    rules = profile_.load(text).rules
    bounds = {m.min_kernel for r in rules for m in (r.includes, r.excludes) if m.min_kernel}
    if kernel_bounds(text) != sorted(bounds):  # `load` would never find it made for it
        return None
    key = inputs(text)
    said: List[str] = []
    with warnings.catch_warnings(record=True) as other:
        warnings.simplefilter("always")
        prof = _resolved(args)
        flt = _compile(args, prof, no_new_privs=True, report=said.append)
        try:
            program = flt.compile()
        finally:
            flt.release()
    if other or program.flags & _core.FILTER_FLAGS["NEW_LISTENER"] or any("\n" in w for w in said):
        return None
    try:
        _check_exec_allowed(program.bpf, _ARGV[-1])
    except CommandError:
        return None
    prebuilt = Prebuilt(program.bpf, program.flags, program.no_new_privs, tuple(said))
    write(path, key, prebuilt)
    return prebuilt


def main() -> int:
    """``python -m seccomp.cli.prebuilt``: make the prebuilt program of this package (the
    package build runs it on the built package; refused in a source checkout)."""
    import sys

    if os.path.exists(os.path.join(os.path.dirname(_PACKAGE), "setup.py")):
        print("seccomp.cli.prebuilt: %s is a source checkout: the prebuilt program is made "
              "in a built package only" % _PACKAGE, file=sys.stderr)
        return 1
    try:
        made = make(PATH)
    except Exception as exc:  # noqa: BLE001 - the package works without it: say why, go on
        made, why = None, "%s: %s" % (type(exc).__name__, exc)
    else:
        why = "its build warned, or it needs a seccomp agent"
    if made is None:
        print("seccomp.cli.prebuilt: not made (%s): `seccomp run` builds its filter at each "
              "start" % why, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
