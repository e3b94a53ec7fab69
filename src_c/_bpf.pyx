# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The compiled part of seccomp.bpf: the kernel's checks on a classic BPF seccomp program and
an interpreter that runs it on a struct seccomp_data, in the byte order of the target.

The checks follow the kernel (bpf_check_classic, check_load_and_stores, seccomp_check_filter):
a program the kernel would refuse is refused here with the reason, and an accepted one runs
exactly as the kernel runs it (division by a zero X returns 0, i.e. KILL_THREAD; shifts by X
use its low five bits).
"""
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int64_t
from libc.string cimport memcpy
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE

import sys

from seccomp._errors import invalid

from kernel cimport BPF_MAXINSNS as MAXINSNS, BPF_MEMWORDS as MEMWORDS

cdef enum:
    DATA_SIZE = 64     # sizeof(struct seccomp_data)

# Opcode fields (linux/bpf_common.h).
cdef enum:
    LD = 0x00
    LDX = 0x01
    ST = 0x02
    STX = 0x03
    ALU = 0x04
    JMP = 0x05
    RET = 0x06
    MISC = 0x07
    W = 0x00
    H = 0x08
    B = 0x10
    IMM = 0x00
    ABS = 0x20
    IND = 0x40
    MEM = 0x60
    LEN = 0x80
    MSH = 0xa0
    ADD = 0x00
    SUB = 0x10
    MUL = 0x20
    DIV = 0x30
    OR = 0x40
    AND = 0x50
    LSH = 0x60
    RSH = 0x70
    NEG = 0x80
    MOD = 0x90
    XOR = 0xa0
    JA = 0x00
    JEQ = 0x10
    JGT = 0x20
    JGE = 0x30
    JSET = 0x40
    K = 0x00
    X = 0x08
    A = 0x10
    TAX = 0x00
    TXA = 0x80

MAX_INSTRUCTIONS = MAXINSNS
SECCOMP_DATA_SIZE = DATA_SIZE


cdef struct insn:
    uint16_t code
    uint8_t jt
    uint8_t jf
    uint32_t k


cdef inline uint16_t _u16(const uint8_t *p, bint big) noexcept nogil:
    return (p[0] << 8 | p[1]) if big else (p[1] << 8 | p[0])


cdef inline uint32_t _u32(const uint8_t *p, bint big) noexcept nogil:
    if big:
        return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]
    return (<uint32_t>p[3] << 24) | (<uint32_t>p[2] << 16) | (<uint32_t>p[1] << 8) | p[0]


cdef inline void _put32(uint8_t *p, uint32_t v, bint big) noexcept nogil:
    cdef int i
    for i in range(4):
        p[3 - i if big else i] = (v >> (8 * i)) & 0xFF


cdef inline void _put64(uint8_t *p, uint64_t v, bint big) noexcept nogil:
    cdef int i
    for i in range(8):
        p[7 - i if big else i] = (v >> (8 * i)) & 0xFF


# The opcodes a seccomp filter may use: exactly the cases seccomp_check_filter() lets through
# (kernel/seccomp.c), every one of which bpf_check_classic() also accepts. The kernel compares
# the whole 16-bit code, so a code with bits above 0xff (0x0104) is refused like any other.
cdef tuple _SECCOMP_OPCODES = (
    LD | W | ABS, LD | W | LEN, LDX | W | LEN, RET | K, RET | A,
    ALU | ADD | K, ALU | ADD | X, ALU | SUB | K, ALU | SUB | X, ALU | MUL | K, ALU | MUL | X,
    ALU | DIV | K, ALU | DIV | X, ALU | AND | K, ALU | AND | X, ALU | OR | K, ALU | OR | X,
    ALU | XOR | K, ALU | XOR | X, ALU | LSH | K, ALU | LSH | X, ALU | RSH | K, ALU | RSH | X,
    ALU | NEG, LD | IMM, LDX | IMM, MISC | TAX, MISC | TXA, LD | MEM, LDX | MEM, ST, STX,
    JMP | JA, JMP | JEQ | K, JMP | JEQ | X, JMP | JGE | K, JMP | JGE | X, JMP | JGT | K,
    JMP | JGT | X, JMP | JSET | K, JMP | JSET | X,
)
cdef bint _ALLOWED[256]
for _code in range(256):
    _ALLOWED[_code] = _code in _SECCOMP_OPCODES
#: The opcodes the kernel accepts in a seccomp filter.
SECCOMP_OPCODES = frozenset(_SECCOMP_OPCODES)


cdef inline bint _seccomp_allowed(uint16_t code) noexcept nogil:
    return code < 256 and _ALLOWED[code]


cdef class Checked:
    """A program that passed the kernel's checks, decoded for the interpreter."""
    cdef insn prog[MAXINSNS]
    cdef readonly int length
    cdef readonly bint big_endian

    def __len__(self):
        return self.length

    def instruction(self, int pc):
        """(code, jt, jf, k) of instruction *pc*."""
        if not 0 <= pc < self.length:
            raise IndexError("instruction %d of %d" % (pc, self.length))
        return (self.prog[pc].code, self.prog[pc].jt, self.prog[pc].jf, self.prog[pc].k)


