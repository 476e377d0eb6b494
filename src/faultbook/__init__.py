"""faultbook: the deployment failure log for Cloudflare projects, made software."""

__version__ = "0.1.0"
