"""Deferred rules (src_c/_core.pyx, `_Deferred`): a rule whose outcome in libseccomp is known
is kept and given to libseccomp by the first operation that needs its context. The filter must
behave exactly as one that gives every rule at once: the same exception at the same call for
every sequence of operations, the same BPF and PFC from libseccomp, the same rule log."""
import errno
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seccomp
from seccomp import Action, Arch, Attr, Cond, Filter, Op, SyscallFilter

from childproc import in_child

NATIVE = Arch.native()
DEFERS = NATIVE in (Arch.X86_64, Arch.AARCH64, Arch.RISCV64)
OTHER_ARCH = Arch.X86 if NATIVE != Arch.X86 else Arch.ARM
needs_deferral = pytest.mark.skipif(not DEFERS, reason="rules are deferred only on x86_64, "
                                    "aarch64, riscv64 and the like (not on %s)" % NATIVE)

ACTIONS = [Action.ALLOW, Action.KILL_THREAD, Action.TRAP, Action.ERRNO(1), Action.ERRNO(2),
           Action.ERRNO(4094), Action.ERRNO(4095), Action.ERRNO(60000), Action.TRACE(3),
           Action.LOG, Action.KILL_PROCESS, Action.NOTIFY]
SYSCALLS = ["read", "write", "openat", "getpid", "socket", "socketcall", "ipc", 0, 1, 39, 500,
            1023, 1024, 5000, -1, -7, -150, "nosuchcall"]
conds = st.builds(Cond, st.integers(0, 2), st.sampled_from(list(Op)),
                  st.sampled_from([0, 1, 7, 0xFFFFFFFF, 0x100000000, 2**64 - 1]),
                  st.sampled_from([0, 1, 0x100000000]))
operations = st.one_of(
    st.tuples(st.just("rule"), st.sampled_from(ACTIONS), st.sampled_from(SYSCALLS),
              st.lists(conds, max_size=2), st.booleans()),
    # few values, so that rules meet: the same syscall, condition, other action (EEXIST)
    st.tuples(st.just("rule"), st.sampled_from(ACTIONS[:4]), st.sampled_from(["read", 1]),
              st.lists(st.sampled_from([Cond(0, Op.EQ, 1), Cond(1, Op.EQ, 1)]), max_size=1),
              st.booleans()),
    st.tuples(st.just("arch"), st.sampled_from(["add", "remove"]),
              st.sampled_from([OTHER_ARCH, NATIVE])),
    st.tuples(st.just("attr"), st.sampled_from([Attr.CTL_NNP, Attr.API_TSKIP, Attr.ACT_BADARCH,
                                                Attr.ACT_DEFAULT, Attr.CTL_TSYNC]),
              st.sampled_from([0, 1, int(Action.ALLOW), int(Action.ERRNO(1))])),
    st.tuples(st.just("priority"), st.sampled_from(SYSCALLS[:8]), st.integers(0, 255)),
    st.tuples(st.just("transaction"), st.sampled_from(["start", "commit", "reject"])),
    st.tuples(st.just("merge"), st.sampled_from(["read", "getpid", 39, 1023])),
    st.tuples(st.just("export"), st.sampled_from(["bpf", "pfc", "checked"])),
    st.tuples(st.just("reset"), st.sampled_from([None, Action.ALLOW, Action.ERRNO(1)])),
    st.tuples(st.just("release")),
)


def _merge_partner(cls, eager, default, syscall):
    other = cls(default)
    if eager:
        other._never_defer()
    other._arch_add(OTHER_ARCH, True)
    other._arch_remove(NATIVE, True)
    other.add_rule(Action.ERRNO(5), syscall)
    return other


def _apply(flt, op, eager, cls, default):
    """One operation on *flt*; its result or (exception type, message)."""
    kind = op[0]
    try:
        if kind == "rule":
            _, action, syscall, cs, exact = op
            (flt.add_rule_exact if exact else flt.add_rule)(action, syscall, *cs)
        elif kind == "arch":
            (flt._arch_add if op[1] == "add" else flt._arch_remove)(op[2])
        elif kind == "attr":
            flt._attr_set(op[1], op[2])
        elif kind == "priority":
            flt.syscall_priority(op[1], op[2])
        elif kind == "transaction":
            getattr(flt, "_transaction_" + op[1])()
        elif kind == "merge":
            flt.merge(_merge_partner(cls, eager, default, op[1]))
        elif kind == "export":
            if op[1] == "bpf":
                return flt._export_bpf_bytes()
            if op[1] == "pfc":
                return flt._export_pfc_str()
            return flt.export_bpf()
        elif kind == "reset":
            flt.reset(op[1])
        else:
            flt.release()
    except Exception as exc:  # compared, type and message, with the reference's
        return (type(exc), str(exc))
    return None


def _state(flt):
    """What the two filters must agree on at the end."""
    out = [flt._rule_log, flt._arch_tokens, flt._changes, flt.released, flt.has_notify_rules]
    for export in (flt._export_bpf_bytes, flt._export_pfc_str):
        try:
            out.append(export())
        except Exception as exc:
            out.append((type(exc), str(exc)))
    return out


@needs_deferral
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(cls=st.sampled_from([Filter, SyscallFilter]),
       default=st.sampled_from([Action.ERRNO(1), Action.ALLOW, Action.KILL_THREAD]),
       ops=st.lists(operations, max_size=25))
