"""Type stub for the compiled part of seccomp.notify (src_c/_notify.pyx)."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from ._errors import NotificationGone as NotificationGone, TargetsGone as TargetsGone
from ._enums import Arch

FLAG_CONTINUE: int
ADDFD_FLAG_SETFD: int
ADDFD_FLAG_SEND: int
CONTINUE: Any

class Notification:
    id: int
    pid: int
    flags: int
    syscall: int
    syscall_arch: int
    syscall_ip: int
    args: tuple[int, ...]
    def __init__(self, id: int, pid: int, flags: int, syscall: int, syscall_arch: int,
                 syscall_ip: int, syscall_args: Sequence[int]) -> None: ...
    @property
    def syscall_args(self) -> List[int]: ...
    @property
    def arch(self) -> Arch: ...
    @property
    def ip(self) -> int: ...
    @property
    def syscall_name(self) -> str: ...

class NotificationResponse:
    id: int
    val: int
    error: int
    flags: int
    def __init__(self, notify: Union[Notification, int], val: int = ..., error: int = ...,
                 flags: int = ...) -> None: ...

class NotificationAddfd:
    id: int
    flags: int
    fd: int
    newfd: int
    newfd_flags: int
    def __init__(self, notify: Union[Notification, int], flags: int, fd: int, newfd: int = ...,
                 newfd_flags: int = ...) -> None: ...

class InjectFd:
    fd: int
    cloexec: bool
    target_fd: Optional[int]
    def __init__(self, fd: int, *, cloexec: bool = ..., target_fd: Optional[int] = ...) -> None: ...

def receive(fd: int, timeout: Optional[float] = ..., wake_fd: int = ...) -> Notification: ...
def respond(fd: int, response: NotificationResponse) -> None: ...
def send(fd: int, id: int, val: int = ..., error: int = ..., flags: int = ...) -> None: ...
def id_valid(fd: int, id: int) -> bool: ...
def add_fd(fd: int, addfd: NotificationAddfd) -> int: ...
def set_sync_wake_up(fd: int) -> bool: ...
def read_memory(pid: int, address: int, size: int) -> bytes: ...
def write_memory(pid: int, address: int, data: bytes) -> int: ...
def dispatch(fd: int, n: Notification, fn: Callable[[Notification], Any]) -> None: ...
def serve(fd: int, wake_fd: int, handlers: Dict[int, Callable[[Notification], Any]],
          default: Callable[[Notification], Any]) -> int: ...