def _reject(int pc, str why):
    if pc < 0:
        invalid("the kernel would reject the program: " + why)
    invalid("the kernel would reject the program: instruction %d: %s" % (pc, why))


def check(bytes program not None, bint big_endian=False):
    """Decode *program* (classic BPF, in the target's byte order) and apply the kernel's
    checks; returns a `Checked` program or raises InvalidArgumentError with the reason."""
    cdef Py_ssize_t size = PyBytes_GET_SIZE(program)
    cdef const uint8_t *raw = <const uint8_t *>PyBytes_AS_STRING(program)
    cdef Checked c = Checked.__new__(Checked)
    cdef int n, pc
    cdef insn *ins
    cdef uint16_t code
    cdef uint16_t memvalid
    cdef uint16_t masks[MAXINSNS]
    if size == 0 or size % 8:
        _reject(-1, "a program is a non-empty sequence of 8-byte instructions, not %d bytes"
                % size)
    n = size // 8
    if n > MAXINSNS:
        _reject(-1, "%d instructions; the kernel accepts at most %d" % (n, MAXINSNS))
    c.length = n
    c.big_endian = big_endian
    for pc in range(n):
        ins = &c.prog[pc]
        ins.code = _u16(raw + 8 * pc, big_endian)
        ins.jt = raw[8 * pc + 2]
        ins.jf = raw[8 * pc + 3]
        ins.k = _u32(raw + 8 * pc + 4, big_endian)
    # bpf_check_classic: operands and jump targets
    for pc in range(n):
        ins = &c.prog[pc]
        code = ins.code
        if not _seccomp_allowed(code):
            _reject(pc, "opcode 0x%04x is not allowed in a seccomp filter" % code)
        if code == LD | W | ABS and (ins.k >= DATA_SIZE or ins.k & 3):
            _reject(pc, "load from offset %d: seccomp_data has %d bytes, read 4-aligned"
                    % (ins.k, DATA_SIZE))
        if code in (LD | MEM, LDX | MEM, ST, STX) and ins.k >= MEMWORDS:
            _reject(pc, "scratch memory word %d does not exist (0-%d)" % (ins.k, MEMWORDS - 1))
        if code == ALU | DIV | K and ins.k == 0:
            _reject(pc, "division by constant zero")
        if code in (ALU | LSH | K, ALU | RSH | K) and ins.k >= 32:
            _reject(pc, "shift by %d (at most 31)" % ins.k)
        if code == JMP | JA:
            if ins.k >= <uint32_t>(n - pc - 1):
                _reject(pc, "jump by %d goes past the end" % ins.k)
        elif (code & 0x07) == JMP:
            if pc + ins.jt + 1 >= n or pc + ins.jf + 1 >= n:
                _reject(pc, "conditional jump (%d, %d) goes past the end" % (ins.jt, ins.jf))
    if c.prog[n - 1].code != RET | K and c.prog[n - 1].code != RET | A:
        _reject(n - 1, "the last instruction must be a return")
    # check_load_and_stores: scratch memory is written before it is read on every path
    memvalid = 0
    for pc in range(n):
        masks[pc] = 0xFFFF
    for pc in range(n):
        ins = &c.prog[pc]
        memvalid &= masks[pc]
        if ins.code == ST or ins.code == STX:
            memvalid |= <uint16_t>(1 << ins.k)
        elif ins.code == LD | MEM or ins.code == LDX | MEM:
            if not memvalid & (1 << ins.k):
                _reject(pc, "scratch memory word %d is read before it is written" % ins.k)
        elif ins.code == JMP | JA:
            masks[pc + 1 + ins.k] &= memvalid
            memvalid = 0xFFFF
        elif (ins.code & 0x07) == JMP:
            masks[pc + 1 + ins.jt] &= memvalid
            masks[pc + 1 + ins.jf] &= memvalid
            memvalid = 0xFFFF
    return c


