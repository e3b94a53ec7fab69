"""File descriptors over unix sockets (SCM_RIGHTS): a listener handed to a supervisor, to an
OCI seccomp agent, or from a recorded child to the recorder. `seccomp.notify` exports
`send_fd` and `receive_fd`."""
from __future__ import annotations

import errno as _errno
import os

from ._errors import SeccompError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import socket
    from typing import List, Tuple

__all__ = ["send_fd", "receive_fd", "receive_fds"]


def send_fd(sock: "socket.socket", fd: int, message: bytes = b"fd") -> None:
    """Send *fd* over a unix socket (SCM_RIGHTS), e.g. a listener to a supervisor process."""
    import array
    import socket
    # MSG_NOSIGNAL: a peer gone is EPIPE, also where SIGPIPE is not ignored (seccomp run
    # restores it for its command before sending the listener to the agent)
    sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))],
                 socket.MSG_NOSIGNAL)


def receive_fds(sock: "socket.socket", size: int, count: int = 1) -> Tuple[bytes, List[int]]:
    """Receive one message of at most *size* bytes with up to *count* fds (SCM_RIGHTS):
    (the message, the fds received; empty when it carried none)."""
    import array
    import socket
    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(size, socket.CMSG_SPACE(count * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    return msg, list(fds)


def receive_fd(sock: "socket.socket") -> int:
    """Receive one fd sent with `send_fd`."""
    msg, fds = receive_fds(sock, 1024)
    if not fds:
        raise SeccompError(_errno.EBADMSG, "no fd in the message (%r)" % (msg,))
    for extra in fds[1:]:
        os.close(extra)
    return fds[0]
