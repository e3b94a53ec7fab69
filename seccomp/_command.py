"""The file a command name runs, found as execvp(3) finds it: one place for `seccomp run` and
`seccomp.record` (which would otherwise disagree on what "not found" means)."""
import errno as _errno
import os


def find_command(name: str) -> str:
    """The file ``execvp`` would run for *name*: *name* itself when it has a slash, else the
    first executable file of that name in PATH's directories (``os.defpath`` without PATH;
    an empty entry is the current directory). Otherwise an OSError whose ``filename`` is
    *name*: ENOENT when there is none ("command not found" for a name without a slash),
    EISDIR or EACCES when there is one that cannot be executed."""
    if not name:  # joined to PATH's directories it would name them
        raise OSError(_errno.ENOENT, "command not found", name)
    if "/" in name:
        candidates = [name]
    else:
        candidates = [os.path.join(d or ".", name)
                      for d in os.environ.get("PATH", os.defpath).split(os.pathsep)]
    denied = None
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
        if denied is None and os.path.exists(path):
            denied = path
    if denied is not None:
        if os.path.isdir(denied):
            raise OSError(_errno.EISDIR, "Is a directory", name)
        raise OSError(_errno.EACCES, "Permission denied", name)
    raise OSError(_errno.ENOENT, "No such file or directory" if "/" in name
                  else "command not found", name)
