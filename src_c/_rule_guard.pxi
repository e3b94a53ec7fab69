# Included by _core.pyx: the guard against libseccomp's seccomp_rule_add() never returning.
#
# The cause (libseccomp's src/db.c; identical in 2.4.0 through 2.6.1 and its main branch as of
# 2026-07; 2.5.4 and 2.6.0 checked by an exhaustive sweep): on a 64-bit architecture a range
# (LT, LE, GT, GE) or NE condition becomes two or three nodes, two of which both lead to the
# first node of the next condition; the new rule is a graph in which that node has two parents.
# _db_tree_add() merges it into the syscall's tree one parent at a time. When an earlier rule
# has the same condition (same argument, operator and value) followed by another one, both
# parents match existing nodes, and the shared node is inserted into the same level twice:
# the first time before the level's head, which moves only the first parent's pointer, the
# second time again before the old head, which leaves the node its own predecessor. The next
# walk to the start of that level (_db_level_clean(), right after the add) never ends.
# 32-bit architectures make one node per condition (no shared node): they are not affected.
#
# That is not the only way: _db_tree_prune(), run before the insert, walks the syscall's tree
# without memory of what it saw, once per path of the new rule's graph and of the tree's, and
# on some long histories its work grows as a power of the number of nodes on a level; it then
# never returns in practice (found with 122 masked one-condition rules and 123 two-condition
# ones on getpgid, then `arg0 < 2**64-2 && arg1 <= 7 && arg2 != 2**64-2`: 26 calls with 28 of
# the two-condition rules, 16202 with 32, no end with all; and already 45 million calls for
# `arg0..arg4 <= 7` after three one-condition rules on arg5 with different high words).
#
# The guard: a rule that would loop is not given to libseccomp. It is kept in `_rule_log` and
# in `_held_rules`, and the filter's program is then made by seccomp.bpf.codegen from the
# rules (checked like any other), so the filter is exactly as asked. Two tests decide:
# the known pattern of the shared node, exactly for two rules (below); for any other rule of
# two conditions or more on a syscall that already has rules, libseccomp itself, in a forked
# copy of this process (the child adds the rule to its copy of the filter and reports the
# return code), within _PROBE_MS. A rule whose add does not end in time (or whose probe cannot
# run) is held, and so is every later rule of two conditions or more for that syscall.

from posix.types cimport pid_t
from posix.unistd cimport fork, close, read, write, _exit
from posix.fcntl cimport O_CLOEXEC
from posix.signal cimport kill
from posix.wait cimport waitpid
from libc.errno cimport errno, EINTR
from libc.signal cimport SIGKILL

cdef extern from "<unistd.h>" nogil:
    int pipe2(int *fds, int flags)

cdef extern from "<poll.h>" nogil:
    struct pollfd:
        int fd
        short events
        short revents
    int poll(pollfd *fds, unsigned long nfds, int timeout)
    enum: POLLIN

cdef extern from "<time.h>" nogil:
    struct timespec:
        long tv_sec
        long tv_nsec
    int clock_gettime(int clk, timespec *tp)
    enum: CLOCK_MONOTONIC

cdef bint _LOOP_PRONE = LIBRARY_VERSION >= (2, 4, 0)  # no fixed release is known yet
# How long a probe's add may take (a normal add takes microseconds; a rule whose add runs
# longer is held, which changes nothing in what the filter does).
cdef int _PROBE_MS = 1000
# Architectures libseccomp builds 64-bit (two-word) argument trees for.
cdef frozenset _WIDE_TOKENS = frozenset([
    SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_LOONGARCH64, SCMP_ARCH_MIPS64,
    SCMP_ARCH_MIPSEL64, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X,
    SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64])
# 64-bit architectures where socket and IPC calls also reach a multiplexer (socketcall, ipc):
# rules of different syscalls then share a tree, so only the conservative test applies.
cdef frozenset _MUX_WIDE_TOKENS = frozenset([SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE,
                                             SCMP_ARCH_S390X])


cdef list _tree_conditions(scmp_arg_cmp *cmps, unsigned int n):
    """The conditions as libseccomp's 64-bit tree holds them, in its order (by argument):
    (arg, op, mask, datum) with the datum masked; MASKED_EQ with a zero mask makes no node.
    None when an argument repeats (libseccomp refuses the rule before building anything)."""
    cdef unsigned int i
    cdef list out = []
    cdef uint64_t mask, datum
    seen = 0
    for i in range(n):
        if seen & (1 << cmps[i].arg):
            return None
        seen |= 1 << cmps[i].arg
        if cmps[i].op == SCMP_CMP_MASKED_EQ:
            mask, datum = cmps[i].datum_a, cmps[i].datum_b & cmps[i].datum_a
            if mask == 0:
                continue
        else:
            mask, datum = 0xFFFFFFFFFFFFFFFF, cmps[i].datum_a
        out.append((cmps[i].arg, <int>cmps[i].op, mask, datum))
    out.sort()
    return out


