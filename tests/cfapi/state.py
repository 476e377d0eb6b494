"""The emulated Cloudflare account: plain in-memory data, no HTTP.

Tests arrange the world here (``state.create_r2_bucket("quoteviral-uploads")``),
run the real wrangler or faultbook against the HTTP front (``app.py``), then
assert on what changed here (``state.scripts["quoteviral-api"].versions``).
Every mutation goes through one lock because the HTTP server answers on
several threads.

Field names follow the API's JSON (see ``app.py`` for where each shape came
from) so that the endpoints can serialise these objects with little glue.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

#: Permission scopes a token can hold; every endpoint names the one it needs.
ALL_SCOPES = frozenset(
    {"workers", "r2", "kv", "d1", "queues", "pages", "zone", "dns", "account"}
)

#: R2 jurisdictions, as the ``cf-r2-jurisdiction`` header spells them.
JURISDICTIONS = ("default", "eu", "fedramp")


def now_iso() -> str:
    """The API's timestamp style: microseconds and a ``Z``."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A 32-hex id, the form Cloudflare uses for tags, namespaces, zones."""
    return uuid.uuid4().hex


@dataclass
class ApiToken:
    value: str
    id: str = field(default_factory=new_id)
    #: "active", "disabled" or "expired" (as /tokens/verify reports it).
    status: str = "active"
    scopes: frozenset[str] = ALL_SCOPES
    #: Account ids the token may act on; empty means every account.
    accounts: frozenset[str] = frozenset()


@dataclass
class R2Bucket:
    name: str
    jurisdiction: str = "default"
    location: str = "WNAM"
    storage_class: str = "Standard"
    creation_date: str = field(default_factory=now_iso)


@dataclass
class KVNamespace:
    id: str
    title: str
    supports_url_encoding: bool = True


@dataclass
class D1Database:
    uuid: str
    name: str
    version: str = "production"
    num_tables: int = 0
    file_size: int = 0
    created_at: str = field(default_factory=now_iso)


@dataclass
class Queue:
    queue_id: str
    queue_name: str
    created_on: str = field(default_factory=now_iso)
    modified_on: str = field(default_factory=now_iso)


@dataclass
class ScriptVersion:
    id: str
    number: int
    created_on: str
    bindings: list[dict[str, Any]]
    compatibility_date: str | None
    compatibility_flags: list[str]
    main_module: str | None
    #: Names of ``secret_text`` bindings with a hash of their value, so a
    #: rollback can tell whether secrets changed since this version (10220).
    secrets: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    source: str = "wrangler"
    etag: str = field(default_factory=new_id)
    handlers: list[str] = field(default_factory=lambda: ["fetch"])


@dataclass
class ScriptDeployment:
    id: str
    created_on: str
    versions: list[dict[str, Any]]  # [{"version_id": ..., "percentage": ...}]
    annotations: dict[str, str] = field(default_factory=dict)
    source: str = "wrangler"
    strategy: str = "percentage"
    author_email: str = "ci@example.com"


@dataclass
class WorkerScript:
    name: str
    tag: str = field(default_factory=new_id)
    created_on: str = field(default_factory=now_iso)
    versions: list[ScriptVersion] = field(default_factory=list)
    #: Newest last.
    deployments: list[ScriptDeployment] = field(default_factory=list)
    #: The secrets currently set on the Worker: name -> value hash.
    secrets: dict[str, str] = field(default_factory=dict)
    workers_dev: bool = False
    preview_urls: bool = False
    last_deployed_from: str = "wrangler"
    #: The tag of the last Durable Object migration applied (``new_tag`` of an upload's ``migrations``).
    migration_tag: str | None = None

    def version(self, version_id: str) -> ScriptVersion | None:
        return next((v for v in self.versions if v.id == version_id), None)

    @property
    def active_deployment(self) -> ScriptDeployment | None:
        return self.deployments[-1] if self.deployments else None


@dataclass
class PagesDeployment:
    id: str
    environment: str = "production"
    url: str = ""
    created_on: str = field(default_factory=now_iso)
    #: "success", "failure", "active", "idle", "canceled", "skipped".
    status: str = "success"
    is_skipped: bool = False
    rollback_from: str | None = None


@dataclass
class PagesProject:
    name: str
    subdomain: str = ""
    production_branch: str = "main"
    #: Newest first, as the API lists them.
    deployments: list[PagesDeployment] = field(default_factory=list)


@dataclass
class DnsRecord:
    id: str
    type: str
    name: str
    content: str
    proxied: bool = True
    ttl: int = 1


@dataclass
class WorkerRoute:
    """A zone's Workers route [SDK types/workers/route_list_response.py: id, pattern, script]."""

    id: str
    pattern: str
    script: str | None


@dataclass
class Zone:
    id: str
    name: str
    status: str = "active"
    dns_records: list[DnsRecord] = field(default_factory=list)
    worker_routes: list[WorkerRoute] = field(default_factory=list)


@dataclass
class WorkerDomain:
    id: str
    hostname: str
    service: str
    zone_id: str
    zone_name: str
    environment: str = "production"


