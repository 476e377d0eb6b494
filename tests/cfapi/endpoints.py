"""The emulated endpoints, grouped by product.  Each is a thin translation of ``state``.

Shapes come from three places, cited per group below:
[SDK]  the official ``cloudflare`` Python SDK's generated types (installed in the
       venv: ``cloudflare/types/...``), which are generated from the public
       OpenAPI spec;
[WSDK] cloudflare/workers-sdk ``packages/wrangler/src`` — what wrangler 4.86 reads
       from each answer (``versions/types.ts``, ``versions/api.ts``,
       ``deploy/deploy.ts``, ``triggers/deploy.ts``, ``routes.ts``,
       ``deployment-bundle/bindings.ts``) and its msw test mocks
       (``src/__tests__/helpers/msw/handlers/*.ts``);
[REF]  /work/shared/reference/cloudflare-facts.md (verbatim API errors).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from typing import Any

from .app import ApiError, Call, Reply, list_reply, route
from .state import (
    JURISDICTIONS,
    D1Database,
    KVNamespace,
    PagesDeployment,
    R2Bucket,
    ScriptVersion,
    WorkerScript,
    new_id,
    now_iso,
)
from .upload import read_upload, validate_metadata

# --------------------------------------------------------------------------------------
# Tokens  [SDK types/user/tokens/token_verify_response.py; issue threads quote the
# message "This API Token is valid and active" with code 10000 in `messages`]


def _verify(call: Call) -> Reply:
    token = call.token
    if token is None:
        raise ApiError(401, 1000, "Invalid API Token")
    account_id = call.params.get("account_id")
    if account_id is not None and token.accounts and account_id not in token.accounts:
        raise ApiError(401, 1000, "Invalid API Token")
    message = (
        "This API Token is valid and active" if token.status == "active" else f"This API Token is {token.status}"
    )
    return Reply(
        result={"id": token.id, "status": token.status},
        messages=[{"code": 10000, "message": message, "type": None}],
    )


route("GET", "/user/tokens/verify", auth=False)(_verify)
route("GET", "/accounts/{account_id}/tokens/verify", auth=False)(_verify)


@route("GET", "/memberships")
def memberships(call: Call) -> Reply:
    """wrangler calls this when CLOUDFLARE_ACCOUNT_ID is unset ([WSDK] user/whoami.ts)."""
    items = [
        {"id": new_id(), "account": {"id": a.id, "name": a.name}, "status": "accepted"}
        for a in call.state.accounts.values()
    ]
    return list_reply(items, call)


@route("GET", "/accounts")
def accounts(call: Call) -> Reply:
    return list_reply([{"id": a.id, "name": a.name} for a in call.state.accounts.values()], call)


# --------------------------------------------------------------------------------------
# R2  [SDK types/r2/bucket.py: name, creation_date, location, jurisdiction,
# storage_class; list = {"buckets": [...]}; jurisdiction via the `cf-r2-jurisdiction`
# header (SDK resources/r2/buckets/buckets.py). WSDK r2/helpers/bucket.ts: GET missing
# → code 10006, which provisioning treats as "create it"]

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


def _jurisdiction(call: Call) -> str:
    value = call.headers.get("cf-r2-jurisdiction", "default") or "default"
    if value not in JURISDICTIONS:
        raise ApiError(400, 10029, f"The jurisdiction '{value}' is not valid.")
    return value


def _bucket_json(bucket: R2Bucket) -> dict[str, Any]:
    return {
        "name": bucket.name,
        "creation_date": bucket.creation_date,
        "location": bucket.location,
        "jurisdiction": bucket.jurisdiction,
        "storage_class": bucket.storage_class,
    }


@route("GET", "/accounts/{account_id}/r2/buckets", scope="r2")
def r2_list(call: Call) -> Reply:
    jurisdiction = _jurisdiction(call)
    buckets = [
        _bucket_json(b) for b in call.state.account(call.params["account_id"]).r2_buckets
        if b.jurisdiction == jurisdiction
    ]
    return Reply(result={"buckets": buckets}, result_info={"cursor": "", "per_page": 1000})


@route("GET", "/accounts/{account_id}/r2/buckets/{name}", scope="r2")
def r2_get(call: Call) -> dict[str, Any]:
    bucket = call.state.find_r2_bucket(
        call.params["name"], jurisdiction=_jurisdiction(call), account_id=call.params["account_id"]
    )
    if bucket is None:
        raise ApiError(404, 10006, "The specified bucket does not exist.")
    return _bucket_json(bucket)


@route("POST", "/accounts/{account_id}/r2/buckets", scope="r2")
def r2_create(call: Call) -> dict[str, Any]:
    body = call.json() or {}
    name = body.get("name", "")
    jurisdiction = _jurisdiction(call)
    if not _BUCKET_NAME.match(name):
        raise ApiError(400, 10005, "The specified bucket name is not valid.")
    account_id = call.params["account_id"]
    if call.state.find_r2_bucket(name, jurisdiction=jurisdiction, account_id=account_id):
        raise ApiError(409, 10004, "The bucket you tried to create already exists, and you own it.")
    bucket = call.state.create_r2_bucket(name, jurisdiction=jurisdiction, account_id=account_id)
    if body.get("locationHint"):
        bucket.location = str(body["locationHint"]).upper()
    if body.get("storageClass"):
        bucket.storage_class = body["storageClass"]
    return _bucket_json(bucket)


# --------------------------------------------------------------------------------------
# KV  [SDK types/kv/namespace.py: id, title, supports_url_encoding; REF: 10013 not found,
# 10014 title exists]


def _kv_json(namespace: KVNamespace) -> dict[str, Any]:
    return {"id": namespace.id, "title": namespace.title, "supports_url_encoding": namespace.supports_url_encoding}


@route("GET", "/accounts/{account_id}/storage/kv/namespaces", scope="kv")
def kv_list(call: Call) -> Reply:
    return list_reply([_kv_json(n) for n in call.state.account(call.params["account_id"]).kv_namespaces], call)


@route("GET", "/accounts/{account_id}/storage/kv/namespaces/{namespace_id}", scope="kv")
def kv_get(call: Call) -> dict[str, Any]:
    for namespace in call.state.account(call.params["account_id"]).kv_namespaces:
        if namespace.id == call.params["namespace_id"]:
            return _kv_json(namespace)
    raise ApiError(404, 10013, "namespace not found")


@route("POST", "/accounts/{account_id}/storage/kv/namespaces", scope="kv")
def kv_create(call: Call) -> dict[str, Any]:
    title = (call.json() or {}).get("title")
    account = call.state.account(call.params["account_id"])
    if not title:
        raise ApiError(400, 10019, "title required")
    if any(n.title == title for n in account.kv_namespaces):
        raise ApiError(400, 10014, "a namespace with this account ID and title already exists")
    return _kv_json(call.state.create_kv_namespace(title, account_id=account.id))


# --------------------------------------------------------------------------------------
# D1  [SDK types/d1/database_list_response.py + d1.py: uuid, name, version, num_tables,
# file_size, created_at; WSDK d1/utils.ts looks a database up by name or id and treats
# code 7404 as "missing"]


def _d1_json(database: D1Database) -> dict[str, Any]:
    return {
        "uuid": database.uuid,
        "name": database.name,
        "version": database.version,
        "num_tables": database.num_tables,
        "file_size": database.file_size,
        "created_at": database.created_at,
    }


@route("GET", "/accounts/{account_id}/d1/database", scope="d1")
def d1_list(call: Call) -> Reply:
    databases = call.state.account(call.params["account_id"]).d1_databases
    name = call.arg("name")
    return list_reply([_d1_json(d) for d in databases if name is None or d.name == name], call)


@route("GET", "/accounts/{account_id}/d1/database/{database}", scope="d1")
def d1_get(call: Call) -> dict[str, Any]:
    key = call.params["database"]
    for database in call.state.account(call.params["account_id"]).d1_databases:
        if key in (database.uuid, database.name):
            return _d1_json(database)
    raise ApiError(404, 7404, f"The database {key} could not be found")


@route("POST", "/accounts/{account_id}/d1/database", scope="d1")
def d1_create(call: Call) -> dict[str, Any]:
    name = (call.json() or {}).get("name", "")
    account = call.state.account(call.params["account_id"])
    if any(d.name == name for d in account.d1_databases):
        raise ApiError(400, 7502, "A database with that name already exists")
    return _d1_json(call.state.create_d1_database(name, account_id=account.id))


# --------------------------------------------------------------------------------------
# Queues  [SDK types/queues/queue.py: queue_id, queue_name, created_on, modified_on,
# producers, consumers; WSDK queues/client.ts lists with ?name=]


@route("GET", "/accounts/{account_id}/queues", scope="queues")
def queues_list(call: Call) -> Reply:
    name = call.arg("name")
    items = [
        {
            "queue_id": q.queue_id,
            "queue_name": q.queue_name,
            "created_on": q.created_on,
            "modified_on": q.modified_on,
            "producers": [],
            "producers_total_count": 0,
            "consumers": [],
            "consumers_total_count": 0,
        }
        for q in call.state.account(call.params["account_id"]).queues
        if name is None or q.queue_name == name
    ]
    return list_reply(items, call)


# --------------------------------------------------------------------------------------
# Workers: services, upload, versions, deployments, settings, workers.dev
# [WSDK deploy/deploy.ts reads services → default_environment.script.{tag,tags,
# last_deployed_from}; missing Worker = 10007 (utils/worker-not-found-error.ts) with the
# REF text; upload PUT result → deployment_id (= version id), etag, startup_time_ms;
# versions/types.ts ApiVersion + ApiDeployment; versions/api.ts createDeployment body]


def _script(call: Call) -> WorkerScript:
    script = call.state.account(call.params["account_id"]).scripts.get(call.params["name"])
    if script is None:
        raise ApiError(404, 10007, "This Worker does not exist on your account.")
    return script


def _version_json(script: WorkerScript, version: ScriptVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "number": version.number,
        "metadata": {
            "created_on": version.created_on,
            "modified_on": version.created_on,
            "source": version.source,
            "author_id": "0" * 32,
            "author_email": "ci@example.com",
            "hasPreview": False,
        },
        "annotations": version.annotations,
        "resources": {
            "bindings": version.bindings,
            "script": {
                "etag": version.etag,
                "handlers": version.handlers,
                "last_deployed_from": script.last_deployed_from,
            },
            "script_runtime": {
                "compatibility_date": version.compatibility_date,
                "compatibility_flags": version.compatibility_flags,
                "usage_model": "standard",
                "limits": {},
            },
        },
    }


def _deployment_json(deployment: Any) -> dict[str, Any]:
    return {
        "id": deployment.id,
        "source": deployment.source,
        "strategy": deployment.strategy,
        "author_email": deployment.author_email,
        "annotations": deployment.annotations,
        "created_on": deployment.created_on,
        "versions": deployment.versions,
    }


@route("GET", "/accounts/{account_id}/workers/services/{name}", scope="workers")
def services_get(call: Call) -> dict[str, Any]:
    script = _script(call)
    return {
        "id": script.name,
        "default_environment": {
            "environment": "production",
            "created_on": script.created_on,
            "modified_on": now_iso(),
            "script": {
                "id": script.name,
                "tag": script.tag,
                "tags": [],
                "etag": script.versions[-1].etag if script.versions else "",
                "handlers": ["fetch"],
                "last_deployed_from": script.last_deployed_from,
                "created_on": script.created_on,
                "modified_on": now_iso(),
                **({"migration_tag": script.migration_tag} if script.migration_tag else {}),
            },
        },
        "created_on": script.created_on,
        "modified_on": now_iso(),
        "environments": [{"environment": "production", "created_on": script.created_on}],
    }


def _secrets_of(metadata: dict[str, Any], script: WorkerScript | None) -> dict[str, str]:
    secrets = dict(script.secrets) if script else {}
    for binding in metadata.get("bindings") or []:
        if binding.get("type") == "secret_text":
            secrets[binding["name"]] = hashlib.sha256(str(binding.get("text", "")).encode()).hexdigest()
    return secrets


def _store_upload(call: Call, *, deploy: bool) -> tuple[WorkerScript, ScriptVersion]:
    metadata, _parts = read_upload(call.headers.get("content-type", ""), call.body)
    account_id = call.params["account_id"]
    validate_metadata(call.state, account_id, metadata)
    account = call.state.account(account_id)
    existing = account.scripts.get(call.params["name"])
    secrets = _secrets_of(metadata, existing)
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if isinstance(v, str)
    }
    # The API never hands secret values back: keep names, drop texts.
    bindings = [
        {k: v for k, v in b.items() if not (b.get("type") == "secret_text" and k == "text")}
        for b in metadata.get("bindings") or []
    ]
    version = call.state.add_version(
        call.params["name"],
        bindings=bindings,
        compatibility_date=metadata.get("compatibility_date"),
        compatibility_flags=metadata.get("compatibility_flags") or [],
        main_module=metadata.get("main_module") or metadata.get("body_part"),
        annotations=annotations,
        deploy=deploy,
        account_id=account_id,
    )
    script = account.scripts[call.params["name"]]
    script.secrets = secrets
    version.secrets = dict(secrets)
    migrations = metadata.get("migrations")
    if isinstance(migrations, dict) and migrations.get("new_tag"):
        # [WSDK deploy-helpers durable.ts: {old_tag?, new_tag, steps}]: the Worker is now at new_tag.
        script.migration_tag = migrations["new_tag"]
    return script, version


@route("PUT", "/accounts/{account_id}/workers/scripts/{name}", scope="workers")
def script_upload(call: Call) -> dict[str, Any]:
    """Upload and deploy at 100 % (wrangler's path for a Worker's first deploy)."""
    script, version = _store_upload(call, deploy=True)
    return {
        "id": script.name,
        "tag": script.tag,
        "etag": version.etag,
        "handlers": version.handlers,
        "compatibility_date": version.compatibility_date,
        "compatibility_flags": version.compatibility_flags,
        "created_on": script.created_on,
        "modified_on": version.created_on,
        "last_deployed_from": "wrangler",
        "usage_model": "standard",
        "deployment_id": version.id,
        "startup_time_ms": 2,
        "has_modules": True,
        "has_assets": False,
    }


@route("POST", "/accounts/{account_id}/workers/scripts/{name}/versions", scope="workers")
def version_upload(call: Call) -> dict[str, Any]:
    """Upload a version without deploying it (wrangler then POSTs a deployment)."""
    if call.params["name"] not in call.state.account(call.params["account_id"]).scripts:
        raise ApiError(404, 10007, "This Worker does not exist on your account.")
    script, version = _store_upload(call, deploy=False)
    body = _version_json(script, version)
    body["startup_time_ms"] = 2
    return body


@route("GET", "/accounts/{account_id}/workers/scripts/{name}/versions", scope="workers")
def versions_list(call: Call) -> Reply:
    script = _script(call)
    items = [_version_json(script, v) for v in reversed(script.versions)]
    # ?deployable=true lists versions that can take traffic: all of ours can.
    return Reply(
        result={"items": items},
        result_info={"page": 1, "per_page": len(items), "count": len(items), "total_count": len(items)},
    )


@route("GET", "/accounts/{account_id}/workers/scripts/{name}/versions/{version_id}", scope="workers")
def version_get(call: Call) -> dict[str, Any]:
    script = _script(call)
    version = script.version(call.params["version_id"])
    if version is None:
        raise ApiError(404, 100146, "Version not found")
    return _version_json(script, version)


@route("GET", "/accounts/{account_id}/workers/scripts/{name}/deployments", scope="workers")
def deployments_list(call: Call) -> dict[str, Any]:
    script = _script(call)
    return {"deployments": [_deployment_json(d) for d in reversed(script.deployments)]}


@route("POST", "/accounts/{account_id}/workers/scripts/{name}/deployments", scope="workers")
def deployments_create(call: Call) -> dict[str, Any]:
    """Deploy / roll back: ``{"strategy":"percentage","versions":[{version_id, percentage}],"annotations"}``.

    10220 when a target version's secrets differ from the live ones, unless
    ``?force=true`` — the text is the one workers-sdk's rollback test mocks
    (``src/__tests__/versions/versions.rollback.test.ts``) and wrangler parses.
    """
    script = _script(call)
    body = call.json() or {}
    if body.get("strategy") != "percentage":
        raise ApiError(400, 10021, "strategy must be 'percentage'")
    versions = body.get("versions") or []
    if not versions or sum(float(v.get("percentage", 0)) for v in versions) != 100:
        raise ApiError(400, 10021, "The percentages of the versions in a deployment must add up to 100")
    targets = []
    for entry in versions:
        version = script.version(str(entry.get("version_id")))
        if version is None:
            raise ApiError(404, 100146, "Version not found")
        targets.append(version)
    if call.arg("force") != "true":
        changed = sorted(
            {name for v in targets for name in set(v.secrets) | set(script.secrets)
             if v.secrets.get(name) != script.secrets.get(name)}
        )
        if changed:
            raise ApiError(
                400, 10220,
                "A secret has changed since this version was active. If you are sure this is ok, add a "
                "?force=true query parameter to allow the rollback. The following secrets have changed: "
                + ", ".join(changed),
            )
    annotations = {k: v for k, v in (body.get("annotations") or {}).items() if isinstance(v, str)}
    deployment = call.state.add_deployment(
        script.name,
        versions=[{"version_id": v["version_id"], "percentage": v["percentage"]} for v in versions],
        annotations=annotations,
        account_id=call.params["account_id"],
    )
    return _deployment_json(deployment)


@route("PATCH", "/accounts/{account_id}/workers/scripts/{name}/script-settings", scope="workers")
def script_settings_patch(call: Call) -> dict[str, Any]:
    _script(call)
    body = call.json() or {}
    return {"logpush": body.get("logpush", False), "tail_consumers": body.get("tail_consumers"),
            "observability": body.get("observability"), "tags": body.get("tags")}


@route("GET", "/accounts/{account_id}/workers/scripts/{name}/settings", scope="workers")
def script_settings_get(call: Call) -> dict[str, Any]:
    """The live version's settings; provisioning reads ``bindings`` to inherit them."""
    script = _script(call)
    live = script.active_deployment
    version = script.version(live.versions[0]["version_id"]) if live else None
    return {
        "bindings": version.bindings if version else [],
        "compatibility_date": version.compatibility_date if version else None,
        "compatibility_flags": version.compatibility_flags if version else [],
        "placement": {},
        "usage_model": "standard",
        "tags": [],
    }


