"""Type stub for the compiled part of seccomp.notify (src_c/_notify.pyx)."""
from typing import Any, Callable, List, Optional, Sequence, Union

from typing_extensions import disjoint_base

from ._enums import Arch

FLAG_CONTINUE: int
ADDFD_FLAG_SETFD: int
ADDFD_FLAG_SEND: int
CONTINUE: Any

@disjoint_base  # a compiled class: no multiple inheritance with another
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

@disjoint_base  # a compiled class: no multiple inheritance with another
class NotificationResponse:
    id: int
    val: int
    error: int
    flags: int
    def __init__(self, notify: Union[Notification, int], val: int = ..., error: int = ...,
                 flags: int = ...) -> None: ...

@disjoint_base  # a compiled class: no multiple inheritance with another
class NotificationAddfd:
    id: int
    flags: int
    fd: int
    newfd: int
    newfd_flags: int
    def __init__(self, notify: Union[Notification, int], flags: int, fd: int, newfd: int = ...,
                 newfd_flags: int = ...) -> None: ...

@disjoint_base  # a compiled class: no multiple inheritance with another
class InjectFd:
    fd: int
    cloexec: bool
    target_fd: Optional[int]
    close: bool
    def __init__(self, fd: int, *, cloexec: bool = ..., target_fd: Optional[int] = ...,
                 close: bool = ...) -> None: ...

def receive(fd: int, timeout: Optional[float] = ..., wake_fd: int = ...) -> Notification: ...
def respond(fd: int, response: NotificationResponse) -> None: ...
def send(fd: int, id: int, val: int = ..., error: int = ..., flags: int = ...) -> None: ...
def id_valid(fd: int, id: int) -> bool: ...
def add_fd(fd: int, addfd: NotificationAddfd) -> int: ...
def set_sync_wake_up(fd: int) -> bool: ...
def read_memory(pid: int, address: int, size: int) -> bytes: ...
def write_memory(pid: int, address: int, data: bytes) -> int: ...
def openat2(dirfd: int, path: Union[str, bytes], flags: int, mode: int = ...,
            resolve: int = ...) -> int: ...
def dispatch(fd: int, n: Notification, fn: Callable[[Notification], Any]) -> None: ...

@disjoint_base  # a compiled class: no multiple inheritance with another
class Server:
    handled: int
    def __init__(self, fd: int, resolve: Callable[[int, int], Callable[[Notification], Any]]
                 ) -> None: ...
    def forget(self) -> None: ...
    def handle(self, n: Notification) -> None: ...
    def serve_one(self, linger_us: int = ..., budget_us: int = ...) -> int: ...
    def serve(self) -> int: ...
    def stop(self) -> None: ...
