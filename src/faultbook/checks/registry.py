"""The explicit list of rules.  Adding a rule = writing its class + one line here.

IDs are public API: a retired rule's ID stays reserved (listed in RETIRED) so it
is never given to another rule.
"""

from __future__ import annotations

from faultbook.checks.base import Rule
from faultbook.checks.rules import (
    binding_fields, environments, meta, network, online, resources, schema, unsafe, worker,
)
from faultbook.checks.rules import crons, durable_objects, online_targets, routes, secrets_in_vars

RULES: tuple[type[Rule], ...] = (
    meta.ConfigParseError,
    meta.SuppressionWithoutReason,
    unsafe.UnsafeBindingUnknownType,
    unsafe.UnsafeBindingHasFirstClassKey,
    binding_fields.BindingMissingField,
    binding_fields.BindingPlaceholderId,
    binding_fields.BindingIdShape,
    binding_fields.DuplicateBindingName,
    resources.R2BucketNameInvalid,
    environments.NotInheritedByEnvironment,
    resources.ResourceWillBeProvisioned,
    resources.R2BucketUnverified,
    unsafe.UnsafeBindingUnrecognisedType,
    worker.WorkerNameInvalid,
    worker.CompatibilityDateInvalid,
    worker.CompatibilityDateInFuture,
    worker.EntryPointMissing,
    worker.AssetsDirectoryMissing,
    worker.AssetFileTooLarge,
    worker.TooManyAssetFiles,
    worker.PagesConfigInvalid,
    schema.SchemaViolation,
    online.ApiTokenInvalid,
    online.R2BucketMissing,
    online.KvNamespaceMissing,
    online.D1DatabaseMissing,
    online.QueueMissing,
    online.NoRollbackVersion,
    network.DnsDoesNotResolve,
    network.DnsPointsElsewhere,
    network.TlsCertificateInvalid,
    network.TlsCertificateExpiring,
    network.CorsPreflightRefused,
    network.SmokeEndpointFailed,
    durable_objects.DurableObjectClassNotMigrated,
    durable_objects.DurableObjectMigrationInvalid,
    durable_objects.DurableObjectMigrationTags,
    durable_objects.DurableObjectClassGone,
    secrets_in_vars.SecretInVars,
    environments.BindingMissingInEnvironment,
    routes.CustomDomainWithPath,
    routes.RoutePatternInvalid,
    routes.EnvironmentInheritsRoutes,
    crons.CronTriggerInvalid,
    online_targets.RequiredSecretMissing,
    online_targets.DashboardVarsWiped,
    online_targets.CustomDomainTaken,
    online_targets.RouteOwnedByAnotherWorker,
    online_targets.MigrationTagUnknown,
)

#: IDs that once existed and must never be reused.
RETIRED: frozenset[str] = frozenset()


def all_rules() -> tuple[type[Rule], ...]:
    return RULES


def get_rule(key: str) -> type[Rule] | None:
    """By ID (``FB101``, case-insensitive), alias, or name (``unsafe-binding-unknown-type``)."""
    key = key.strip()
    for rule in RULES:
        if key.upper() == rule.id or key.upper() in rule.aliases or key.lower() == rule.name:
            return rule
    return None


def _check_unique() -> None:
    ids = [rule.id for rule in RULES]
    names = [rule.name for rule in RULES]
    if len(set(ids)) != len(ids) or len(set(names)) != len(names) or RETIRED & set(ids):
        raise RuntimeError("rule ids and names must be unique and never reuse a retired id")


_check_unique()