cdef inline bint _two_ways(int op):
    """Whether the next condition's first node is reached from two nodes of this one."""
    return op != SCMP_CMP_EQ and op != SCMP_CMP_MASKED_EQ


cdef tuple _first_node(tuple c):
    """The first (high-word) node of a condition: (arg, node operator, datum, mask)."""
    arg, op, mask, datum = c
    node_op = (SCMP_CMP_MASKED_EQ if op == SCMP_CMP_MASKED_EQ else
               SCMP_CMP_EQ if op == SCMP_CMP_EQ or op == SCMP_CMP_NE else SCMP_CMP_GT)
    return (arg, node_op, (datum >> 32) & (mask >> 32), mask >> 32)


cdef int _op_rank(int op):
    # libseccomp orders a level's nodes by argument, then EQ/NE/MASKED_EQ, LT/LE, GT/GE
    if op == SCMP_CMP_LT or op == SCMP_CMP_LE:
        return 2
    if op == SCMP_CMP_GT or op == SCMP_CMP_GE:
        return 1
    return 3


cdef bint _goes_before(tuple old, tuple new):
    """Whether libseccomp inserts condition *new*'s first node before *old*'s in a level."""
    if old[0] != new[0]:
        return old[0] < new[0]
    if _op_rank(old[1]) != _op_rank(new[1]):
        return _op_rank(old[1]) < _op_rank(new[1])
    old_hi, new_hi = _first_node(old)[2], _first_node(new)[2]
    if old[1] == SCMP_CMP_LT or old[1] == SCMP_CMP_LE:
        return old_hi > new_hi
    return old_hi < new_hi


cdef bint _pair_loops(list old, list new):
    """Whether adding rule *new* to a syscall whose tree holds only rule *old* loops."""
    cdef Py_ssize_t k
    for k in range(min(len(old), len(new)) - 1):
        if old[k] != new[k]:
            return False  # the paths part here: the rest of *new* is linked in once
        if not _two_ways(new[k][1]):
            continue
        if _first_node(old[k + 1]) == _first_node(new[k + 1]):
            continue  # the shared node matches an existing one both times
        return _goes_before(old[k + 1], new[k + 1])
    return False


cdef bint _libseccomp_would_loop(Filter self, uint32_t act, object syscall, int nr,
                                 scmp_arg_cmp *cmps, unsigned int n, bint exact) except -1:
    """Whether seccomp_rule_add() might not return for this rule (see the top of this file).
    Otherwise records what the rule adds to libseccomp's trees, for the rules after it.
    Called, holding the filter's lock, only for rules of two conditions or more."""
    if not _LOOP_PRONE:
        return False
    conds = _tree_conditions(cmps, n)
    if conds is None or len(conds) < 2:
        return False
    cdef Py_ssize_t k, last = len(conds) - 1
    followed = self._followed_conditions
    if followed is None:
        followed = self._followed_conditions = set()
    risky = False
    for k in range(last):
        if _two_ways(conds[k][1]) and conds[k] in followed:
            risky = True
            break
    wide = _WIDE_TOKENS.intersection(self._arch_tokens)
    if risky and wide:
        risky = _loops_here(self, syscall, nr, conds)
    if risky:
        return True
    if wide and self._given:
        if ("slow", nr) in followed:
            return True
        if (_has_given_rule(self, syscall, nr)
                and not _add_ends_in_time(self, act, nr, cmps, n, exact)):
            followed.add(("slow", nr))
            return True
    for k in range(last):
        if _two_ways(conds[k][1]):
            followed.add(conds[k])
    return False


