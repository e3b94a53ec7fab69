# Included by _core.pyx: the guard against libseccomp's seccomp_rule_add() never returning.
#
# libseccomp keeps, per architecture and syscall, a tree of argument comparisons (src/db.c;
# identical in 2.4.0 through 2.6.0, 2.6.1 fixes one action assignment in _db_tree_add()).
# db_rule_add() turns the new rule into a small graph (_db_rule_gen_64/_32), walks the tree
# with it to drop what the rule makes redundant (_db_tree_prune) and merges it in
# (_db_tree_add). Two ways it never returns:
# - on 64-bit architectures a range (LT, LE, GT, GE) or NE condition becomes two or three
#   nodes, two of which lead to the next condition's first node. _db_tree_add() merges the
#   rule one parent at a time and can insert that shared node into the same level twice,
#   leaving it its own predecessor: the next walk to the start of that level never ends
#   (`(arg0 <= 5, arg1 <= 7)` then `(arg0 <= 5, arg1 == 2)`).
# - _db_tree_prune() walks the tree without memory of what it saw, once per path of the new
#   rule's graph and of the tree's; for each node of a level that sorts after the rule's node
#   it walks the whole level again with the rule's next node, so its work grows as a power of
#   the nodes on a level (a policy lowered to 372 masked and range rules of getpgid: no end
#   at the 371st; `arg0..arg4 <= 7` after three one-condition rules on arg5 with different
#   high words: 45 million calls).
#
# The guard is a model of that part of db.c: for every syscall that has had a rule of two
# conditions or more, it keeps the trees libseccomp holds (per architecture: nodes with
# argument, word, operator, mask, datum, true/false links, actions, level links and
# reference counts, changed exactly as db.c changes them) and, before a rule goes to
# libseccomp, runs db_rule_add() on them counting steps (a call, a node visited on a level;
# on big trees the prune walk is first counted alone, changing nothing). A rule whose add
# takes more than _STEP_BUDGET steps, or whose add leaves a level that does not end, is held:
# kept out of libseccomp in `_held_rules` (after libseccomp's own checks of it on a scratch
# filter); the program is then made by seccomp.bpf.codegen from the rules and checked, so the
# filter is exactly as asked. Everything given to libseccomp ends within the budget (and the
# same again on the copy libseccomp keeps for its transactions). libseccomp 2.5.4 took 5 to
# 14 ns a step on adversarial histories, so the budget, 10^5 steps, is under a millisecond;
# ordinary rules take tens of steps. The model's nodes are freed with the filter.
# Where the model cannot know a tree, rules of two conditions or more are held: socket and
# IPC calls on architectures that multiplex them (libseccomp then rewrites them into the
# socketcall/ipc tree, shared by several syscalls), and after a merge of filters that both
# held rules. Nothing is modelled for syscalls that have had only rules of fewer conditions.

from libc.stdlib cimport calloc

cdef bint _LOOP_PRONE = LIBRARY_VERSION >= (2, 4, 0)  # no fixed release is known yet
# 2.6.1 corrected _db_tree_add()'s action for a false branch (act_f, not act_t).
cdef bint _ACT_F_FIXED = LIBRARY_VERSION >= (2, 6, 1)
# The steps an add may take in the model before its rule is held.
cdef long long _STEP_BUDGET = 100000
# Architectures libseccomp builds 64-bit (two-word) argument trees for.
cdef frozenset _WIDE_TOKENS = frozenset([
    SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_LOONGARCH64, SCMP_ARCH_MIPS64,
    SCMP_ARCH_MIPSEL64, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390X,
    SCMP_ARCH_PARISC64, SCMP_ARCH_RISCV64])
# Architectures whose socket and IPC calls libseccomp also adds to a multiplexer's tree
# (abi_rule_add in src/syscalls.c), and those calls.
cdef frozenset _MUX_TOKENS = frozenset([
    SCMP_ARCH_X86, SCMP_ARCH_PPC, SCMP_ARCH_PPC64, SCMP_ARCH_PPC64LE, SCMP_ARCH_S390,
    SCMP_ARCH_S390X, SCMP_ARCH_MIPS, SCMP_ARCH_MIPSEL, SCMP_ARCH_SH, SCMP_ARCH_SHEB,
    SCMP_ARCH_M68K])
cdef frozenset _MUX_NAMES = frozenset("""socketcall ipc socket bind connect listen accept
    getsockname getpeername socketpair send recv sendto recvfrom shutdown setsockopt
    getsockopt sendmsg recvmsg accept4 recvmmsg sendmmsg semop semget semctl semtimedop msgsnd
    msgrcv msgget msgctl shmat shmdt shmget shmctl""".split())

