"""Sphinx configuration: `sphinx-build -W -b html docs docs/_build` (tests/test_docs.py)."""
import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))

project = "seccomp"
author = "The seccomp Python package authors"
copyright = "2026, " + author
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon", "seccomp_cli"]
default_role = "py:obj"
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False}  # no private bases
exclude_patterns = ["_build"]
html_theme = "alabaster"
