"""What faultbook knows about deploy errors: the built-in Cloudflare catalog and the matcher.

``catalog`` loads the known errors from the data files in ``catalog/``;
``match`` ranks what is known about one error (the project's own failures,
the catalog, its potential failures).  Pure: no database access here —
``services.recognition`` reads the ledger and passes it in.
"""