cdef enum:
    # db_iter_state flags (db.c)
    _MATCH = 0x1
    _MATCH_ONCE = 0x2
    _X_FINISHED = 0x10
    _N_FINISHED = 0x20
    _X_PREFIX = 0x100
    _N_PREFIX = 0x200
    _MATCHSET = 0x3
    _REDUNDANT = 0x211
    _MAX_DEPTH = 400  # far beyond any tree's (12 levels) plus a rule's (18 nodes)
    # Below this many nodes a tree's add is run for real at once: a rule found too dear
    # there costs the tree, made again from the rules given (cheap while it is small).
    _CHECK_FIRST_NODES = 2000


cdef struct _Node:
    # a db_arg_chain_tree
    unsigned int arg
    bint hi
    int op
    int op_orig
    uint32_t mask
    uint32_t datum
    uint64_t datum_full
    bint act_t_flg
    bint act_f_flg
    uint32_t act_t
    uint32_t act_f
    _Node *lvl_prv
    _Node *lvl_nxt
    _Node *nxt_t
    _Node *nxt_f
    unsigned int refcnt
    bint freed  # (the model's own: its memory is kept until the tree goes, in a _Block)


cdef struct _Block:
    # nodes are allocated _BLOCK at a time and freed with their tree
    _Node nodes[32]
    int used
    _Block *next


cdef struct _Run:
    long long steps
    long long budget
    bint stop  # over budget (or a walk that never ends): unwind
    bint dry  # count the prune walk without changing anything
    uint32_t action  # the new rule's
    int depth
    _Node **chains  # the syscall's tree (state->sx->chains)
    _Block **blocks
    _Node *inserted[64]  # nodes put into a level by this add (checked to end afterwards)
    int n_inserted


cdef inline bint _tick(_Run *r) noexcept nogil:
    r.steps += 1
    if r.steps > r.budget:
        r.stop = True
    return r.stop


cdef inline unsigned int _arg_rank(const _Node *a) noexcept nogil:
    return (a.arg << 1) + (1 if a.hi else 0)


cdef inline unsigned int _op_rank(int op) noexcept nogil:
    if op == SCMP_CMP_MASKED_EQ or op == SCMP_CMP_EQ or op == SCMP_CMP_NE:
        return 3
    if op == SCMP_CMP_LE or op == SCMP_CMP_LT:
        return 2
    if op == SCMP_CMP_GE or op == SCMP_CMP_GT:
        return 1
    return 0


cdef bint _lt(const _Node *a, const _Node *b) noexcept nogil:
    """_db_chain_lt: whether *a* comes before *b* on a level."""
    if _arg_rank(a) != _arg_rank(b):
        return _arg_rank(a) < _arg_rank(b)
    if _op_rank(a.op_orig) != _op_rank(b.op_orig):
        return _op_rank(a.op_orig) < _op_rank(b.op_orig)
    if a.op_orig == SCMP_CMP_LE or a.op_orig == SCMP_CMP_LT:
        return a.datum > b.datum
    return a.datum < b.datum


cdef inline bint _eq(const _Node *a, const _Node *b) noexcept nogil:
    return (_arg_rank(a) == _arg_rank(b) and a.op == b.op and a.datum == b.datum
            and a.mask == b.mask)


cdef inline bint _leaf(const _Node *n) noexcept nogil:
    return n.nxt_t == NULL and n.nxt_f == NULL


cdef inline _Node *_get(_Node *n) noexcept nogil:
    if n != NULL:
        n.refcnt += 1
    return n


cdef _Node *_new_node(_Run *r) noexcept nogil:
    cdef _Block *b = r.blocks[0]
    if b == NULL or b.used == 32:
        b = <_Block *>calloc(1, sizeof(_Block))
        if b == NULL:
            r.stop = True
            return NULL
        b.next = r.blocks[0]
        r.blocks[0] = b
    b.used += 1
    return &b.nodes[b.used - 1]


cdef unsigned int _put(_Run *r, _Node **node) noexcept nogil:
    """_db_node_put: drop a reference; the last one frees the node and what hangs from it."""
    cdef _Node *n = node[0]
    cdef _Node *lp
    cdef _Node *ln
    cdef _Node *nt
    cdef _Node *nf
    cdef unsigned int cnt = 0
    if n == NULL or _tick(r):
        return 0
    n.refcnt -= 1
    if n.refcnt == 0:
        lp, ln, nt, nf = n.lvl_prv, n.lvl_nxt, n.nxt_t, n.nxt_f
        if lp != NULL:
            lp.lvl_nxt = NULL
        if ln != NULL:
            ln.lvl_prv = NULL
        if lp != NULL:
            cnt += _put(r, &lp)
        if ln != NULL:
            cnt += _put(r, &ln)
        if lp != NULL:
            lp.lvl_nxt = _get(ln)
        if ln != NULL:
            ln.lvl_prv = _get(lp)
        node[0] = lp if lp != NULL else ln
        cnt += _tree_put(r, &nt)
        cnt += _tree_put(r, &nf)
        n.freed = True  # (memory kept until the tree goes, like a use-after-free would see it)
        cnt += 1
    return cnt


