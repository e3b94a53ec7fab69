"""The documentation site (docs/, Sphinx) builds without a warning, documents every public
name, shows Filter's signature without private base classes, and its command reference is
generated from the command's parser."""
import importlib
import os
import re
import subprocess
import sys
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The public modules: each name in their __all__ must be in the documentation.
PUBLIC_MODULES = ["seccomp", "seccomp.bpf", "seccomp.notify", "seccomp.profile",
                  "seccomp.policy", "seccomp.record", "seccomp.dump",
                  "seccomp.profile.container", "seccomp.profile.bundle",
                  "seccomp.profile.kubernetes", "seccomp.bpf.enosys", "seccomp.bpf.diff"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx", reason="Sphinx is not installed (tools/setup.sh installs it)")
    out = tmp_path_factory.mktemp("html")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                           os.path.join(ROOT, "docs"), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _text(path):
    return re.sub(r"<[^>]+>", "", path.read_text())


def test_docs_build_without_warnings(site):
    api = (site / "api.html").read_text()
    for name in ("Filter", "SyscallFilter", "Supervisor", "evaluate", "ProfileFilter"):
        assert name in api, name


def test_every_public_name_is_documented(site):
    from sphinx.util.inventory import InventoryFile

    with open(site / "objects.inv", "rb") as fh:
        inventory = InventoryFile.load(fh, "", lambda base, uri: uri)
    documented = {name for kind, objects in inventory.items() if kind.startswith("py:")
                  for name in objects}
    missing = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):  # `errno`, for `from seccomp import *`
                continue
            # documented where it is public, or under its own home (seccomp.Notification is
            # seccomp.notify.Notification)
            places = {module_name + "." + name}
            home, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
            if isinstance(home, str) and isinstance(qualname, str):
                places.add(home + "." + qualname)
            if not places & documented:
                missing.append(module_name + "." + name)
    assert not missing, "public names missing from docs/: %s" % ", ".join(missing)


def test_filter_signature_shown_and_no_private_bases(site):
    api = _text(site / "api.html")
    assert re.search(r"class seccomp\.Filter\(default_action,\s*\*,\s*tsync=True\)", api)
    bases = re.findall(r"Bases: ([^\n]*)", api)
    private = [b for b in bases if re.search(r"(^|[\s,.])_|Context", b)]
    assert not private, private


def test_command_reference_is_generated_from_the_parser(site):
    from seccomp.cli import build_parser

    page = _text(site / "cli.html")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, subparser in sub.choices.items():
        assert "seccomp " + name in page, name
        for action in subparser._actions:
            for option in action.option_strings:
                assert option in page, (name, option)


def test_pydoc_reads_well():
    done = subprocess.run([sys.executable, "-m", "pydoc", "seccomp.Filter"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for text in ("default action", "add_rule", "export_bpf", "simulate", "tsync"):
        assert text in done.stdout, text