cdef bint _loops_here(Filter self, object syscall, int nr, list conds) except -1:
    """The exact answer where the syscall's tree is known: it holds one earlier rule (or an
    unconditional one, after which libseccomp drops conditional rules). Otherwise True: an
    earlier rule has the same condition, followed, so the tree may lead there (conservative)."""
    if _MUX_WIDE_TOKENS.intersection(self._arch_tokens):
        return True
    if self._given != self._rule_count() - len(self._held_rules or ()):
        return True  # another thread's rule is in libseccomp but not yet in _rule_log
    earlier = []
    for entry in self._rule_log:
        if entry[1] == syscall or _syscall_nr(entry[1]) == nr:
            earlier.append(entry)
    for entry in earlier:
        if not entry[2]:
            return False
    if len(earlier) != 1 or self._held_rules:
        return True
    cdef scmp_arg_cmp old[6]
    _fill_cmps(earlier[0][2], old)
    old_conds = _tree_conditions(old, <unsigned int>len(earlier[0][2]))
    return old_conds is None or _pair_loops(old_conds, conds)


cdef bint _has_given_rule(Filter self, object syscall, int nr) except -1:
    """Whether libseccomp may hold a rule for this syscall (a held one counts too)."""
    for entry in self._rule_log:
        if entry[1] == syscall or _syscall_nr(entry[1]) == nr:
            return True
    return False


cdef long _now_ms() noexcept nogil:
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)
    return t.tv_sec * 1000 + t.tv_nsec // 1000000


cdef bint _add_ends_in_time(Filter self, uint32_t act, int nr, scmp_arg_cmp *cmps,
                            unsigned int n, bint exact) noexcept:
    """Whether libseccomp adds this rule to the filter within _PROBE_MS: tried in a forked
    child, on its copy of the filter (the child runs only libseccomp, then _exit). Called
    holding the filter's lock, so the child's copy is this filter as it is. False when the
    probe cannot run."""
    cdef int fds[2]
    cdef int rc = 0, status
    cdef pid_t pid
    cdef pollfd pfd
    cdef long deadline, left
    cdef bint ended = False
    if pipe2(fds, O_CLOEXEC) != 0:  # not inherited by another thread's exec
        return False
    pid = fork()
    if pid == 0:
        if exact:
            rc = seccomp_rule_add_exact_array(self.ctx, act, nr, n, cmps)
        else:
            rc = seccomp_rule_add_array(self.ctx, act, nr, n, cmps)
        write(fds[1], &rc, sizeof(rc))
        _exit(0)
    close(fds[1])
    if pid < 0:
        close(fds[0])
        return False
    pfd.fd = fds[0]
    pfd.events = POLLIN
    deadline = _now_ms() + _PROBE_MS
    while True:
        left = deadline - _now_ms()
        if left <= 0:
            break
        status = poll(&pfd, 1, <int>left)
        if status > 0:
            ended = read(fds[0], &rc, sizeof(rc)) == sizeof(rc)
            break
        if status < 0 and errno != EINTR:
            break
    close(fds[0])
    if not ended:
        kill(pid, SIGKILL)
    while waitpid(pid, &status, 0) < 0 and errno == EINTR:
        pass
    return ended


cdef int _hold_rule(Filter self, uint32_t act, object syscall, int nr, scmp_arg_cmp *cmps,
                    unsigned int n, tuple conds, bint exact) except? -1:
    """Keep a rule out of libseccomp (in `_held_rules`) after libseccomp's own checks of it
    (action, syscall, architectures, exactness) on a scratch filter with the same
    architectures and attributes, where it cannot loop (no earlier rule). Returns its code.
    Called without the filter's lock."""
    cdef uint32_t default = 0, tskip = 0
    cdef scmp_filter_ctx scratch
    cdef int rc
    self._lock()
    try:
        rc = seccomp_attr_get(self.ctx, SCMP_FLTATR_ACT_DEFAULT, &default)
        if rc == 0:
            rc = seccomp_attr_get(self.ctx, SCMP_FLTATR_API_TSKIP, &tskip)
    finally:
        self._unlock()
    if rc < 0:
        return rc
    scratch = seccomp_init(default)
    if scratch == NULL:
        return -ENOMEM
    try:
        rc = seccomp_attr_set(scratch, SCMP_FLTATR_API_TSKIP, tskip)
        for token in self._arch_tokens:
            if rc == 0 and seccomp_arch_exist(scratch, token) == -EEXIST:
                rc = seccomp_arch_add(scratch, token)
        if rc == 0 and seccomp_arch_native() not in self._arch_tokens:
            rc = seccomp_arch_remove(scratch, seccomp_arch_native())
        if rc == 0:
            if exact:
                rc = seccomp_rule_add_exact_array(scratch, act, nr, n, cmps)
            else:
                rc = seccomp_rule_add_array(scratch, act, nr, n, cmps)
    finally:
        seccomp_release(scratch)
    if rc == 0:
        if self._held_rules is None:
            self._held_rules = []
        self._held_rules.append((act, syscall, conds, exact))
    return rc