cdef unsigned int _level_clean(_Run *r, _Node *node) noexcept nogil:
    """_db_level_clean: free a level nothing else points to."""
    cdef unsigned int cnt = 0, links
    cdef _Node *n = node
    cdef _Node *start
    while n.lvl_prv != NULL:
        if _tick(r):
            return 0
        n = n.lvl_prv
    start = n
    while n != NULL:
        if _tick(r):
            return 0
        links = (n.lvl_prv != NULL) + (n.lvl_nxt != NULL)
        if n.refcnt > links:
            return cnt
        n = n.lvl_nxt
    n = start
    while n != NULL and not r.stop:
        cnt += _put(r, &n)
    return cnt


cdef unsigned int _tree_put(_Run *r, _Node **tree) noexcept nogil:
    cdef unsigned int cnt = _put(r, tree)
    if tree[0] != NULL and not r.stop:
        cnt += _level_clean(r, tree[0])
    return cnt


cdef unsigned int _tree_remove(_Run *r, _Node **tree, _Node *node) noexcept nogil:
    """_db_tree_remove: unlink *node* (found anywhere below *tree*) and drop it."""
    cdef unsigned int cnt = 0
    cdef _Node *c
    cdef bint found = False
    if tree == NULL or tree[0] == NULL or node == NULL or r.stop:
        return 0
    r.depth += 1
    if r.depth > _MAX_DEPTH:
        r.stop = True
    c = tree[0]
    while c.lvl_prv != NULL and not _tick(r):
        c = c.lvl_prv
    while not r.stop:
        _tick(r)
        if c == node:
            found = True
            break
        cnt += _tree_remove(r, &c.nxt_t, node)
        cnt += _tree_remove(r, &c.nxt_f, node)
        if _leaf(c) and not c.act_t_flg and not c.act_f_flg:  # a zombie
            found = True
            break
        c = c.lvl_nxt
        if c == NULL or cnt != 0:
            break
    r.depth -= 1
    if not found or r.stop:
        return cnt
    if c == tree[0]:
        tree[0] = c.lvl_prv if c.lvl_prv != NULL else c.lvl_nxt
    if c.lvl_prv != NULL:
        c.lvl_prv.lvl_nxt = c.lvl_nxt
    if c.lvl_nxt != NULL:
        c.lvl_nxt.lvl_prv = c.lvl_prv
    c.lvl_prv = NULL
    c.lvl_nxt = NULL
    return cnt + _put(r, &c)


cdef bint _act_differs(_Run *r, _Node *tree, uint32_t action) noexcept nogil:
    """_db_tree_act_check: whether an action below *tree* is not *action*."""
    cdef _Node *c = tree
    if c == NULL or r.stop:
        return False
    r.depth += 1
    if r.depth > _MAX_DEPTH:
        r.stop = True
    while c.lvl_prv != NULL and not _tick(r):
        c = c.lvl_prv
    cdef bint differs = False
    while c != NULL and not _tick(r):
        if (c.act_t_flg and c.act_t != action) or (c.act_f_flg and c.act_f != action):
            differs = True
            break
        if _act_differs(r, c.nxt_t, action) or _act_differs(r, c.nxt_f, action):
            differs = True
            break
        c = c.lvl_nxt
    r.depth -= 1
    return differs


cdef inline void _prune_return(unsigned int *state, unsigned int flags) noexcept nogil:
    if flags & _MATCH:
        state[0] |= flags
    else:
        state[0] &= ~_MATCH


