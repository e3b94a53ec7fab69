"""``seccomp export``: write a profile as BPF, PFC or resolved OCI JSON."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from .options import _compile, _profile_options, _resolved


def add_export(sub: Any) -> None:
    """Register ``seccomp export``."""
    p = sub.add_parser(
        "export", help="write a profile as BPF, PFC or resolved OCI JSON",
        description="Resolve a profile for a target and write it: as the BPF program the "
                    "kernel loads (bpf), libseccomp's pseudo filter code (pfc), or the "
                    "resolved profile as OCI runtime-spec JSON (oci). Resolved for an "
                    "unprivileged container's capabilities unless --cap adds some.")
    _profile_options(p)
    p.add_argument("--format", choices=("bpf", "pfc", "oci"), default="pfc",
                   help="output format (default: %(default)s)")
    p.add_argument("--arch", help="target architecture (default: this machine's)")
    p.add_argument("--kernel", metavar="MAJOR.MINOR",
                   help="target kernel version (default: the running kernel)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    prof = _resolved(args, arch=args.arch, kernel=args.kernel)
    if args.format == "oci":
        data: bytes = prof.to_json(oci=True).encode()
    else:
        flt = _compile(args, prof, arch=args.arch)
        data = flt.export_bpf() if args.format == "bpf" else flt.export_pfc().encode()
        flt.release()
    if args.output:
        try:
            with open(args.output, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            print("seccomp export: cannot write %s: %s" % (args.output, exc.strerror),
                  file=sys.stderr)
            return 1
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0
