"""Configuration: faultbook.toml and the environment, read here and nowhere else.

``load_settings`` -> ``Settings``: the project, the database, and one typed, frozen value per
faultbook.toml table (``settings.check``, ``.capture``, ``.server``, ``.rollback``, ``.pages``,
``.support``; the network tables are parsed by ``faultbook.netprobe.targets``) plus ``settings.env``,
the declared environment variables.  Every key is declared once (``sections``, ``environment``) and
documented in docs/settings.md; ``tests/test_settings_docs.py`` keeps them equal.
"""

from faultbook.config.environment import Environment, process_environment
from faultbook.config.sections import (
    CaptureSection,
    CheckSection,
    McpSection,
    PagesSection,
    RollbackSection,
    ServerSection,
    SupportSection,
)
from faultbook.config.settings import (
    CONFIG_FILE,
    DATA_DIR,
    Settings,
    find_project_root,
    load_settings,
    normalise_database_url,
    project_key_from_name,
    redact_url,
    uses_embedded_database,
)

__all__ = [
    "CONFIG_FILE", "DATA_DIR", "CaptureSection", "CheckSection", "Environment", "McpSection", "PagesSection", "RollbackSection",
    "ServerSection", "Settings", "SupportSection", "find_project_root", "load_settings", "normalise_database_url",
    "process_environment", "project_key_from_name", "redact_url", "uses_embedded_database",
]
