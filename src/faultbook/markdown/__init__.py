"""The ledger's Markdown form: parse a failure-tracking document, render one back.

The format is the seed document's (examples/quoteviral/FAILURES.md): prose
sections kept verbatim, failure blocks under "Current Failures", potential
failures under "Potential Future Failures".  ``parse_document`` and
``render_document`` are inverses: import then export of a document gives the
same bytes back (trailing whitespace aside).  Pure functions, no storage.
"""

from faultbook.markdown.layout import default_layout
from faultbook.markdown.parse import parse_document
from faultbook.markdown.render import render_document, render_failure, render_potential_failure

__all__ = [
    "default_layout",
    "parse_document",
    "render_document",
    "render_failure",
    "render_potential_failure",
]
