"""``seccomp export``: write a profile as BPF, PFC or resolved OCI JSON."""
from __future__ import annotations

import argparse

from .common import CommandError, add_output_option, subcommand, warn, write_output
from .options import _compile, _profile_options, _resolved

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any


def add_export(sub: Any) -> None:
    """Register ``seccomp export``."""
    p = sub.add_parser(
        "export", help="write a profile as BPF, PFC, OCI JSON or another policy format",
        description="Resolve a profile for a target and write it: as the BPF program the "
                    "kernel loads (bpf, with the ENOSYS stub unless --no-enosys), "
                    "libseccomp's pseudo filter code (pfc, without the stub), the resolved "
                    "profile as OCI runtime-spec JSON (oci: also a kubelet localhost profile "
                    "file), or a Security Profiles Operator SeccompProfile resource "
                    "(seccompprofile, with --name), or a gosecco, minijail or seccompiler policy. "
                    "--bundle writes it into an OCI bundle's "
                    "config.json instead. Resolved for an unprivileged container's "
                    "capabilities unless --caps, --cap or --cap-drop say otherwise. Binary BPF "
                    "is not written to a terminal.",
        epilog="example (bubblewrap): seccomp export --format bpf -o filter.bpf && "
               "bwrap --seccomp 10 10<filter.bpf ...")
    _profile_options(p)
    p.add_argument("--format", choices=("bpf", "pfc", "oci", "seccompprofile", "gosecco",
                                        "minijail", "seccompiler"),
                   default="pfc", help="output format (default: %(default)s)")
    p.add_argument("--name", help="the SeccompProfile resource's name (--format seccompprofile)")
    p.add_argument("--namespace", help="the SeccompProfile resource's namespace")
    p.add_argument("--bundle", metavar="DIR",
                   help="write the resolved profile into DIR/config.json as linux.seccomp "
                        "(resolved for the capabilities the bundle gives its process unless "
                        "--caps, --cap or --cap-drop are given; unconfined removes it)")
    p.add_argument("--runtime", metavar="runc|crun|PATH",
                   help="with --bundle: leave out, with a warning, the fields this runtime "
                        "rejects (runc before 1.2: flags); its version is asked")
    p.add_argument("--arch", help="target architecture (default: this machine's)")
    p.add_argument("--kernel", metavar="MAJOR.MINOR",
                   help="target kernel version (default: the running kernel); for bpf, also "
                        "selects ENOSYS by that kernel's syscall table")
    add_output_option(p)
    p.set_defaults(func=_cmd_export)


@subcommand
def _cmd_export(args: argparse.Namespace) -> int:
    if args.bundle:
        return _export_bundle(args)
    if args.runtime:
        raise CommandError("--runtime goes with --bundle", 2)
    prof = _resolved(args, arch=args.arch, kernel=args.kernel)
    if prof is None:
        raise CommandError("'unconfined' has no filter to export (with --bundle it removes "
                           "linux.seccomp)")
    if args.policy is not None and args.format in ("oci", "seccompprofile"):
        from .policies import as_profile
        prof = as_profile(prof)
    if args.format == "oci":
        data: bytes = prof.to_json(oci=True).encode()
    elif args.format == "seccompprofile":
        if not args.name:
            raise CommandError("--format seccompprofile needs --name", 2)
        import json

        from ..profile import kubernetes
        resource = kubernetes.to_resource(prof, args.name, namespace=args.namespace)
        data = (json.dumps(resource, indent=2) + "\n").encode()
    elif args.format in ("gosecco", "minijail", "seccompiler"):
        from .. import policy
        pol = prof if args.policy is not None else policy.from_profile(prof)
        if args.format == "seccompiler":
            from dataclasses import replace
            pol = replace(pol, name=pol.name or args.thread or "main")
        data = policy.dumps(pol, args.format).encode()
    else:
        flt = _compile(args, prof, arch=args.arch, kernel=args.kernel)
        data = flt.export_bpf() if args.format == "bpf" else flt.export_pfc().encode()
        flt.release()
    write_output(args.output, data, binary=args.format == "bpf")
    return 0


def _export_bundle(args: argparse.Namespace) -> int:
    """``--bundle DIR``: the profile into DIR/config.json."""
    import warnings

    from ..profile import bundle

    config = bundle.read_config(args.bundle)
    if args.caps is None and not args.cap and not args.cap_drop and args.profile != "unconfined":
        args.bundle_caps = ",".join(sorted(bundle.bundle_caps(config))) or "none"
    prof = _resolved(args, arch=args.arch, kernel=args.kernel)
    if args.policy is not None:
        from .policies import as_profile
        prof = as_profile(prof)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", bundle.RuntimeFieldWarning)
        bundle.write_bundle(args.bundle, prof, runtime=args.runtime)  # already resolved
    for w in caught:
        warn(str(w.message))
    return 0
