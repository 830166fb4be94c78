"""Sphinx configuration of snode's documentation (``python -m sphinx -W -b html docs
docs/_build``; the ``docs`` extra installs what it needs)."""
import os

import snode

project = "snode"
author = "the snode developers"
copyright = "2026, the snode developers"
release = version = snode.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "generated/*.examples"]
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

autosummary_generate = True
# (each class's page documents its public methods and properties below the summary table)
autodoc_default_options = {"members": True, "inherited-members": False,
                           "undoc-members": False, "show-inheritance": False,
                           # (scikit-learn's metadata-routing methods, documented there)
                           "exclude-members": "set_fit_request, set_score_request, "
                                              "get_metadata_routing"}
autosummary_imported_members = True
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

intersphinx_mapping = {}  # (the build reads nothing from the network)

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # the plot_ examples run at build time; mpi_training.py is shown, not run (it runs under
    # mpiexec in the tests)
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
    "default_thumb_file": None,
    "matplotlib_animations": False,
    "show_memory": False,
    "reset_modules": ("matplotlib",),
}
os.environ.setdefault("MPLBACKEND", "Agg")

html_theme = "alabaster"
html_static_path = []
html_theme_options = {
    "description": "Standalone neural ODEs trained by nonlinear conjugate gradients",
    "fixed_sidebar": True,
}