@route("GET", "/accounts/{account_id}/workers/scripts", scope="workers")
def scripts_list(call: Call) -> Reply:
    """[SDK types/workers/script_list_response.py: id, etag, created_on, modified_on, migration_tag, ...]"""
    items = [
        {"id": script.name, "etag": script.versions[-1].etag if script.versions else "", "created_on": script.created_on,
         "modified_on": script.created_on, "last_deployed_from": script.last_deployed_from,
         **({"migration_tag": script.migration_tag} if script.migration_tag else {})}
        for script in call.state.account(call.params["account_id"]).scripts.values()
    ]
    return Reply(result=items)


@route("GET", "/accounts/{account_id}/workers/scripts/{name}/secrets", scope="workers")
def script_secrets(call: Call) -> Reply:
    """The live Worker's secrets, names only [SDK types/workers/scripts/secret_list_response.py:
    name, type "secret_text"; WSDK secret/index.ts lists them the same way]."""
    script = _script(call)
    return Reply(result=[{"name": name, "type": "secret_text"} for name in sorted(script.secrets)])


@route("GET", "/accounts/{account_id}/workers/subdomain", scope="workers")
def account_subdomain(call: Call) -> dict[str, Any]:
    subdomain = call.state.account(call.params["account_id"]).workers_subdomain
    if not subdomain:
        # [WSDK routes.ts] 10007 here means "no workers.dev subdomain registered".
        raise ApiError(404, 10007, "This account does not have a workers.dev subdomain")
    return {"subdomain": subdomain}


