"""``faultbook serve`` and ``faultbook token ...``: the team server from the command line.

Thin on purpose: each command imports its modules inside the body (FastAPI
and uvicorn are never loaded by ``faultbook --help``) and calls one function.
"""

from __future__ import annotations

import dataclasses

from typing import Any, Optional

import typer

from faultbook.cli import output
from faultbook.domain.limits import MAX_NUMBER


def _announce_when_listening(host: str, port: int, lines: list[str], timeout: float = 60.0) -> None:
    """Print ``lines`` from a background thread once ``host:port`` accepts connections (never before)."""
    import socket
    import threading
    import time

    def wait() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            return
        for line in lines:
            output.info(line)

    threading.Thread(target=wait, name="faultbook-announce", daemon=True).start()


def register(app: Any, state: Any) -> None:
    token_app = typer.Typer(help="API tokens for the team server (stored hashed; shown once).", no_args_is_help=True)
    app.add_typer(token_app, name="token")

    @app.command()
    def serve(
        host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback allows anonymous read)."),
        port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on."),
        workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes (each with its own socket on the port: SO_REUSEPORT)."),
        anonymous: Optional[str] = typer.Option(
            None, "--anonymous", help="What anonymous users may do: none, read or write (default: [server] anonymous, else read on loopback)."
        ),
    ) -> None:
        """Run the dashboard and REST API (on the project's database; SQLite works at once)."""
        from faultbook.services.tokens import anonymous_role

        settings = state.settings()
        anonymous_role(anonymous if anonymous is not None else settings.server.anonymous_setting, host=host)
        db = state.database()  # migrate once here, before workers start
        db.dispose()
        output.info(f"faultbook: serving {settings.project_name} from {settings.display_database_url}")
        base = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        from faultbook.services.tokens import SIGN_IN_ENV, is_loopback, new_sign_in_code

        if is_loopback(host) and port:
            # As Jupyter does: a one-time link that signs the local owner in as admin, printed once it works.
            code, digest = new_sign_in_code()
            # The workers get it with the settings they are launched with (nothing is put in os.environ).
            settings = dataclasses.replace(settings, environ={**settings.environ, SIGN_IN_ENV: digest})
            _announce_when_listening(host, port, [
                f"faultbook: open {base}/",
                f"faultbook: sign in as the owner (admin, works once): {base}/login/once?code={code}",
            ])
        else:
            output.info(f"faultbook: open {base}/")
        from faultbook.errors import OperationFailed
        from faultbook.server import Launch, PortInUse, serve as run_server

        try:
            status = run_server(Launch(settings=settings, host=host, anonymous=anonymous), port, workers)
        except PortInUse as exc:
            raise OperationFailed(str(exc)) from None
        if status:
            raise OperationFailed(f"the server could not start on {host}:{port} (see the message above)")

    @token_app.command("create")
    def token_create(
        role: str = typer.Option(..., "--role", help="reader, writer or admin."),
        name: Optional[str] = typer.Option(None, "--name", help="A label, e.g. 'CI deploys'."),
        project: Optional[str] = typer.Option(
            None, "--project", help="The project key it works for (default: this project's)."
        ),
        all_projects: bool = typer.Option(
            False, "--all-projects", help="Valid for every project on this database (for admins running several)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the token as JSON."),
    ) -> None:
        """Create a token for one project (or all); it is printed once (only its hash is stored)."""
        from faultbook.errors import InputError
        from faultbook.services import tokens

        if all_projects and project is not None:
            raise InputError("give --project KEY or --all-projects, not both")
        scope = None if all_projects else (project or state.settings().project_key)
        with state.database().session(write=True) as session:
            created = tokens.create_token(session, role=role, name=name, project=scope)
        if as_json:
            output.emit_json({**created.token.to_json(), "token": created.secret})
        else:
            output.emit_text(created.secret)
            where = "every project" if created.token.project is None else f"project {created.token.project}"
            output.info(
                f"Token #{created.token.id} ({created.token.role}, {where}) created. Store it now: it is not shown again."
            )

    @token_app.command("list")
    def token_list(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
        """List tokens (never their secrets)."""
        from faultbook.services import tokens

        with state.database().session() as session:
            items = tokens.list_tokens(session)
        if as_json:
            output.emit_json([t.to_json() for t in items])
            return
        if not items:
            output.info("No tokens.")
        for t in items:
            state_word = f"revoked {t.revoked_at:%Y-%m-%d}" if t.revoked_at else "active"
            used = f"last used {t.last_used_at:%Y-%m-%d %H:%M}" if t.last_used_at else "never used"
            scope = "*" if t.project is None else (t.project or "(none: predates scopes)")
            output.emit_text(f"{t.id}\t{t.role}\t{scope}\t{state_word}\t{used}\t{t.name}")

    @token_app.command("revoke")
    def token_revoke(token_id: int = typer.Argument(..., min=1, max=MAX_NUMBER, help="The token's number (see 'token list').")) -> None:
        """Revoke a token (it stops working at once)."""
        from faultbook.services import tokens

        with state.database().session(write=True) as session:
            token = tokens.revoke_token(session, token_id=token_id)
        output.info(f"Token #{token.id} ({token.name}) revoked.")
