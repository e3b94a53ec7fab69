"""Type stub for the compiled part of seccomp.bpf (src_c/_bpf.pyx)."""
from typing import Any, Callable, Dict, FrozenSet, Iterable, List, Sequence, Tuple

from typing_extensions import disjoint_base

from ._enums import Action

MAX_INSTRUCTIONS: int
SECCOMP_DATA_SIZE: int
SECCOMP_OPCODES: FrozenSet[int]

@disjoint_base  # a compiled class: no multiple inheritance with another
class Checked:
    length: int
    big_endian: bool
    def __len__(self) -> int: ...
    def instruction(self, pc: int) -> Tuple[int, int, int, int]: ...

def check(program: bytes, big_endian: bool = ...) -> Checked: ...
def run(program: Checked, nr: int, arch: int, args: Sequence[int] = ..., ip: int = ...,
        wide_args: bool = ...) -> int: ...
def run_many(program: Checked, calls: Iterable[Any], arch: int, wide_args: bool,
             decoded: Dict[int, Any], decode: Callable[[int], Any],
             resolve: Callable[[Any], int]) -> List[Any]: ...

def first_mismatch(program: Checked, arch: int, wide_args: bool, nrs: Any, args: Any,
                   expected: Any) -> int: ...

@disjoint_base  # a compiled class: no multiple inheritance with another
class Target:
    audit_arch: int
    big_endian: bool
    wide: bool
    def __init__(self, audit_arch: int, big_endian: bool, wide: bool, decoded: Dict[int, Any],
                 decode: Callable[[int], Any], resolve: Callable[[Any], int]) -> None: ...
    def program(self, program: bytes) -> Checked: ...
    def evaluate(self, program: bytes, syscall: Any, args: Sequence[int] = ...,
                 ip: int = ...) -> Action: ...
    def evaluate_many(self, program: bytes, calls: Iterable[Any]) -> List[Action]: ...