@route("GET", "/accounts/{account_id}/workers/scripts/{name}/subdomain", scope="workers")
def script_subdomain_get(call: Call) -> dict[str, Any]:
    script = _script(call)
    return {"enabled": script.workers_dev, "previews_enabled": script.preview_urls}


@route("POST", "/accounts/{account_id}/workers/scripts/{name}/subdomain", scope="workers")
def script_subdomain_set(call: Call) -> dict[str, Any]:
    script = _script(call)
    body = call.json() or {}
    script.workers_dev = bool(body.get("enabled"))
    script.preview_urls = bool(body.get("previews_enabled", script.preview_urls))
    return {"enabled": script.workers_dev, "previews_enabled": script.preview_urls}


@route("GET", "/accounts/{account_id}/workers/domains", scope="workers")
def worker_domains(call: Call) -> Reply:
    """[SDK types/workers/domain.py: id, hostname, service, environment, zone_id, zone_name]"""
    items = [
        {"id": d.id, "hostname": d.hostname, "service": d.service, "environment": d.environment,
         "zone_id": d.zone_id, "zone_name": d.zone_name}
        for d in call.state.account(call.params["account_id"]).worker_domains
        if (call.arg("service") is None or d.service == call.arg("service"))
        and (call.arg("hostname") is None or d.hostname == call.arg("hostname"))
    ]
    return list_reply(items, call)


