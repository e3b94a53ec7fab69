"""The public surface of `Filter` and `SyscallFilter` is exactly the documented one: one name
per operation (the compiled core's raw calls are private), and errors name the public class."""
import os
import subprocess

import pytest

import seccomp
from seccomp import Action, Filter, SyscallFilter

# docs/api.rst documents Filter with all its members (inherited ones included).
FILTER_NAMES = {
    # rules
    "add_rule", "add_rule_exact", "syscall_priority", "merge", "reset", "transaction",
    # architectures
    "add_arch", "remove_arch", "has_arch", "arches",
    # output and loading
    "export_bpf", "export_pfc", "compile", "load", "precompute", "simulate", "notify_fd",
    # life cycle and state
    "release", "released", "has_notify_rules", "tsync_refused",
    # attributes as properties
    "default_action", "bad_arch_action", "no_new_privs", "tsync", "log", "ssb", "optimize",
    "raw_rc", "api_tskip", "wait_kill",
}
# libseccomp's own module's SyscallFilter (2.5 and 2.6: export_bpf_mem, precompute and the
# transaction calls came with 2.6).
MODULE_NAMES = {
    "add_arch", "add_rule", "add_rule_exactly", "exist_arch", "export_bpf", "export_pfc",
    "get_attr", "get_notify_fd", "load", "merge", "receive_notify", "remove_arch", "reset",
    "respond_notify", "set_attr", "syscall_priority", "export_bpf_mem", "precompute",
    "start_transaction", "commit_transaction", "reject_transaction",
}
# What SyscallFilter documents besides: it is a Filter, and answers notifications by id/addfd.
SYSCALLFILTER_NAMES = FILTER_NAMES | MODULE_NAMES | {"notify_id_valid", "notify_addfd"}


def _public(cls):
    return {name for name in dir(cls) if not name.startswith("_")}


def test_filter_has_exactly_the_documented_names():
    assert _public(Filter) == FILTER_NAMES


def test_syscall_filter_has_that_modules_names_and_the_documented_ones():
    assert _public(SyscallFilter) == SYSCALLFILTER_NAMES


def test_every_public_name_has_a_docstring():
    for cls in (Filter, SyscallFilter):
        for name in _public(cls):
            assert getattr(cls, name).__doc__, "%s.%s" % (cls.__name__, name)


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="no system interpreter")
def test_module_names_are_those_of_libseccomps_module():
    done = subprocess.run(["/usr/bin/python3", "-c", "import seccomp; print(' '.join(n for n in "
                           "dir(seccomp.SyscallFilter) if not n.startswith('_')))"],
                          capture_output=True, text=True, cwd="/", timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    if done.returncode != 0 or "Filter" in done.stdout:
        pytest.skip("libseccomp's module (python3-seccomp) is not installed")
    assert set(done.stdout.split()) <= MODULE_NAMES


@pytest.mark.parametrize("call", [
    lambda f: Filter.add_rule(),
    lambda f: Filter.add_rule(1, Action.ALLOW, "read"),
    lambda f: Filter.release(None),
    lambda f: SyscallFilter(Action.ALLOW).merge(None),
    lambda f: f.merge(None),
    lambda f: f.merge(3),
    lambda f: f.add_rule(),
    lambda f: f.syscall_priority("read"),
])
def test_errors_name_the_public_class(call):
    f = Filter(Action.ALLOW)
    try:
        with pytest.raises(TypeError) as info:
            call(f)
    finally:
        f.release()
    message = str(info.value)
    assert "Context" not in message and "_core" not in message, message


def test_merge_names_what_it_takes():
    f = seccomp.Filter(Action.ALLOW)
    with pytest.raises(TypeError, match="merge\\(\\) takes a Filter, not NoneType"):
        f.merge(None)
    f.release()