def test_deferred_filter_behaves_as_eager(cls, default, ops):
    deferred, eager = cls(default), cls(default)
    eager._never_defer()
    for i, op in enumerate(ops):
        got = _apply(deferred, op, False, cls, default)
        want = _apply(eager, op, True, cls, default)
        assert got == want, "operation %d %r" % (i, op)
        assert eager._deferred_count == 0
    assert _state(deferred) == _state(eager)
    assert deferred._deferred_count == 0  # (_state used the context: nothing kept)


@needs_deferral
def test_rules_are_deferred_until_the_context_is_needed():
    f = SyscallFilter(Action.ERRNO(errno.EPERM))
    f.add_rule(Action.ALLOW, "read")
    f.add_rule(Action.ALLOW, "write", Cond(0, Op.EQ, 1))
    f.add_rule_exact(Action.TRAP, "getpid")
    assert f._deferred_count == 3
    assert f.get_attr(Attr.CTL_NNP) == 1  # any use of the context gives them to libseccomp
    assert f._deferred_count == 0
    f.add_rule(Action.ERRNO(3), "openat")
    assert f._deferred_count == 1
    f.add_rule(Action.ALLOW, "read", Cond(1, Op.EQ, 0))  # a second rule for read: at once
    assert f._deferred_count == 0


@needs_deferral
@pytest.mark.parametrize("action", [Action.LOG, Action.KILL_PROCESS, Action.NOTIFY,
                                    Action.ERRNO(4095)])
def test_actions_libseccomp_may_refuse_are_given_at_once(action):
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "read")
    try:
        f.add_rule(action, "write")
    except seccomp.SeccompError:
        pass
    assert f._deferred_count == 0


@needs_deferral
def test_default_action_rule_fails_at_its_own_call():
    f = Filter(Action.ERRNO(1))
    f.add_rule(Action.ALLOW, "read")
    with pytest.raises(seccomp.InvalidArgumentError, match="default action"):
        f.add_rule(Action.ERRNO(1), "write")
    assert [r[1] for r in f._rule_log] == ["read"]
    assert f._deferred_count == 0


@needs_deferral
def test_release_drops_deferred_rules_and_later_use_is_refused():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "read")
    f.release()
    assert f._deferred_count == 0
    with pytest.raises(seccomp.InvalidArgumentError, match="released"):
        f.add_rule(Action.ERRNO(1), "write")


def _load_deferred_and_call():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(errno.EPERM), "sched_yield")
    f.add_rule(Action.ERRNO(errno.EACCES), "setpgid", Cond(0, Op.EQ, 0x7FFF0001))
    f.add_rule_exact(Action.ERRNO(errno.ENOTTY), "getpgid")
    deferred = f._deferred_count
    f.load()
    out = [deferred, f._deferred_count]
    for call in (lambda: os.sched_yield(), lambda: os.setpgid(0x7FFF0001, 0),
                 lambda: os.getpgid(0), lambda: os.getpid()):
        try:
            out.append(call() and "allowed")
        except OSError as exc:
            out.append(exc.errno)
    return out


def test_deferred_rules_reach_the_kernel():
    result = in_child(_load_deferred_and_call).unwrap()
    assert result[0] == (3 if DEFERS else 0) and result[1] == 0
    assert result[2:] == [errno.EPERM, errno.EACCES, errno.ENOTTY, "allowed"]


def _refused_flush():
    """Deferred rules given to libseccomp while malloc fails (address space limited, the free
    heap taken): the error, the rules still deferred, and the BPF once memory is back."""
    import ctypes
    import resource
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    names = []
    for nr in range(200):
        try:
            names.append(seccomp.syscall_name(nr))
        except seccomp.SeccompError:
            continue
    names = names[:40]
    eager, f = Filter(Action.ERRNO(1)), Filter(Action.ERRNO(1))
    eager._never_defer()
    for name in names:
        eager.add_rule(Action.ALLOW, name)
        f.add_rule(Action.ALLOW, name)
    want, deferred = eager._export_bpf_bytes(), f._deferred_count
    held = (ctypes.c_void_p * 1000000)()  # (made before the squeeze, as everything below)
    n, result = 0, None
    vm = [int(line.split()[1]) for line in open("/proc/self/status")
          if line.startswith("VmSize:")][0] * 1024
    resource.setrlimit(resource.RLIMIT_AS, (vm + (1 << 20), resource.RLIM_INFINITY))
    for size in (1 << 16, 1 << 12, 1 << 8, 32):
        while n < len(held):
            held[n] = libc.malloc(size)
            if not held[n]:
                break
            n += 1
    try:
        f._export_bpf_bytes()
    except BaseException as exc:
        result = exc
    left = f._deferred_count
    for i in range(n):
        libc.free(held[i])
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    error = None if result is None else (type(result).__name__, getattr(result, "errno", None),
                                         str(result))
    return deferred, error, left, f._export_bpf_bytes() == want, f._deferred_count


@needs_deferral
def test_a_refused_deferred_rule_is_loud_and_kept():
    deferred, error, left, same, after = in_child(_refused_flush).unwrap()
    assert deferred == 40
    if error is None:
        pytest.skip("could not make malloc fail in the child")
    assert error[:2] == ("SeccompError", errno.ENOMEM), error
    assert "libseccomp refused rule ALLOW for syscall" in error[2]
    assert left == 40  # nothing lost: the first rule failed, every rule is still kept
    assert same and after == 0  # given once memory is back: the program an eager filter has
