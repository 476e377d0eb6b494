"""Capture: wrap a deploy command, keep what matters of its output, pull out the exact error.

``runner`` runs the command transparently with bounded memory, ``extract``
finds the error text wrangler (or anything else) printed, ``scrub`` removes
secrets from whatever is kept, ``infer`` names the component and step;
``faultbook.knowledge.fingerprint`` turns the error into a recurrence key.
"""