# --------------------------------------------------------------------------------------
# Pages  [SDK types/pages/deployment.py: id, environment, url, created_on,
# latest_stage{name,status}, is_skipped; resources/pages/projects/deployments.py:
# rollback = POST .../deployments/{id}/rollback; REF: 8000007 project not found]


def _pages_project(call: Call):
    project = call.state.account(call.params["account_id"]).pages_projects.get(call.params["project"])
    if project is None:
        raise ApiError(
            404, 8000007,
            "Project not found. The specified project name does not match any of your existing projects.",
        )
    return project


def _pages_deployment_json(project: Any, deployment: PagesDeployment) -> dict[str, Any]:
    return {
        "id": deployment.id,
        "short_id": deployment.id[:8],
        "project_name": project.name,
        "environment": deployment.environment,
        "url": deployment.url,
        "created_on": deployment.created_on,
        "modified_on": deployment.created_on,
        "is_skipped": deployment.is_skipped,
        "latest_stage": {"name": "deploy", "status": deployment.status, "ended_on": deployment.created_on},
        "deployment_trigger": {"type": "ad_hoc", "metadata": {"branch": project.production_branch}},
        "aliases": None,
    }


@route("GET", "/accounts/{account_id}/pages/projects/{project}", scope="pages")
def pages_project_get(call: Call) -> dict[str, Any]:
    project = _pages_project(call)
    latest = project.deployments[0] if project.deployments else None
    return {
        "name": project.name,
        "subdomain": project.subdomain,
        "production_branch": project.production_branch,
        "canonical_deployment": _pages_deployment_json(project, latest) if latest else None,
    }