cdef unsigned int _prune(_Run *r, _Node **existing, _Node *new,
                         unsigned int *state) noexcept nogil:
    """_db_tree_prune: drop what the new rule makes redundant. *state* is the flags word of
    db.c's db_iter_state (its action and syscall are in the run)."""
    cdef unsigned int cnt = 0, nxt
    cdef unsigned int flags = state[0]  # state_new
    cdef _Node *x = existing[0]
    cdef _Node *x_next
    cdef _Node *n = new
    cdef bint fell_through = True
    if n == NULL or x == NULL or (state[0] & _MATCHSET) == _MATCH_ONCE or r.stop:
        _prune_return(state, flags)
        return 0
    r.depth += 1
    if r.depth > _MAX_DEPTH:
        r.stop = True
    while x.lvl_prv != NULL and not _tick(r):
        x = x.lvl_prv
    while not r.stop:
        _tick(r)
        x_next = x.lvl_nxt
        if _eq(x, n):
            flags |= _MATCHSET
            if _leaf(n):
                flags |= _N_FINISHED
            if _leaf(x):
                flags |= _X_FINISHED
            if ((x.act_t_flg or x.nxt_t != NULL) and not (n.act_t_flg or n.nxt_t != NULL)) or \
                    ((x.act_f_flg or x.nxt_f != NULL) and not (n.act_f_flg or n.nxt_f != NULL)):
                fell_through = False
                break
            if (flags & _N_FINISHED) and (flags & _X_FINISHED) and (
                    n.act_t_flg != x.act_t_flg or n.act_t != x.act_t
                    or n.act_f_flg != x.act_f_flg or n.act_f != x.act_f):
                fell_through = False
                break
            if n.nxt_t != NULL:
                if not r.dry:
                    _get(x)
                nxt = state[0] | _MATCHSET
                cnt += _prune(r, &x.nxt_t, n.nxt_t, &nxt)
                if not r.dry:
                    cnt += _put(r, &x)
                if nxt & _MATCH:
                    flags |= nxt
                if x == NULL:
                    x = x_next
                    if x == NULL:
                        break
                    continue
            if n.nxt_f != NULL:
                if not r.dry:
                    _get(x)
                nxt = state[0] | _MATCHSET
                cnt += _prune(r, &x.nxt_f, n.nxt_f, &nxt)
                if not r.dry:
                    cnt += _put(r, &x)
                if nxt & _MATCH:
                    flags |= nxt
                if x == NULL:
                    x = x_next
                    if x == NULL:
                        break
                    continue
            if (not _act_differs(r, x, r.action) and (flags & _MATCH)
                    and (flags & _N_FINISHED) and (flags & _X_PREFIX)):
                # the new tree is "shorter": remove the existing node
                if not r.dry:
                    cnt += _tree_remove(r, r.chains, x)
                    if r.chains[0] == NULL:
                        fell_through = False
                        break
            elif (not _act_differs(r, x, r.action) and (flags & _MATCH)
                    and (flags & _X_FINISHED) and (flags & _N_PREFIX)):
                fell_through = False  # the new tree is "longer"
                break
        elif _lt(x, n):
            if state[0] & _N_PREFIX:
                fell_through = False
                break
            if x.nxt_t != NULL:
                if not r.dry:
                    _get(x)
                nxt = (state[0] & ~_MATCH) | _X_PREFIX
                cnt += _prune(r, &x.nxt_t, n, &nxt)
                if not r.dry:
                    cnt += _put(r, &x)
                if nxt & _MATCH:
                    flags |= nxt
                    fell_through = False
                    break
                if x == NULL:
                    x = x_next
                    if x == NULL:
                        break
                    continue
            if x.nxt_f != NULL:
                if not r.dry:
                    _get(x)
                nxt = (state[0] & ~_MATCH) | _X_PREFIX
                cnt += _prune(r, &x.nxt_f, n, &nxt)
                if not r.dry:
                    cnt += _put(r, &x)
                if nxt & _MATCH:
                    flags |= nxt
                    fell_through = False
                    break
                if x == NULL:
                    x = x_next
                    if x == NULL:
                        break
                    continue
        else:
            if state[0] & _X_PREFIX:
                fell_through = False
                break
            if n.nxt_t != NULL:
                if not r.dry:
                    _get(x)
                nxt = (state[0] & ~_MATCH) | _N_PREFIX
                cnt += _prune(r, &x, n.nxt_t, &nxt)
                if not r.dry:
                    cnt += _put(r, &x)
                if nxt & _MATCH:
                    flags |= nxt
                    fell_through = False
                    break
                if x == NULL:
                    x = x_next
                    if x == NULL:
                        break
                    continue
            if n.nxt_f != NULL:
                if not r.dry:
                    _get(x)
                nxt = (state[0] & ~_MATCH) | _N_PREFIX
                cnt += _prune(r, &x, n.nxt_f, &nxt)
                if not r.dry:
                    cnt += _put(r, &x)
                if nxt & _MATCH:
                    flags |= nxt
                    fell_through = False
                    break
                if x == NULL:
                    x = x_next
                    if x == NULL:
                        break
                    continue
        x = x_next
        if x == NULL:
            break
    r.depth -= 1
    if fell_through:
        flags &= ~_MATCH  # nothing on this level matched
    _prune_return(state, flags)
    return cnt


cdef void _note_insert(_Run *r, _Node *n) noexcept nogil:
    if r.n_inserted < 64:
        r.inserted[r.n_inserted] = n
    r.n_inserted += 1


cdef int _tree_add(_Run *r, _Node **existing, _Node *new) noexcept nogil:
    """_db_tree_add: merge the new rule's graph into the tree. 0 or -EEXIST."""
    cdef int rc
    cdef _Node *x = existing[0]
    cdef _Node *n = new
    if r.stop:
        return 0
    r.depth += 1
    if r.depth > _MAX_DEPTH:
        r.stop = True
    rc = 0
    while x != NULL and not _tick(r):
        if _eq(x, n):
            rc = _merge_node(r, x, n)
            break
        elif not _lt(x, n):
            if x.lvl_nxt == NULL:  # add to the end of this level
                n.lvl_prv = _get(x)
                x.lvl_nxt = _get(n)
                _note_insert(r, n)
                break
            x = x.lvl_nxt
        else:  # add before the existing node on this level
            if x.lvl_prv != NULL:
                x.lvl_prv.lvl_nxt = _get(n)
                n.lvl_prv = x.lvl_prv
                x.lvl_prv = _get(n)
                n.lvl_nxt = x
            else:
                x.lvl_prv = _get(n)
                n.lvl_nxt = _get(x)
            _note_insert(r, n)
            if existing[0] == x:
                existing[0] = _get(n)
                _put(r, &x)
            break
    r.depth -= 1
    return rc