cdef uint32_t _run(Checked c, const uint8_t *data) noexcept nogil:
    cdef uint32_t a = 0, x = 0
    cdef uint32_t mem[MEMWORDS]
    cdef int pc = 0
    cdef const insn *ins
    cdef uint32_t operand
    cdef bint big = c.big_endian
    cdef uint16_t code
    while True:
        ins = &c.prog[pc]
        code = ins.code
        pc += 1
        if code == LD | W | ABS:
            a = _u32(data + ins.k, big)
        elif (code & 0x07) == JMP:
            if code == JMP | JA:
                pc += ins.k
                continue
            operand = x if code & X else ins.k
            if code & 0xf0 == JEQ:
                pc += ins.jt if a == operand else ins.jf
            elif code & 0xf0 == JGT:
                pc += ins.jt if a > operand else ins.jf
            elif code & 0xf0 == JGE:
                pc += ins.jt if a >= operand else ins.jf
            else:
                pc += ins.jt if a & operand else ins.jf
        elif code == RET | K:
            return ins.k
        elif code == RET | A:
            return a
        elif (code & 0x07) == ALU:
            operand = x if code & X else ins.k
            code &= 0xf0
            if code == ADD:
                a += operand
            elif code == SUB:
                a -= operand
            elif code == MUL:
                a *= operand
            elif code == DIV:
                if operand == 0:
                    return 0  # the kernel ends the program with 0 (KILL_THREAD)
                a //= operand
            elif code == OR:
                a |= operand
            elif code == AND:
                a &= operand
            elif code == XOR:
                a ^= operand
            elif code == LSH:
                a <<= operand & 31
            elif code == RSH:
                a >>= operand & 31
            else:
                a = -a
        elif code == LD | W | LEN:
            a = DATA_SIZE
        elif code == LDX | W | LEN:
            x = DATA_SIZE
        elif code == LD | IMM:
            a = ins.k
        elif code == LDX | IMM:
            x = ins.k
        elif code == LD | MEM:
            a = mem[ins.k]
        elif code == LDX | MEM:
            x = mem[ins.k]
        elif code == ST:
            mem[ins.k] = a
        elif code == STX:
            mem[ins.k] = x
        elif code == MISC | TAX:
            x = a
        else:  # MISC | TXA
            a = x


cdef bint _HOST_BIG = sys.byteorder == "big"


cdef inline uint32_t _swap32(uint32_t v) noexcept nogil:
    return ((v & 0xFF) << 24) | ((v & 0xFF00) << 8) | ((v >> 8) & 0xFF00) | (v >> 24)


cdef inline uint64_t _swap64(uint64_t v) noexcept nogil:
    return (<uint64_t>_swap32(<uint32_t>v) << 32) | _swap32(<uint32_t>(v >> 32))


