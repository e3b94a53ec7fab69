"""Type stub for the compiled part of seccomp.record (src_c/_record.pyx)."""
from typing import List, Tuple

HANDOFF_ADDRESS: int

def exec_recorded(bpf: bytes, sock: int, path: bytes, argv: List[bytes],
                  envp: List[bytes]) -> Tuple[int, int]: ...
