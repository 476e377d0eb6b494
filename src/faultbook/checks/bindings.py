"""The binding kinds wrangler knows, as data: where each lives in the config, its fields, its upload type.

Source: cloudflare-facts.md's binding table (read from workers-sdk's config
validation).  The rules about bindings (required fields, ids, duplicates,
unsafe types, environments) all read this one table, so a new binding kind is
one line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from faultbook.cloudflare.config import KeyPath
from faultbook.checks.base import Scope


@dataclass(frozen=True)
class BindingKind:
    #: Path under a scope: ("kv_namespaces",) or ("durable_objects", "bindings").
    key: tuple[str, ...]
    many: bool  # an array of tables, or a single table
    name_field: str
    required: tuple[str, ...]
    friendly: str  # wrangler's name in the duplicate-binding message
    metadata_type: str | None
    #: Id fields that must have a shape: field -> "hex32" | "uuid".  Only what deploys: ``preview_id`` /
    #: ``preview_database_id`` are read by ``wrangler dev --remote`` alone, never by ``wrangler deploy``.
    id_shapes: tuple[tuple[str, str], ...] = ()
    #: Fields that hold an id someone had to paste from the dashboard (placeholder check).
    id_fields: tuple[str, ...] = ()

    @property
    def config_key(self) -> str:
        return ".".join(self.key)


KINDS: tuple[BindingKind, ...] = (
    BindingKind(("durable_objects", "bindings"), True, "name", ("name", "class_name"), "Durable Object", "durable_object_namespace"),
    BindingKind(("kv_namespaces",), True, "binding", ("binding",), "KV Namespace", "kv_namespace",
                (("id", "hex32"),), ("id",)),
    BindingKind(("r2_buckets",), True, "binding", ("binding",), "R2 Bucket", "r2_bucket"),
    BindingKind(("d1_databases",), True, "binding", ("binding",), "D1 Database", "d1",
                (("database_id", "uuid"),), ("database_id",)),
    BindingKind(("queues", "producers"), True, "binding", ("binding", "queue"), "Queue", "queue"),
    BindingKind(("workflows",), True, "binding", ("binding", "name", "class_name"), "Workflow", "workflow"),
    BindingKind(("services",), True, "binding", ("binding", "service"), "Service", "service"),
    BindingKind(("vectorize",), True, "binding", ("binding", "index_name"), "Vectorize Index", "vectorize"),
    BindingKind(("hyperdrive",), True, "binding", ("binding", "id"), "Hyperdrive Config", "hyperdrive",
                (("id", "hex32"),), ("id",)),
    BindingKind(("analytics_engine_datasets",), True, "binding", ("binding",), "Analytics Engine Dataset", "analytics_engine"),
    BindingKind(("ai",), False, "binding", ("binding",), "AI", "ai"),
    BindingKind(("images",), False, "binding", ("binding",), "Images", "images"),
    BindingKind(("browser",), False, "binding", ("binding",), "Browser", "browser"),
    BindingKind(("media",), False, "binding", ("binding",), "Media", "media"),
    BindingKind(("stream",), False, "binding", ("binding",), "Stream", "stream"),
    BindingKind(("version_metadata",), False, "binding", ("binding",), "Worker Version Metadata", "version_metadata"),
    BindingKind(("send_email",), True, "name", ("name",), "Send Email", "send_email"),
    BindingKind(("dispatch_namespaces",), True, "binding", ("binding", "namespace"), "Dispatch Namespace", "dispatch_namespace"),
    BindingKind(("mtls_certificates",), True, "binding", ("binding", "certificate_id"), "mTLS Certificate", "mtls_certificate",
                (), ("certificate_id",)),
    BindingKind(("secrets_store_secrets",), True, "binding", ("binding", "store_id", "secret_name"), "Secrets Store Secret",
                "secrets_store_secret", (), ("store_id",)),
    BindingKind(("pipelines",), True, "binding", ("binding",), "Pipeline", "pipelines"),
    BindingKind(("ratelimits",), True, "name", ("name", "namespace_id"), "Rate Limit", "ratelimit", (), ("namespace_id",)),
    BindingKind(("worker_loaders",), True, "binding", ("binding",), "Worker Loader", "worker_loader"),
    BindingKind(("unsafe", "bindings"), True, "name", ("name", "type"), "Unsafe", None),
)

#: Upload metadata types the Workers API accepts (lowercase, exact).  wrangler passes
#: ``unsafe.bindings[].type`` through unchanged, so anything else fails with code 10021.
KNOWN_TYPES: dict[str, str | None] = {kind.metadata_type: kind.config_key for kind in KINDS if kind.metadata_type}
KNOWN_TYPES.update({
    "plain_text": "vars", "json": "vars", "secret_text": None, "wasm_module": "wasm_modules",
    "text_blob": "text_blobs", "data_blob": "data_blobs", "inherit": None, "assets": "assets",
    "logfwdr": "logfwdr", "tail_consumer": None,
})
#: Types whose first-class key is a single table (``[images] binding = ...``) rather than an array.
SINGLE_TABLE_KEYS = {kind.config_key for kind in KINDS if not kind.many}


@dataclass(frozen=True)
class Binding:
    kind: BindingKind
    path: KeyPath  # full key path of the entry (table)
    entry: dict[str, Any]

    @property
    def name(self) -> Any:
        return self.entry.get(self.kind.name_field)

    @property
    def name_path(self) -> KeyPath:
        return self.path + (self.kind.name_field,)


def iter_bindings(scope: Scope, *, kinds: tuple[BindingKind, ...] = KINDS) -> Iterator[Binding]:
    """Bindings written in this scope (bindings are never inherited by environments)."""
    for kind in kinds:
        node: Any = scope.raw
        for part in kind.key:
            node = node.get(part) if isinstance(node, dict) else None
        path = scope.prefix + kind.key
        if kind.many and isinstance(node, list):
            for index, entry in enumerate(node):
                if isinstance(entry, dict):
                    yield Binding(kind, path + (index,), entry)
        elif not kind.many and isinstance(node, dict):
            yield Binding(kind, path, node)


def kind_for(config_key: str) -> BindingKind:
    return next(kind for kind in KINDS if kind.config_key == config_key)