cdef void _fill(uint8_t *data, uint32_t nr, uint32_t arch, uint64_t ip, const uint64_t *args,
                bint big, uint64_t arg_mask) noexcept nogil:
    # struct seccomp_data in the target's byte order
    cdef uint32_t w[2]
    cdef uint64_t q[7]
    cdef int i
    cdef bint swap = big != _HOST_BIG
    w[0] = _swap32(nr) if swap else nr
    w[1] = _swap32(arch) if swap else arch
    q[0] = _swap64(ip) if swap else ip
    for i in range(6):
        q[i + 1] = _swap64(args[i] & arg_mask) if swap else args[i] & arg_mask
    memcpy(data, w, 8)
    memcpy(data + 8, q, 56)


cdef int64_t _syscall_nr(object nr) except? -1:
    """A syscall number as the kernel's 32-bit field holds it (-1 is 0xffffffff)."""
    cdef long long v
    try:
        v = nr
    except OverflowError:
        v = 1LL << 40
    if v < -(1LL << 31) or v >= (1LL << 32):
        invalid("syscall number %d does not fit in 32 bits" % nr)
    return v & 0xFFFFFFFF


cdef inline int _arg(object v, Py_ssize_t i, uint64_t *out) except -1:
    """Register value *v* into *out*: syscall argument *i*, or the instruction pointer when
    *i* is -1."""
    if type(v) is not int and (not isinstance(v, int) or isinstance(v, bool)):
        raise TypeError("%s, not %s" % ("syscall arguments are ints" if i >= 0 else
                                        "the instruction pointer is an int", type(v).__name__))
    try:
        out[0] = <unsigned long long>v
        return 0
    except OverflowError:
        pass
    try:  # negative: its two's complement, as in a register
        out[0] = <uint64_t><long long>v
        return 0
    except OverflowError:
        pass
    invalid("%s (%d) does not fit in 64 bits" % (
        "argument %d" % i if i >= 0 else "the instruction pointer", v))


cdef int _args(object values, uint64_t *out) except -1:
    cdef Py_ssize_t i, n
    cdef tuple t
    if type(values) is not tuple:
        values = tuple(values)
    t = <tuple>values
    n = len(t)
    if n > 6:
        invalid("a syscall has at most 6 arguments, not %d" % n)
    for i in range(n):
        _arg(t[i], i, &out[i])
    for i in range(n, 6):
        out[i] = 0
    return 0


def run(Checked program not None, nr, uint32_t arch, args=(), ip=0,
        bint wide_args=True):
    """Run *program* on one syscall; returns the 32-bit value it returns. *arch* is the
    AUDIT_ARCH value the kernel puts in seccomp_data; without *wide_args* (32-bit arches) the
    arguments are cut to 32 bits, as the kernel would see them."""
    cdef uint8_t data[DATA_SIZE]
    cdef uint64_t argv[6]
    cdef uint64_t ipv
    _args(args, argv)
    _arg(ip, -1, &ipv)
    _fill(data, _syscall_nr(nr), arch, ipv, argv, program.big_endian,
          0xFFFFFFFFFFFFFFFF if wide_args else 0xFFFFFFFF)
    return _run(program, data)


def run_many(Checked program not None, calls, uint32_t arch, bint wide_args, dict decoded,
             decode, resolve):
    """Run *program* on many syscalls and return their decoded answers: *calls* holds syscall
    numbers or (syscall, args[, ip]) tuples; ``resolve(name)`` turns a name into a number,
    ``decode(value)`` a returned value into an action (cached in *decoded*)."""
    cdef uint8_t data[DATA_SIZE]
    cdef uint64_t argv[6]
    cdef uint64_t mask = 0xFFFFFFFFFFFFFFFF if wide_args else 0xFFFFFFFF
    cdef list out = []
    cdef uint64_t ip
    cdef uint32_t ret, last_ret = 0
    cdef int i
    last_action = None
    cdef tuple t
    cdef Py_ssize_t size
    for call in calls:
        ip = 0
        if type(call) is tuple:
            t = <tuple>call
            size = len(t)
            if size == 0:
                invalid("an empty tuple is no syscall")
            nr = t[0]
            _args(t[1] if size > 1 else (), argv)
            if size > 2:
                _arg(t[2], -1, &ip)
        else:
            nr = call
            for i in range(6):
                argv[i] = 0
        if type(nr) is not int:
            nr = resolve(nr)
        _fill(data, _syscall_nr(nr), arch, ip, argv, program.big_endian, mask)
        ret = _run(program, data)
        if last_action is None or ret != last_ret:  # a batch mostly repeats its answers
            last_action = decoded.get(ret)
            if last_action is None:
                last_action = decode(ret)
            last_ret = ret
        out.append(last_action)
    return out