cdef int _merge_node(_Run *r, _Node *x, _Node *n) noexcept nogil:
    """The part of _db_tree_add for a node equal to the new one."""
    cdef int rc
    if n.act_t_flg:
        if not x.act_t_flg:
            if _act_differs(r, x.nxt_t, n.act_t):
                return -EEXIST
            _put(r, &x.nxt_t)
            x.nxt_t = NULL
            x.act_t = n.act_t
            x.act_t_flg = True
        elif n.act_t != x.act_t:
            if n.hi and n.datum_full > x.datum_full:
                x.act_t = n.act_t
            if _leaf(x) or _leaf(n):
                return -EEXIST
    if n.act_f_flg:
        if not x.act_f_flg:
            if _act_differs(r, x.nxt_f, n.act_f):
                return -EEXIST
            _put(r, &x.nxt_f)
            x.nxt_f = NULL
            x.act_f = n.act_f
            x.act_f_flg = True
        elif n.act_f != x.act_f:
            if n.hi and n.datum_full < x.datum_full:
                if _ACT_F_FIXED:
                    x.act_f = n.act_f
                else:
                    x.act_t = n.act_t
            if _leaf(x) or _leaf(n):
                return -EEXIST
    if n.nxt_t != NULL:
        if x.nxt_t != NULL:
            rc = _tree_add(r, &x.nxt_t, n.nxt_t)
            if rc != 0:
                return rc
        elif not x.act_t_flg:
            x.nxt_t = _get(n.nxt_t)
        else:
            return 0  # the existing tree is "shorter"
    if n.nxt_f != NULL:
        if x.nxt_f != NULL:
            rc = _tree_add(r, &x.nxt_f, n.nxt_f)
            if rc != 0:
                return rc
        elif not x.act_f_flg:
            x.nxt_f = _get(n.nxt_f)
        else:
            return 0
    return 0


cdef void _set_node(_Node *c, unsigned int arg, bint hi, uint32_t mask, uint32_t datum,
                    uint64_t full, int op, int op_orig) noexcept nogil:
    c.arg = arg
    c.hi = hi
    c.mask = mask
    c.datum = datum & mask
    c.datum_full = full
    c.op = op
    c.op_orig = op_orig


cdef class _Chain:
    """A rule's conditions as db_col_rule_add() holds them, by argument (see _chain_of)."""
    cdef int n
    cdef unsigned int arg[6]
    cdef int op[6]
    cdef uint64_t mask[6]
    cdef uint64_t datum[6]