@dataclass
class Fault:
    """What to do instead of answering: see ``CloudflareState.inject_fault``."""

    method: str | None
    path_contains: str
    remaining: int
    status: int = 500
    code: int | None = None
    message: str | None = None
    close_connection: bool = False
    retry_after: int | None = None
    #: With ``close_connection``: handle the request first (the change lands), then drop the connection.
    after_apply: bool = False


@dataclass
class Account:
    id: str
    name: str = "QuoteViral"
    workers_subdomain: str = "quoteviral"
    r2_buckets: list[R2Bucket] = field(default_factory=list)
    kv_namespaces: list[KVNamespace] = field(default_factory=list)
    d1_databases: list[D1Database] = field(default_factory=list)
    queues: list[Queue] = field(default_factory=list)
    scripts: dict[str, WorkerScript] = field(default_factory=dict)
    pages_projects: dict[str, PagesProject] = field(default_factory=dict)
    worker_domains: list[WorkerDomain] = field(default_factory=list)


class CloudflareState:
    """One emulated Cloudflare: accounts, tokens, zones, and fault knobs.

    The default world has one account (``account_id``) and one valid token
    with every scope (``token``); helpers below add the rest.  Lists keep
    insertion order so responses are deterministic.
    """

    DEFAULT_ACCOUNT_ID = "0123456789abcdef0123456789abcdef"
    DEFAULT_TOKEN = "faultbook-test-token-0000000000000000000"

    def __init__(self, *, account_id: str = DEFAULT_ACCOUNT_ID, token: str = DEFAULT_TOKEN) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, ApiToken] = {}
        self.zones: list[Zone] = []
        self.faults: list[Fault] = []
        #: Set to a date string to make "today" fixed for the future-date check.
        self.today: str | None = None
        self.account_id = account_id
        self.token = token
        self.add_account(account_id)
        self.add_token(token)

    # -- arrangement helpers -------------------------------------------------

    def add_account(self, account_id: str, *, name: str = "QuoteViral") -> Account:
        with self.lock:
            account = self.accounts.setdefault(account_id, Account(id=account_id, name=name))
            return account

    def add_token(
        self,
        value: str,
        *,
        status: str = "active",
        scopes: frozenset[str] | set[str] = ALL_SCOPES,
        accounts: frozenset[str] | set[str] = frozenset(),
    ) -> ApiToken:
        with self.lock:
            token = ApiToken(
                value=value, status=status, scopes=frozenset(scopes), accounts=frozenset(accounts)
            )
            self.tokens[value] = token
            return token

    def account(self, account_id: str | None = None) -> Account:
        return self.accounts[account_id or self.account_id]

    @property
    def scripts(self) -> dict[str, WorkerScript]:
        """The default account's Worker scripts (a shortcut for tests)."""
        return self.account().scripts

    def create_r2_bucket(
        self, name: str, *, jurisdiction: str = "default", account_id: str | None = None
    ) -> R2Bucket:
        with self.lock:
            bucket = R2Bucket(name=name, jurisdiction=jurisdiction)
            self.account(account_id).r2_buckets.append(bucket)
            return bucket

    def find_r2_bucket(
        self, name: str, *, jurisdiction: str = "default", account_id: str | None = None
    ) -> R2Bucket | None:
        with self.lock:
            return next(
                (
                    b
                    for b in self.account(account_id).r2_buckets
                    if b.name == name and b.jurisdiction == jurisdiction
                ),
                None,
            )

    def create_kv_namespace(
        self, title: str, *, id: str | None = None, account_id: str | None = None
    ) -> KVNamespace:
        with self.lock:
            namespace = KVNamespace(id=id or new_id(), title=title)
            self.account(account_id).kv_namespaces.append(namespace)
            return namespace

    def create_d1_database(
        self, name: str, *, uuid_: str | None = None, account_id: str | None = None
    ) -> D1Database:
        with self.lock:
            database = D1Database(uuid=uuid_ or str(uuid.uuid4()), name=name)
            self.account(account_id).d1_databases.append(database)
            return database

    def create_queue(self, name: str, *, account_id: str | None = None) -> Queue:
        with self.lock:
            queue = Queue(queue_id=new_id(), queue_name=name)
            self.account(account_id).queues.append(queue)
            return queue

    def create_pages_project(
        self, name: str, *, deployments: int = 0, account_id: str | None = None
    ) -> PagesProject:
        """A Pages project with ``deployments`` successful production deployments."""
        with self.lock:
            project = PagesProject(name=name, subdomain=f"{name}.pages.dev")
            for _ in range(deployments):
                self.add_pages_deployment(project)
            self.account(account_id).pages_projects[name] = project
            return project

    def add_pages_deployment(
        self, project: PagesProject, *, status: str = "success", environment: str = "production"
    ) -> PagesDeployment:
        with self.lock:
            deployment_id = str(uuid.uuid4())
            deployment = PagesDeployment(
                id=deployment_id,
                environment=environment,
                url=f"https://{deployment_id[:8]}.{project.subdomain}",
                status=status,
            )
            project.deployments.insert(0, deployment)
            return deployment

    def add_zone(self, name: str) -> Zone:
        with self.lock:
            zone = Zone(id=new_id(), name=name)
            self.zones.append(zone)
            return zone

    def add_dns_record(
        self, zone: Zone, *, type: str, name: str, content: str, proxied: bool = True
    ) -> DnsRecord:
        with self.lock:
            record = DnsRecord(id=new_id(), type=type, name=name, content=content, proxied=proxied)
            zone.dns_records.append(record)
            return record

    def add_worker_route(self, zone: Zone, pattern: str, *, script: str | None) -> WorkerRoute:
        """Assign ``pattern`` in ``zone`` to Worker ``script`` (None = a route that runs no Worker)."""
        with self.lock:
            route = WorkerRoute(id=new_id(), pattern=pattern, script=script)
            zone.worker_routes.append(route)
            return route

    def add_worker_domain(
        self, hostname: str, *, service: str, zone: Zone, account_id: str | None = None
    ) -> WorkerDomain:
        with self.lock:
            domain = WorkerDomain(
                id=new_id(), hostname=hostname, service=service, zone_id=zone.id, zone_name=zone.name
            )
            self.account(account_id).worker_domains.append(domain)
            return domain

    def set_secret(self, script_name: str, name: str, value: str, *, account_id: str | None = None) -> None:
        """Set a secret on the live Worker (as ``wrangler secret put`` would)."""
        import hashlib

        with self.lock:
            script = self.account(account_id).scripts[script_name]
            script.secrets[name] = hashlib.sha256(value.encode()).hexdigest()

    # -- Worker versions and deployments -------------------------------------

    def add_version(
        self,
        script_name: str,
        *,
        bindings: list[dict[str, Any]] | None = None,
        compatibility_date: str | None = "2025-08-15",
        compatibility_flags: list[str] | None = None,
        main_module: str | None = "index.js",
        annotations: dict[str, str] | None = None,
        deploy: bool = True,
        account_id: str | None = None,
    ) -> ScriptVersion:
        """Record a new version (creating the Worker if needed); deploy it at 100 % unless told not to."""
        with self.lock:
            account = self.account(account_id)
            script = account.scripts.get(script_name)
            if script is None:
                script = account.scripts[script_name] = WorkerScript(name=script_name)
            version = ScriptVersion(
                id=str(uuid.uuid4()),
                number=len(script.versions) + 1,
                created_on=now_iso(),
                bindings=list(bindings or []),
                compatibility_date=compatibility_date,
                compatibility_flags=list(compatibility_flags or []),
                main_module=main_module,
                secrets=dict(script.secrets),
                annotations={"workers/triggered_by": "upload", **(annotations or {})},
            )
            script.versions.append(version)
            if deploy:
                self.add_deployment(
                    script_name,
                    versions=[{"version_id": version.id, "percentage": 100}],
                    account_id=account_id,
                )
            return version

    def add_deployment(
        self,
        script_name: str,
        *,
        versions: list[dict[str, Any]],
        annotations: dict[str, str] | None = None,
        account_id: str | None = None,
    ) -> ScriptDeployment:
        with self.lock:
            script = self.account(account_id).scripts[script_name]
            deployment = ScriptDeployment(
                id=str(uuid.uuid4()),
                created_on=now_iso(),
                versions=[dict(v) for v in versions],
                annotations=dict(annotations or {}),
            )
            script.deployments.append(deployment)
            return deployment

    # -- fault injection ------------------------------------------------------

    def inject_fault(
        self,
        path_contains: str,
        *,
        times: int = 1,
        method: str | None = None,
        status: int = 500,
        code: int | None = None,
        message: str | None = None,
        close_connection: bool = False,
        retry_after: int | None = None,
        after_apply: bool = False,
    ) -> Fault:
        """Make the next ``times`` requests whose path contains ``path_contains`` fail.

        By default they answer HTTP ``status`` with the envelope of ``code``
        (10013 "An unknown error has occurred" for 5xx, 971 "Please wait and
        consider throttling your request speed" for 429 unless given);
        ``close_connection=True`` drops the connection without any answer;
        with ``after_apply=True`` as well, the request is handled first (a
        POST's change lands) and only the answer is lost — the client cannot
        tell which of the two happened.
        """
        with self.lock:
            fault = Fault(
                method=method.upper() if method else None,
                path_contains=path_contains,
                remaining=times,
                status=status,
                code=code,
                message=message,
                close_connection=close_connection or after_apply,
                retry_after=retry_after,
                after_apply=after_apply,
            )
            self.faults.append(fault)
            return fault

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first armed fault matching this request, counted down by one."""
        with self.lock:
            for fault in self.faults:
                if fault.remaining <= 0:
                    continue
                if fault.method and fault.method != method:
                    continue
                if fault.path_contains not in path:
                    continue
                fault.remaining -= 1
                return fault
            return None
