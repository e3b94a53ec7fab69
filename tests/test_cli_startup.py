"""Start-up of the `seccomp` command: a subcommand loads only what it needs, and the parser
that registers only the subcommand named first parses exactly as the full one."""
import json
import os
import subprocess
import sys

import pytest

from seccomp.cli import SUBCOMMANDS, build_parser

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One valid command line per subcommand, with options where the subcommand has them.
SAMPLES = {
    "run": ["run", "--deny", "ptrace", "--cap", "CAP_SYS_ADMIN", "--", "true", "-x"],
    "export": ["export", "--arch", "x86_64", "--format", "pfc"],
    "resolve": ["resolve", "--arch", "aarch64", "read"],
    "info": ["info"],
    "disasm": ["disasm", "f.bpf"],
    "check": ["check", "f.bpf"],
    "explain": ["explain", "f.bpf"],
    "asm": ["asm", "f.s"],
    "record": ["record", "-o", "x.json", "--args", "--", "true"],
    "dump": ["dump", "1"],
    "diff": ["diff", "a", "b"],
}


def test_every_subcommand_has_a_sample():
    assert sorted(SAMPLES) == sorted(name for name, _ in SUBCOMMANDS)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_parser_of_one_subcommand_parses_as_the_full_one(name):
    argv = SAMPLES[name]
    alone = build_parser(argv)
    sub = next(a for a in alone._actions if a.dest == "command")
    assert list(sub.choices) == [name]  # only the subcommand named first is registered
    assert vars(alone.parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_the_full_parser_lists_every_subcommand():
    for argv in (None, [], ["--help"], ["nosuch"], ["--version"]):
        sub = next(a for a in build_parser(argv)._actions if a.dest == "command")
        assert list(sub.choices) == [name for name, _ in SUBCOMMANDS]


def _modules_at_exec(args, prefix="seccomp"):
    """The modules (named from *prefix*) a `seccomp` command has imported when it execs its
    command or returns (run in a child: `run` loads its filter there)."""
    code = (
        "import json, os, sys\n"
        "from seccomp.cli import main\n"
        "def execv(path, argv):\n"
        "    print(json.dumps(sorted(m for m in sys.modules if m.startswith(%r))))\n"
        "    sys.stdout.flush()\n"
        "    os._exit(0)\n"
        "os.execv = execv\n"
        "main(%r)\n"
        "execv(None, None)\n" % (prefix, args))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout))


# Modules whose import is a good part of a command's start-up, which the library's value
# classes and annotations do without (seccomp.bpf.expr: only rules computed with BPF's
# registers need it).
_HEAVY = {"typing", "dataclasses", "inspect", "seccomp.bpf.expr"}


@pytest.mark.parametrize("args", [["run", "--", "true"], ["run", "--deny", "ptrace", "--", "true"],
                                  ["record", "-o", "/dev/null", "--", "true"],
                                  ["export", "--format", "bpf", "-o", "/dev/null"]])
def test_commands_do_without_heavy_modules(args):
    # what the bare interpreter already imports at start-up (a machine's site hooks may load
    # typing, say) is not the command's doing
    bare = subprocess.run([sys.executable, "-c", "import json, sys; "
                           "print(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, timeout=60, check=True)
    added = _modules_at_exec(args, prefix="") - set(json.loads(bare.stdout))
    assert not added & _HEAVY


def test_run_loads_only_what_it_needs():
    modules = _modules_at_exec(["run", "--", "true"])
    assert {"seccomp.cli.run", "seccomp.profile", "seccomp.bpf.model"} <= modules
    # not the other subcommands, the policy readers, the explainer or the assembler
    others = {"seccomp.cli." + module for name, module in SUBCOMMANDS if module != "run"}
    unneeded = others | {"seccomp.policy", "seccomp.bpf.analysis", "seccomp.bpf.asm",
                         "seccomp.notify", "seccomp.record"}
    assert not modules & unneeded


def test_importing_the_cli_does_not_import_argparse():
    # a command line in the simple forms some subcommands parse themselves needs no argparse
    code = ("import sys; before = 'argparse' in sys.modules; import seccomp.cli; "
            "print(before, 'argparse' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True)
    if out.stdout.split()[0] == "True":
        pytest.skip("this interpreter imports argparse at start-up")
    assert out.stdout.split() == ["False", "False"]


def test_the_installed_command_is_the_plain_script():
    # scripts/seccomp, installed as the `seccomp` command, imports nothing but sys before main
    # (the wrapper of an entry point would import re first)
    script = os.path.join(ROOT, "scripts", "seccomp")
    with open(script, encoding="utf-8") as fh:
        imports = [line.strip() for line in fh if line.lstrip().startswith(("import ", "from "))]
    assert imports == ["import sys", "from seccomp.cli import main"]
    out = subprocess.run([sys.executable, script, "--version"], capture_output=True, text=True,
                         timeout=60, env=dict(os.environ, PYTHONPATH=ROOT))
    assert out.returncode == 0 and out.stdout.startswith("seccomp "), out.stderr