def first_mismatch(Checked program not None, uint32_t arch, bint wide_args,
                   const uint32_t[::1] nrs not None, const uint64_t[::1] args not None,
                   const uint32_t[::1] expected not None):
    """Run *program* on many syscalls at once: numbers *nrs*, six *args* each (instruction
    pointer 0), on *arch*; the index of the first whose returned value is not *expected*,
    or -1 when all agree (the check of a filter against its rules, seccomp.bpf.model)."""
    cdef Py_ssize_t i, n = nrs.shape[0], bad = -1
    cdef uint8_t data[DATA_SIZE]
    cdef uint64_t mask = 0xFFFFFFFFFFFFFFFF if wide_args else 0xFFFFFFFF
    if args.shape[0] != 6 * n or expected.shape[0] != n:
        raise ValueError("first_mismatch: %d syscalls need %d arguments and %d answers"
                         % (n, 6 * n, n))
    for i in range(n):
        _fill(data, nrs[i], arch, 0, &args[6 * i], program.big_endian, mask)
        if _run(program, data) != expected[i]:
            bad = i
            break
    return bad


cdef class Target:
    """An architecture as the emulator needs it, with the caches that make repeated
    evaluations cheap: checked programs (by their bytes) and decoded answers."""
    cdef readonly uint32_t audit_arch
    cdef readonly bint big_endian
    cdef readonly bint wide
    cdef dict checked
    cdef dict decoded
    cdef object decode
    cdef object resolve
    cdef dict numbers

    def __init__(self, uint32_t audit_arch, bint big_endian, bint wide, dict decoded not None,
                 decode, resolve):
        self.audit_arch = audit_arch
        self.big_endian = big_endian
        self.wide = wide
        self.checked = {}
        self.decoded = decoded
        self.decode = decode
        self.resolve = resolve
        self.numbers = {}

    cpdef Checked program(self, program):
        """*program* (bytes) checked for this architecture's byte order, cached."""
        cdef Checked c
        if type(program) is not bytes:  # before the cache: a bytearray cannot be a key
            if isinstance(program, (bytearray, memoryview)):
                program = bytes(program)
            else:
                raise TypeError("a BPF program is bytes (Filter.export_bpf()), not %s"
                                % type(program).__name__)
        c = self.checked.get(program)
        if c is None:
            c = check(program, self.big_endian)
            if len(self.checked) >= 16:
                self.checked.clear()
            self.checked[program] = c
        return c

    def evaluate(self, program, syscall, args=(), ip=0):
        """The decoded answer of *program* for one syscall (a number, or a name resolved for
        this architecture) with *args* and instruction pointer *ip*."""
        cdef uint8_t data[DATA_SIZE]
        cdef uint64_t argv[6]
        cdef uint64_t ipv
        cdef Checked c = self.program(program)
        if type(syscall) is not int:
            nr = self.numbers.get(syscall) if type(syscall) is str else None
            if nr is None:
                nr = self.resolve(syscall)
                if type(syscall) is str:
                    self.numbers[syscall] = nr
            syscall = nr
        _args(args, argv)
        _arg(ip, -1, &ipv)
        _fill(data, _syscall_nr(syscall), self.audit_arch, ipv, argv, self.big_endian,
              0xFFFFFFFFFFFFFFFF if self.wide else 0xFFFFFFFF)
        cdef uint32_t ret = _run(c, data)
        action = self.decoded.get(ret)
        if action is None:
            action = self.decode(ret)
        return action

    def evaluate_many(self, program, calls):
        """`evaluate` for many calls: syscall numbers or names, or (syscall, args[, ip])."""
        return run_many(self.program(program), calls, self.audit_arch, self.wide, self.decoded,
                        self.decode, self.resolve)
