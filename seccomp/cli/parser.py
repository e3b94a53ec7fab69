"""The `seccomp` command's argparse classes, imported only when a command line needs argparse
(importing argparse is a good part of a short command's start-up)."""
from __future__ import annotations

import argparse
import sys

from .common import error

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, NoReturn, Optional


class Parser(argparse.ArgumentParser):
    """argparse with the command's one error prefix (``seccomp: error:``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        error(message)
        self.exit(2)


def _version() -> str:
    from .. import __version__, _core
    from .._info import api_level, library_version

    return "seccomp %s (libseccomp %s, compiled against %s, API level %d)" % (
        __version__, ".".join(map(str, library_version())),
        ".".join(map(str, _core.COMPILED_VERSION)), api_level())


class VersionAction(argparse._VersionAction):
    """argparse's ``version`` action, with the text worked out only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: Optional[str] = None) -> None:
        self.version = _version()
        super().__call__(parser, namespace, values, option_string)