cdef _Node *_gen(_Run *r, _Chain chain, uint32_t action, bint wide) noexcept:
    """_db_rule_gen_64 / _db_rule_gen_32: the new rule's graph, one reference held by the
    caller (NULL for a rule without conditions). *chain* holds (arg, op, mask, datum) rows by
    argument, as db_col_rule_add() orders them."""
    cdef _Node *c[3]
    cdef _Node *p[3]
    cdef _Node *first = NULL
    cdef Py_ssize_t i
    cdef int op, op_prev = 0
    cdef unsigned int arg
    cdef uint64_t mask, datum
    cdef bint tf = True
    p[0] = p[1] = p[2] = c[0] = c[1] = c[2] = NULL
    for i in range(chain.n):
        arg = chain.arg[i]
        op = chain.op[i]
        mask = chain.mask[i]
        datum = chain.datum[i]
        if not wide:
            if op == SCMP_CMP_MASKED_EQ and (mask & 0xFFFFFFFF) == 0:
                continue
            c[0] = _new_node(r)
            if c[0] == NULL:
                return first
            _set_node(c[0], arg, False, <uint32_t>mask, <uint32_t>datum, datum, op, op)
            if p[0] != NULL:
                if tf:
                    p[0].nxt_t = _get(c[0])
                else:
                    p[0].nxt_f = _get(c[0])
            else:
                first = _get(c[0])
            tf = False
            if op == SCMP_CMP_NE:
                c[0].op = SCMP_CMP_EQ
            elif op == SCMP_CMP_LT:
                c[0].op = SCMP_CMP_GE
            elif op == SCMP_CMP_LE:
                c[0].op = SCMP_CMP_GT
            else:
                tf = True
            p[0] = c[0]
            continue
        if op == SCMP_CMP_MASKED_EQ and mask == 0:
            continue
        c[0] = _new_node(r)
        c[1] = _new_node(r)
        c[2] = NULL
        if c[0] == NULL or c[1] == NULL:
            return first
        if op == SCMP_CMP_GT or op == SCMP_CMP_GE or op == SCMP_CMP_LE or op == SCMP_CMP_LT:
            c[2] = _new_node(r)
            if c[2] == NULL:
                return first
            _set_node(c[0], arg, True, mask >> 32, datum >> 32, datum, SCMP_CMP_GT, op)
            _set_node(c[1], arg, True, mask >> 32, datum >> 32, datum, SCMP_CMP_EQ, op)
            _set_node(c[2], arg, False, <uint32_t>mask, <uint32_t>datum, datum,
                      SCMP_CMP_GT if op == SCMP_CMP_GT or op == SCMP_CMP_LE else SCMP_CMP_GE,
                      op)
            c[0].nxt_f = _get(c[1])
            c[1].nxt_t = _get(c[2])
        else:
            _set_node(c[0], arg, True, mask >> 32, datum >> 32, datum,
                      op if op == SCMP_CMP_MASKED_EQ else SCMP_CMP_EQ, op)
            _set_node(c[1], arg, False, <uint32_t>mask, <uint32_t>datum, datum,
                      op if op == SCMP_CMP_MASKED_EQ else SCMP_CMP_EQ, op)
            c[0].nxt_t = _get(c[1])
        if p[0] != NULL:
            if op_prev == SCMP_CMP_GT or op_prev == SCMP_CMP_GE:
                p[0].nxt_t = _get(c[0])
                p[2].nxt_t = _get(c[0])
            elif op_prev == SCMP_CMP_EQ or op_prev == SCMP_CMP_MASKED_EQ:
                p[1].nxt_t = _get(c[0])
            elif op_prev == SCMP_CMP_LE or op_prev == SCMP_CMP_LT:
                p[1].nxt_f = _get(c[0])
                p[2].nxt_f = _get(c[0])
            else:  # NE
                p[0].nxt_f = _get(c[0])
                p[1].nxt_f = _get(c[0])
        else:
            first = _get(c[0])
        p[0], p[1], p[2] = c[0], c[1], c[2]
        op_prev = op
    if first == NULL:
        return NULL
    if not wide:
        if tf:
            p[0].act_t_flg = True
            p[0].act_t = action
        else:
            p[0].act_f_flg = True
            p[0].act_f = action
    elif op_prev == SCMP_CMP_GT or op_prev == SCMP_CMP_GE:
        p[0].act_t_flg = p[2].act_t_flg = True
        p[0].act_t = p[2].act_t = action
    elif op_prev == SCMP_CMP_LE or op_prev == SCMP_CMP_LT:
        p[1].act_f_flg = p[2].act_f_flg = True
        p[1].act_f = p[2].act_f = action
    elif op_prev == SCMP_CMP_EQ or op_prev == SCMP_CMP_MASKED_EQ:
        p[1].act_t_flg = True
        p[1].act_t = action
    else:
        p[0].act_f_flg = p[1].act_f_flg = True
        p[0].act_f = p[1].act_f = action
    return first


cdef bint _levels_end(_Run *r, long long limit) noexcept nogil:
    """Whether the levels this add inserted into end both ways within *limit* nodes."""
    cdef int i
    cdef long long k
    cdef _Node *n
    if r.n_inserted > 64:
        return False  # (more than any rule's graph has nodes: not a tree libseccomp keeps)
    for i in range(r.n_inserted):
        n = r.inserted[i]
        k = 0
        while n != NULL and k <= limit:
            n = n.lvl_prv
            k += 1
        if n != NULL:
            return False
        n = r.inserted[i]
        k = 0
        while n != NULL and k <= limit:
            n = n.lvl_nxt
            k += 1
        if n != NULL:
            return False
    return True


cdef enum:
    # What adding a rule to a syscall's tree comes to (_Tree.add's result).
    _ADDED = 0
    _REFUSED = 1  # libseccomp refuses it (-EEXIST): nothing changes there
    _TOO_DEAR = 2  # over the budget, or a level that never ends: the rule is to be held
    _TOO_DEAR_UNCHANGED = 3  # the same, found before the tree changed


