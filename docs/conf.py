"""Sphinx configuration of the piqs-squeeze API reference (built from the docstrings).

Build: ``python -m sphinx -W -b html docs docs/_build`` (the tests do, warnings are errors).
"""
project = "piqs-squeeze"
author = "piqs-squeeze developers"
extensions = ["sphinx.ext.autodoc", "numpydoc"]
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
exclude_patterns = ["_build"]
html_theme = "alabaster"
suppress_warnings = ["autodoc.import_object"]
