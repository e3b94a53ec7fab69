"""Where libseccomp or the kernel fall short, the library refuses or warns instead of
crashing, hanging or silently making a weaker filter. Each case runs in a child."""
import errno
import threading
import time
import warnings

import pytest

import seccomp
from seccomp import Action, Arch, Cond, Filter, Op
from childproc import in_child


def test_reset_does_not_format_under_the_filter_lock():
    # An invalid action's message calls repr(); a repr that uses the filter must not wait
    # for ever on the lock reset() holds.
    def reset_with_hostile_int():
        f = Filter(Action.ALLOW)

        class Hostile(int):
            def __repr__(self):
                f.release()
                return "Hostile()"

        try:
            f.reset(Hostile(0x12345678))
        except seccomp.InvalidArgumentError as exc:
            return str(exc), f.released
        return "no error", f.released

    message, released = in_child(reset_with_hostile_int, timeout=20).unwrap()
    assert "invalid action Hostile()" in message and released


def _remove_arch_after_rules(second):
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.add_arch(Arch.X86)
    f.add_arch(second)
    f.add_rule(seccomp.ERRNO(1), "read", seccomp.Arg(0, seccomp.EQ, 1))
    f.remove_arch(second)
    pfc = f.export_pfc()  # exporting is safe
    try:
        f.add_rule(seccomp.ERRNO(1), "write", seccomp.Arg(0, seccomp.EQ, 1))
    except seccomp.UnsupportedError as exc:
        f.reset()
        f.add_rule(seccomp.ERRNO(1), "close")  # a reset filter takes rules again
        return "refused: %s" % exc, "read" in pfc
    f.add_rule(seccomp.ERRNO(1), "close")
    return "pfc %d" % len(f.export_pfc()), "read" in pfc


@pytest.mark.parametrize("second", [Arch.X32, Arch.ARM])
@pytest.mark.skipif(Arch.native() is not Arch.X86_64, reason="x32 needs an x86_64 host")
def test_a_rule_after_removing_an_arch_never_crashes(second):
    # libseccomp 2.5.4 crashes on the second rule here (memory corruption)
    outcome, exported = in_child(_remove_arch_after_rules, second).unwrap()  # SIGSEGV fails
    assert exported
    if seccomp.library_version() < (2, 6, 0):
        assert outcome.startswith("refused") and "remove architectures before" in outcome
        assert "%s was removed" % second in outcome
    else:
        assert outcome.startswith("pfc")


def test_removing_an_arch_before_rules_still_works():
    f = Filter(Action.ALLOW)
    f.add_arch(Arch.X86)
    f.remove_arch(Arch.X86)
    f.add_rule(Action.ERRNO(1), "read", Cond(0, Op.EQ, 1))
    assert not f.has_arch(Arch.X86)


def _load_without_tsync(start_thread):
    seccomp.set_api_level(1)  # libseccomp's level without TSYNC: it refuses the attribute
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(errno.EPERM), "getpriority")
    thread = None
    if start_thread:
        thread = threading.Thread(target=time.sleep, args=(1,))
        thread.start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            f.load()
        except seccomp.UnsupportedError as exc:
            return ("refused", str(exc), thread.native_id if thread else None)
    return ("loaded", [str(w.message) for w in caught], f.tsync_refused)


def test_tsync_refused_with_other_threads_names_them():
    kind, message, tid = in_child(_load_without_tsync, True).unwrap()
    assert kind == "refused"
    assert "TSYNC" in message and str(tid) in message


def test_tsync_refused_with_one_thread_warns_and_loads():
    kind, messages, refused = in_child(_load_without_tsync, False).unwrap()
    assert kind == "loaded" and refused
    assert any("TSYNC is unavailable" in m for m in messages)


def test_tsync_accepted_by_default():
    assert not Filter(Action.ALLOW).tsync_refused
    assert not Filter(Action.ALLOW, tsync=False).tsync_refused