@route("GET", "/accounts/{account_id}/pages/projects/{project}/deployments", scope="pages")
def pages_deployments(call: Call) -> Reply:
    project = _pages_project(call)
    env = call.arg("env")
    items = [_pages_deployment_json(project, d) for d in project.deployments if env is None or d.environment == env]
    return list_reply(items, call)


@route("POST", "/accounts/{account_id}/pages/projects/{project}/deployments/{deployment_id}/rollback", scope="pages")
def pages_rollback(call: Call) -> dict[str, Any]:
    project = _pages_project(call)
    target = next((d for d in project.deployments if d.id == call.params["deployment_id"]), None)
    if target is None:
        raise ApiError(404, 8000009, "The deployment ID you have specified does not exist. Update the deployment ID and try again.")
    if target.status != "success":
        raise ApiError(400, 8000031, "You can only roll back to a successful deployment.")
    rollback = PagesDeployment(
        id=str(uuid.uuid4()),
        environment=target.environment,
        url=target.url,
        status="success",
        rollback_from=target.id,
    )
    project.deployments.insert(0, rollback)
    return _pages_deployment_json(project, rollback)


# --------------------------------------------------------------------------------------
# Zones and DNS  [SDK types/zones/zone.py: id, name, status, account{id,name};
# types/dns/record_response.py: id, type, name, content, proxied, ttl; REF: 7003 for an
# unknown zone id]


