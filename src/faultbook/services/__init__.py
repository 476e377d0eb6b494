"""The verbs of faultbook: each takes a session or settings, returns values, never prints."""
