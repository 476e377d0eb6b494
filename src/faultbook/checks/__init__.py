"""Preflight checks for wrangler configs: rules, runner, suppressions, fixes (see base.py)."""
