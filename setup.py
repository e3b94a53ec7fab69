"""Build the compiled core: every src_c/*.pyx becomes the extension seccomp.<name>.

libseccomp is found with pkg-config; SECCOMP_PREFIX=/path points the build at another
installation (its include/ and lib/ directories) instead.
"""
import glob
import os
import shlex
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

INSTALL_HINT = """
libseccomp (with its headers) was not found. Install it first:
    Debian/Ubuntu:  apt-get install libseccomp-dev pkg-config
    Fedora/RHEL:    dnf install libseccomp-devel pkgconf-pkg-config
    Alpine:         apk add libseccomp-dev pkgconf
or set SECCOMP_PREFIX to a prefix holding include/seccomp.h and lib/libseccomp.so.
"""


def libseccomp_flags():
    prefix = os.environ.get("SECCOMP_PREFIX")
    if prefix:
        libdir = next((d for d in (os.path.join(prefix, "lib64"), os.path.join(prefix, "lib"))
                       if os.path.isdir(d)), os.path.join(prefix, "lib"))
        return {"include_dirs": [os.path.join(prefix, "include")], "library_dirs": [libdir],
                "libraries": ["seccomp"], "runtime_library_dirs": [libdir]}
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", "libseccomp"],
                             check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        sys.exit(INSTALL_HINT)
    flags = {"include_dirs": [], "library_dirs": [], "libraries": []}
    for tok in shlex.split(out):
        key = {"-I": "include_dirs", "-L": "library_dirs", "-l": "libraries"}.get(tok[:2])
        if key:
            flags[key].append(tok[2:])
    return flags


def uses_libseccomp(pyx):
    with open(pyx, encoding="utf-8") as f:
        return "from libseccomp cimport" in f.read()


def extensions():
    from Cython.Build import cythonize

    flags = libseccomp_flags()
    flags["include_dirs"].append("src_c")
    # Only modules that use libseccomp link it: another would carry an rpath to the build
    # machine's prefix into a wheel, where auditwheel does not rewrite it.
    plain = {"include_dirs": flags["include_dirs"]}
    exts = [
        Extension("seccomp." + os.path.splitext(os.path.basename(pyx))[0], [pyx],
                  extra_compile_args=["-O2", "-Wno-unused-function"],
                  **(flags if uses_libseccomp(pyx) else plain))
        for pyx in sorted(glob.glob("src_c/*.pyx"))
    ]
    return cythonize(exts, language_level=3, include_path=["src_c"],
                     compiler_directives={"embedsignature": True,
                                          # methods as method descriptors: they check
                                          # the type of self (a cyfunction does not)
                                          "binding": False})


class BuildExt(build_ext):
    """build_ext, then `seccomp run`'s prebuilt program made by the built package itself
    (seccomp/cli/prebuilt.py says why it is trusted). Not for an in-place (editable) build:
    a source checkout never has one. Without one the package works the same, only slower to
    start `seccomp run`."""

    def run(self):
        super().run()
        if self.inplace:
            return
        build_lib = os.path.abspath(self.build_lib)
        target = os.path.join(build_lib, "seccomp", "profile", "default.prebuilt")
        if os.path.exists(target):  # an earlier build's: never ship it with this code
            os.remove(target)
        env = dict(os.environ, PYTHONPATH=build_lib)
        try:
            subprocess.run([sys.executable, "-m", "seccomp.cli.prebuilt"], cwd=build_lib,
                           env=env, check=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            print("seccomp: no prebuilt program for `seccomp run` (%s)" % exc, file=sys.stderr)


setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
