"""The environment variables faultbook reads, declared once; the only module that reads ``os.environ``.

``Settings.environ`` keeps the whole mapping too, on purpose: the scrubber must know every secret-looking
value in it (``capture.scrub``), and ``faultbook run`` hands it to the wrapped command.  Code that wants a
variable's *meaning* reads ``settings.env.<name>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Mapping

from faultbook.config.declare import Key, setting


@dataclass(frozen=True)
class Environment:
    FAULTBOOK_DATABASE_URL: str | None = setting(None, "The ledger's database URL; wins over database_url.")
    FAULTBOOK_PROJECT: str | None = setting(None, "The project key; wins over project.")
    FAULTBOOK_SERVER_URL: str | None = setting(None, "The team server `faultbook run` reports to; wins over [server] url.")
    FAULTBOOK_SERVER_TOKEN: str | None = setting(None, "Its API token; wins over [server] token.")
    FAULTBOOK_ACTOR: str | None = setting(None, "Who is recorded as the actor of changes (default: the login name).")
    FAULTBOOK_DEBUG: str | None = setting(None, "Set (non-empty) to show the traceback of an internal error.")
    CLOUDFLARE_API_TOKEN: str | None = setting(None, "Cloudflare API token (online checks, rollback, bundles).")
    CLOUDFLARE_ACCOUNT_ID: str | None = setting(None, "Cloudflare account id; wins over the wrangler config's account_id.")
    CLOUDFLARE_API_BASE_URL: str | None = setting(None, "Cloudflare API base URL (as wrangler reads it).")
    VISUAL: str | None = setting(None, "The editor `faultbook record` opens for a long answer (else EDITOR).")
    EDITOR: str | None = setting(None, "The editor, when VISUAL is not set.")
    GITHUB_STEP_SUMMARY: str | None = setting(None, "GitHub Actions: the job summary file `faultbook ci report` appends to.")
    GITHUB_OUTPUT: str | None = setting(None, "GitHub Actions: the step outputs file.")
    GITHUB_EVENT_PATH: str | None = setting(None, "GitHub Actions: the event payload (the pull request to comment on).")
    GITHUB_API_URL: str | None = setting(None, "GitHub Actions: the API base URL (GitHub Enterprise).")
    GITHUB_REPOSITORY: str | None = setting(None, "GitHub Actions: owner/name of the repository.")
    GITHUB_TOKEN: str | None = setting(None, "GitHub Actions: the token for the pull-request comment.")
    INPUT_GITHUB_TOKEN: str | None = setting(None, "GitHub Actions: the action's github-token input (when GITHUB_TOKEN is unset).")
    GITHUB_SERVER_URL: str | None = setting(None, "GitHub Actions: the server, for the run's link.")
    GITHUB_RUN_ID: str | None = setting(None, "GitHub Actions: the run id, for the run's link.")

    @classmethod
    def from_mapping(cls, environ: Mapping[str, str]) -> "Environment":
        """Empty values count as unset (``FOO= cmd`` unsets in practice)."""
        return cls(**{f.name: environ.get(f.name) or None for f in fields(cls)})


ENVIRONMENT_KEYS: tuple[Key, ...] = tuple(
    Key("environment", f.name, "string", None, f.metadata["doc"]) for f in fields(Environment)
)


def process_environ() -> dict[str, str]:
    """A copy of this process's environment: the one read of ``os.environ`` in faultbook."""
    return dict(os.environ)


def process_environment() -> Environment:
    """The declared variables of this process (for the CLI's edges that have no ``Settings`` yet)."""
    return Environment.from_mapping(os.environ)
