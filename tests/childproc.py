"""Run code in a child process, where loading a seccomp filter cannot touch the test runner.

`in_child(fn, *args)` forks; the child runs fn and sends its return value (or the exception
it raised) back through a pipe. The result says how the child ended: its exit code, or the
signal that killed it, as the kernel reported it to waitpid().
"""
import os
import pickle
import signal
import subprocess
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Optional


@dataclass
class ChildResult:
    exitcode: Optional[int]
    signal: Optional[int]
    value: Any = None
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.exitcode == 0 and self.error is None

    def unwrap(self) -> Any:
        assert self.ok, "child failed: exit=%s signal=%s\n%s" % (
            self.exitcode, self.signal and signal.Signals(self.signal).name, self.error)
        return self.value


def in_child(fn, *args, timeout: float = 30.0) -> ChildResult:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(r)
        signal.alarm(int(timeout))  # a hung child dies of SIGALRM instead of hanging the run
        try:
            payload = pickle.dumps(("ok", fn(*args)))
        except BaseException:
            payload = pickle.dumps(("error", traceback.format_exc()))
        try:
            os.write(w, payload)
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    with os.fdopen(r, "rb") as f:
        chunks.append(f.read())
    _, status = os.waitpid(pid, 0)
    data = b"".join(chunks)
    value = error = None
    if data:
        kind, obj = pickle.loads(data)
        value, error = (obj, None) if kind == "ok" else (None, obj)
    if os.WIFSIGNALED(status):
        return ChildResult(None, os.WTERMSIG(status), value, error)
    return ChildResult(os.WEXITSTATUS(status), None, value, error)


def run_python(code: str, *args: str, python: str = sys.executable, timeout: float = 60.0,
               env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run a Python script in a fresh interpreter (for code that loads filters or may crash)."""
    return subprocess.run([python, "-c", code, *args], capture_output=True, text=True,
                          timeout=timeout, env=env)