cdef class _Tree:
    """The model of one syscall's entry in one architecture's filter (db_sys_list): its
    tree, whether the syscall has an entry, and every node allocated for it."""
    cdef _Node *chains
    cdef bint present
    cdef _Block *blocks
    cdef long long nodes
    cdef _Run run  # the last add's (its steps: _model_steps)

    def __dealloc__(self):
        cdef _Block *b = self.blocks
        cdef _Block *nxt
        while b != NULL:
            nxt = b.next
            free(b)
            b = nxt

    cdef int add(self, _Chain chain, uint32_t action, bint wide, bint check_first) noexcept:
        """db_rule_add() on this entry, within _STEP_BUDGET steps. With *check_first*, the
        prune walk is first counted alone, changing nothing: a rule found too dear there
        leaves the tree as it was (_TOO_DEAR_UNCHANGED)."""
        cdef _Run *r = &self.run
        cdef _Node *new
        cdef unsigned int flags = 0, removed
        cdef int rc
        r.steps = 0
        r.budget = _STEP_BUDGET
        r.stop = False
        r.dry = False
        r.depth = 0
        r.action = action
        r.chains = &self.chains
        r.blocks = &self.blocks
        r.n_inserted = 0
        new = _gen(r, chain, action, wide)
        if r.stop:
            return _TOO_DEAR_UNCHANGED
        if new != NULL:
            self.nodes += 18
        if not self.present:
            self.chains = new
            self.present = True
            return _ADDED
        if self.chains == NULL:
            _tree_put(r, &new)  # the syscall is allowed whatever its arguments already
            return _TOO_DEAR if r.stop else _ADDED
        if new == NULL:
            _tree_put(r, &self.chains)  # a rule without conditions replaces the tree
            self.chains = NULL
            return _TOO_DEAR if r.stop else _ADDED
        if check_first and self.nodes > _CHECK_FIRST_NODES:
            r.dry = True
            _prune(r, &self.chains, new, &flags)
            if r.stop:
                return _TOO_DEAR_UNCHANGED
            r.dry = False
            r.steps = 0
            r.depth = 0
            flags = 0
        removed = _prune(r, &self.chains, new, &flags)
        if r.stop:
            return _TOO_DEAR
        if removed > 0:
            if self.chains == NULL:
                self.chains = new
                return _ADDED
        elif (flags & _REDUNDANT) == _REDUNDANT:
            _tree_put(r, &new)
            return _TOO_DEAR if r.stop else _ADDED
        rc = _tree_add(r, &self.chains, new)
        _tree_put(r, &new)
        if r.stop or not _levels_end(r, self.nodes):
            return _TOO_DEAR
        return _REFUSED if rc < 0 else _ADDED


cdef class _Trees:
    """What the guard knows of a filter's trees in libseccomp (see the top of this file).
    Made on the first rule of two conditions or more."""
    # Per syscall number modelled: every rule libseccomp took for it, in order, as
    # (action, chain, architecture tokens present then); the trees are made from these.
    cdef dict given
    cdef dict trees  # (token, nr) -> _Tree, made on first use
    cdef set unknown  # syscall numbers whose trees cannot be known: their rules of 2+
    #                   conditions are held
    cdef object pending  # (nr, entry) of the rule being given to libseccomp

    def __cinit__(self):
        self.given = {}
        self.trees = {}
        self.unknown = set()

    cdef _Trees copy(self):
        """What a transaction restores (the trees are made again from the rules)."""
        cdef _Trees out = _Trees()
        out.given = {nr: list(rules) for nr, rules in self.given.items()}
        out.unknown = set(self.unknown)
        return out

    cdef int forget_arch(self, uint32_t token) except -1:
        for nr, rules in self.given.items():
            self.given[nr] = [(a, c, tuple(t for t in tokens if t != token))
                              for a, c, tokens in rules]
        self.trees = {key: t for key, t in self.trees.items() if key[0] != token}
        return 0

    cdef int forget_trees(self, int nr) except -1:
        for key in [key for key in self.trees if key[1] == nr]:
            del self.trees[key]
        return 0

    cdef _Tree tree(self, uint32_t token, int nr):
        """The tree of syscall *nr* in architecture *token* (None when it cannot be made)."""
        key = (token, nr)
        cdef _Tree t = self.trees.get(key)
        if t is not None:
            return t
        t = _Tree()
        wide = token in _WIDE_TOKENS
        for action, chain, tokens in self.given[nr]:
            if token in tokens and (chain is None or t.add(chain, action, wide, False) != _ADDED):
                return None  # libseccomp took it: the model is not libseccomp
        self.trees[key] = t
        return t


cdef _Chain _chain_of(scmp_arg_cmp *cmps, unsigned int n):
    """A rule's conditions as db_col_rule_add() holds them, ordered by argument: (arg, op,
    mask, datum). None when libseccomp refuses them (an argument twice, ...)."""
    cdef unsigned int i, a
    cdef int seen = 0
    cdef _Chain out = _Chain.__new__(_Chain)
    cdef int at[6]
    for i in range(n):
        a = cmps[i].arg
        if a >= 6 or seen & (1 << a) or not SCMP_CMP_NE <= cmps[i].op <= SCMP_CMP_MASKED_EQ:
            return None
        seen |= 1 << a
        at[a] = i
    for a in range(6):
        if seen & (1 << a):
            i = at[a]
            out.arg[out.n] = a
            out.op[out.n] = cmps[i].op
            if cmps[i].op == SCMP_CMP_MASKED_EQ:
                out.mask[out.n] = cmps[i].datum_a
                out.datum[out.n] = cmps[i].datum_b
            else:
                out.mask[out.n] = 0xFFFFFFFFFFFFFFFF
                out.datum[out.n] = cmps[i].datum_a
            out.n += 1
    return out


