"""Cloudflare-facing pieces: wrangler config loading (with positions) and the API client wrapper."""
