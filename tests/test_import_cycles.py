"""No import cycle among faultbook's modules, imports inside functions included (issue 11).

A cycle hidden inside a function (``web/app.py`` importing the routes in ``create_app`` while every route
imported ``render`` from ``app.py``) works until someone moves an import to the top; grimp (import-linter's
graph) sees both kinds, so this test fails on the first such pair.
"""

from __future__ import annotations

import grimp


def test_no_module_imports_a_module_that_imports_it_back():
    graph = grimp.build_graph("faultbook", cache_dir=None)
    cycles = sorted(
        f"{module} -> {imported} -> ... -> {module}"
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if imported != module and graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == []
