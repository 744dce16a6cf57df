"""Sphinx configuration for manigeo."""

import os
import sys
import warnings

sys.path.insert(0, os.path.abspath(".."))
import manigeo  # noqa: E402

project = "manigeo"
author = "manigeo developers"
copyright = "2026, manigeo developers"
release = manigeo.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "**/sg_execution_times.rst",
    "sg_execution_times.rst",
]
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
# types are documented in the numpydoc Parameters sections; the signature hints
# (numpy.typing.ArrayLike expands to private numpy classes) would only add noise
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
html_theme = "alabaster"
html_static_path = ["_static"]

intersphinx_mapping = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable", None),
    "scipy": ("https://docs.scipy.org/doc/scipy", None),
    "sklearn": ("https://scikit-learn.org/stable", None),
}
# no network on build machines: never fail because an inventory is unreachable
intersphinx_timeout = 2
suppress_warnings = ["intersphinx.external"]
if os.environ.get("MANIGEO_DOCS_OFFLINE", "1") == "1":
    intersphinx_mapping = {}

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": r"/plot_",
    "doc_module": ("manigeo",),
    "backreferences_dir": "generated",
    "reference_url": {"manigeo": None},
    "download_all_examples": False,
    "show_memory": False,
}

warnings.filterwarnings(
    "ignore", category=UserWarning, message="Matplotlib is currently using agg"
)