@route("GET", "/zones", scope="zone")
def zones_list(call: Call) -> Reply:
    name = call.arg("name")
    account_id = call.arg("account.id")
    state = call.state
    items = [
        {"id": z.id, "name": z.name, "status": z.status,
         "account": {"id": state.account_id, "name": state.account().name}}
        for z in state.zones
        if (name is None or z.name == name) and (account_id is None or account_id == state.account_id)
    ]
    return list_reply(items, call)


@route("GET", "/zones/{zone_id}/workers/routes", scope="zone")
def zone_worker_routes(call: Call) -> Reply:
    """[SDK types/workers/route_list_response.py: id, pattern, script; WSDK triggers/deploy.ts reads
    pattern and script to refuse "routes that are assigned to another worker"]"""
    zone = next((z for z in call.state.zones if z.id == call.params["zone_id"]), None)
    if zone is None:
        raise ApiError(
            404, 7003,
            f"Could not route to /client/v4/zones/{call.params['zone_id']}/workers/routes, "
            "perhaps your object identifier is invalid?",
        )
    return Reply(result=[{"id": r.id, "pattern": r.pattern, "script": r.script} for r in zone.worker_routes])


@route("GET", "/zones/{zone_id}/dns_records", scope="dns")
def dns_records(call: Call) -> Reply:
    zone = next((z for z in call.state.zones if z.id == call.params["zone_id"]), None)
    if zone is None:
        raise ApiError(
            404, 7003,
            f"Could not route to /client/v4/zones/{call.params['zone_id']}/dns_records, "
            "perhaps your object identifier is invalid?",
        )
    name = call.arg("name")
    rtype = call.arg("type")
    items = [
        {"id": r.id, "zone_id": zone.id, "zone_name": zone.name, "type": r.type, "name": r.name,
         "content": r.content, "proxied": r.proxied, "ttl": r.ttl}
        for r in zone.dns_records
        if (name is None or r.name == name) and (rtype is None or r.type == rtype)
    ]
    return list_reply(items, call)
