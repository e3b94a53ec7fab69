# cython: language_level=3
"""Every exception `seccomp` raises, the one place a return code becomes one, and the
libseccomp versions features need.

The bottom of the package: it imports nothing from `seccomp`, and every other module (the
compiled ones included) takes its exceptions and its version checks from here.
"""
from libc.errno cimport EINVAL, EBADF, EINPROGRESS, ENOENT, ENOSYS, EOPNOTSUPP, EPIPE, ESRCH

from libseccomp cimport (scmp_version, seccomp_version, SCMP_VER_MAJOR, SCMP_VER_MINOR,
                         SCMP_VER_MICRO)

import os


# ---------------------------------------------------------------------------------------------
# The exceptions
# ---------------------------------------------------------------------------------------------

class SeccompError(OSError, RuntimeError):
    """A libseccomp or kernel call failed; `errno` says why.

    It is also a RuntimeError, so code written for libseccomp's own Python module, which
    raises RuntimeError, still catches it.
    """


class InvalidArgumentError(SeccompError, ValueError):
    """An argument was invalid: an unknown syscall, action, architecture, operator or an
    out-of-range value, or a filter used after release() or merge()."""


class UnsupportedError(SeccompError):
    """The libseccomp library or the running kernel lacks what was asked for."""


class OutOfRangeError(InvalidArgumentError, OverflowError):
    """An int does not fit the C type it stands for. Also an OverflowError: what libseccomp's
    module raised there, so its callers' ``except OverflowError`` still catches it."""


class NotificationGone(SeccompError):
    """The notification is no longer pending: its target died, or a signal interrupted the
    syscall (ENOENT). Nothing is left to answer."""


class TargetsGone(SeccompError):
    """No process uses the filter any more: no notification will come on this listener."""


class AlreadyAnswered(SeccompError):
    """The notification was answered already (EINPROGRESS): a second answer is refused and
    the first one stands."""


class ProfileError(InvalidArgumentError):
    """A profile is invalid. `place` says where (``syscalls[3].args[0].op``), `reason` what."""

    def __init__(self, place, reason):
        self.place = place
        self.reason = reason
        super().__init__(EINVAL, "%s: %s" % (place, reason) if place else reason)

    def __str__(self):
        return str(self.strerror)


class PolicyError(InvalidArgumentError):
    """A policy is invalid or cannot be compiled: `place` says where (a `seccomp.policy.Place`
    or a string), `reason` why."""

    def __init__(self, place, reason):
        self.place = place
        self.reason = reason
        where = str(place) if place else ""
        super().__init__(EINVAL, "%s: %s" % (where, reason) if where else reason)

    def __str__(self):
        return str(self.strerror)


class ThreadSyncError(SeccompError):
    """Loading with TSYNC failed: thread `tid` could not be synchronised to the filter."""

    def __init__(self, tid, message):
        self.tid = tid
        super().__init__(ESRCH, message)

    def __str__(self):
        return str(self.strerror)


class FilterMismatchError(SeccompError):
    """A filter's BPF does not implement its rules (and no correct program could be made):
    raised instead of letting a weaker (or stricter) filter out of the library."""


class RecordError(SeccompError):
    """The command could not be recorded (it could not be started, or the recording filter
    could not be loaded)."""


class DumpError(SeccompError):
    """The filters of a process cannot be read (the message says what is missing)."""


class SkippedSyscallWarning(UserWarning):
    """A profile rule stricter than its default action names a syscall this libseccomp does
    not know, so the filter lacks it (refused instead with ``strict=True``)."""


class RuntimeFieldWarning(UserWarning):
    """A profile field was left out because the target runtime rejects it."""


class IncludeFallbackWarning(UserWarning):
    """A minijail ``@include`` of an absolute path that does not exist was read from beside
    the including file instead (policies name their installed place)."""


# ---------------------------------------------------------------------------------------------
# Return codes
# ---------------------------------------------------------------------------------------------

# errno -> (exception class, what it means where the caller has nothing more precise to say).
# ENOENT, EPIPE and EINPROGRESS only come from the notification calls.
cdef dict _ERRNO = {
    EINVAL: (InvalidArgumentError, None),
    EBADF: (InvalidArgumentError, None),
    EOPNOTSUPP: (UnsupportedError, None),
    ENOSYS: (UnsupportedError, None),
    ENOENT: (NotificationGone, "the notification is gone (its target died, or left the "
                               "syscall, or it was answered already)"),
    EPIPE: (TargetsGone, "no process uses the filter any more"),
    EINPROGRESS: (AlreadyAnswered, "the notification was answered already"),
}


def error(int rc, str what, reason=None):
    """The exception for a failed call: *rc* is a negative (or positive) errno, *what* the
    operation ("cannot add architecture x32"), *reason* why, when the caller knows better
    than the errno's own text. The message is "<what>: <reason>"."""
    cdef int err = -rc if rc < 0 else rc
    cls, meaning = _ERRNO.get(err, (SeccompError, None))
    if reason is None:
        reason = meaning or os.strerror(err)
    return cls(err, "%s: %s" % (what, reason))


def fail(int rc, str what, reason=None):
    """Raise `error(rc, what, reason)`: the one way a return code becomes an exception."""
    raise error(rc, what, reason)


def invalid(str message):
    """Raise InvalidArgumentError (EINVAL) with *message*: bad input, found before any call."""
    raise InvalidArgumentError(EINVAL, message)


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------

cdef tuple _running_version():
    cdef const scmp_version *v = seccomp_version()
    if v == NULL:
        return (SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO)
    return (v.major, v.minor, v.micro)


#: The version of the libseccomp library in use, as (major, minor, micro).
LIBRARY_VERSION = _running_version()
#: The libseccomp version the package was compiled against (a 2.5 build lacks 2.6's calls).
COMPILED_VERSION = (SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO)

#: The oldest libseccomp each feature needs; what is not listed works with every supported one.
MIN_VERSION = {
    "precompute": (2, 6, 0),
    "attribute CTL_WAITKILL": (2, 6, 0),
    # 2.5.4 corrupts its memory when a rule is added after an architecture was removed from a
    # filter with rules (the process crashes): refused on the 2.5 series, where that was seen
    "a rule after removing an architecture": (2, 6, 0),
    "architecture loongarch64": (2, 6, 0),
    "architecture m68k": (2, 6, 0),
    "architecture sh": (2, 6, 0),
    "architecture sheb": (2, 6, 0),
}


def _dotted(version):
    return ".".join(map(str, version))


def supported(str feature):
    """Whether the libseccomp in use (and the one compiled against) has *feature*."""
    needed = MIN_VERSION.get(feature, (0, 0, 0))
    return LIBRARY_VERSION >= needed and COMPILED_VERSION >= needed


def require(str feature):
    """Raise UnsupportedError ("precompute needs libseccomp >= 2.6.0 (this is 2.5.4)")
    unless `supported(feature)`."""
    if supported(feature):
        return
    needed = MIN_VERSION[feature]
    if LIBRARY_VERSION < needed:
        this = "this is %s" % _dotted(LIBRARY_VERSION)
    else:
        this = "this package was built against %s" % _dotted(COMPILED_VERSION)
    raise UnsupportedError(ENOSYS, "%s needs libseccomp >= %s (%s)"
                           % (feature, _dotted(needed), this))
