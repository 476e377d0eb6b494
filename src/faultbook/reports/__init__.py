"""Report formatters for ``faultbook check``: each ``format(report) -> str``, none prints."""