cdef bint _multiplexed(Filter self, int nr) except -1:
    """Whether libseccomp may add this syscall's rules to a multiplexer's tree too."""
    for token in self._arch_tokens:
        if token in _MUX_TOKENS:
            break
    else:
        return False
    cdef char *name = seccomp_syscall_resolve_num_arch(seccomp_arch_native(), nr)
    if name == NULL:
        return True
    try:
        return (<bytes>name).decode() in _MUX_NAMES
    finally:
        free(name)


cdef bint _guard_holds(Filter self, uint32_t act, object syscall, int nr, scmp_arg_cmp *cmps,
                       unsigned int n) except -1:
    """Whether this rule is to be kept out of libseccomp (see the top of this file). Called
    holding the filter's lock, for every rule of two conditions or more and, once there are
    trees, every rule; when it returns False the caller gives the rule to libseccomp and
    then calls _guard_settle() with libseccomp's answer."""
    cdef _Trees trees = self._trees
    cdef _Tree t
    if not _LOOP_PRONE:
        return False
    if trees is None:
        trees = self._trees = _Trees()
    trees.pending = None
    chain = _chain_of(cmps, n)
    if chain is None:
        return False  # libseccomp refuses it before it builds anything
    if nr in trees.unknown:
        return n >= 2
    if nr not in trees.given:
        if n < 2:
            return False
        if _multiplexed(self, nr):
            trees.unknown.add(nr)
            return True
        trees.given[nr] = _given_rules(self, syscall, nr)
    elif _multiplexed(self, nr):
        del trees.given[nr]
        trees.forget_trees(nr)
        trees.unknown.add(nr)
        return n >= 2
    tokens = self._arch_tokens
    cdef Py_ssize_t i
    cdef int outcome
    for i in range(len(tokens)):
        t = trees.tree(tokens[i], nr)
        if t is None:
            del trees.given[nr]
            trees.forget_trees(nr)
            trees.unknown.add(nr)
            return n >= 2
        outcome = t.add(chain, act, tokens[i] in _WIDE_TOKENS, True)
        if outcome == _TOO_DEAR or outcome == _TOO_DEAR_UNCHANGED:
            if outcome == _TOO_DEAR or i > 0:
                trees.forget_trees(nr)  # (made again from the rules given, without this one)
            return True
    trees.pending = (nr, (act, chain, tokens))
    return False


cdef int _guard_settle(Filter self, int rc) except -1:
    """After libseccomp's answer to the rule _guard_holds() let through: keep it in the
    model, or (refused: libseccomp restored its trees) make the trees again."""
    cdef _Trees trees = self._trees
    if trees.pending is None:
        return 0
    nr, entry = trees.pending
    trees.pending = None
    if rc == 0:
        trees.given[nr].append(entry)
    else:
        trees.forget_trees(nr)
    return 0


cdef list _given_rules(Filter self, object syscall, int nr):
    """The rules of the syscall in the rule log (all given to libseccomp: nothing is held for
    a syscall before its first rule of two conditions or more), as _Trees.given holds them."""
    cdef scmp_arg_cmp cmps[6]
    out = []
    for entry in self._rule_log:
        if entry[1] == syscall or _syscall_nr(entry[1]) == nr:
            _fill_cmps(entry[2], cmps)
            out.append((_action(entry[0]), _chain_of(cmps, len(entry[2])), entry[4]))
    return out


cdef _Trees _merged_trees(Filter self, Filter that):
    """The guard's knowledge after merging *that* into *self* (their architectures differ)."""
    if self._trees is None and that._trees is None:
        return None
    cdef _Trees out = _Trees()
    cdef _Trees side
    for f in (self, that):
        side = (<Filter>f)._trees
        if side is not None:
            out.unknown |= side.unknown
    for f in (self, that):
        side = (<Filter>f)._trees
        if side is None:
            continue
        for nr in side.given:
            if nr in out.given or nr in out.unknown:
                continue
            rules = []
            for g in (self, that):
                other = (<Filter>g)._trees
                if other is not None and nr in other.given:
                    rules += other.given[nr]
                elif any(_syscall_nr(h[1]) == nr for h in (<Filter>g)._held_rules or ()):
                    rules = None
                    break
                else:
                    rules += _given_rules(<Filter>g, nr, nr)
            if rules is None:
                out.unknown.add(nr)
            else:
                out.given[nr] = rules
    return out


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


def _model_steps(rules, arch=None):
    """The steps the guard's model counts for adding each of *rules* ((action, conditions)
    pairs of one syscall) in turn to one architecture's tree (*arch*: 64-bit unless a
    32-bit token), None for a rule found too dear (then not added). For tests and
    measurement."""
    cdef _Tree t = _Tree()
    cdef scmp_arg_cmp cmps[6]
    wide = arch is None or _arch_token(arch) in _WIDE_TOKENS
    out = []
    for action, conds in rules:
        _fill_cmps(tuple(conds), cmps)
        outcome = t.add(_chain_of(cmps, len(conds)), _action(action), wide, False)
        out.append(None if outcome == _TOO_DEAR else t.run.steps)
        if outcome == _TOO_DEAR:
            return out
    return out
