"""``faultbook github report``: tell a GitHub Actions job what the wrapped deploy did.

Run by the composite action (``action.yml``) after ``faultbook run``: it reads
the newest deployment from the ledger, looks up the known fix, and writes the
job summary, step outputs, annotations (stdout, as workflow commands) and the
pull-request comment.  It never fails the job: the deploy's own exit code is
the job's outcome, so GitHub's trouble is a warning.
"""

from __future__ import annotations

from typing import Any, Optional

import typer

from faultbook.cli import output


def register(app: Any, state: Any) -> None:
    github_app = typer.Typer(help="Report to GitHub Actions (used by action.yml).", no_args_is_help=True)
    app.add_typer(github_app, name="github")

    @github_app.command("report")
    def github_report(
        exit_code: int = typer.Option(..., "--exit-code", help="The wrapped deploy's exit code."),
        dashboard_url: Optional[str] = typer.Option(
            None, "--dashboard-url", help="The team server's URL, for links (default: [server] url)."),
        comment: bool = typer.Option(True, "--comment/--no-comment", help="Comment on the pull request."),
    ) -> None:
        """Job summary, outputs, annotations and one PR comment for the newest deployment."""
        from faultbook.services.github import GitHubContext, report
        from faultbook.services.notify import fixes_from_matches, latest_notice
        from faultbook.services.recognition import explain

        settings = state.settings()
        project = state.project_ref()
        url = dashboard_url or settings.env.FAULTBOOK_SERVER_URL or settings.server.url

        def fixes_for(session: Any, failure: Any) -> Any:
            if not failure.error_message:
                return ()
            matches = explain(session, project=project, text=failure.error_message, code=failure.error_code,
                              component=failure.component, limit=4)
            return fixes_from_matches(matches)

        with state.database().session() as session:
            notice = latest_notice(session, project=project, fixes_for=fixes_for,
                                   dashboard_url=str(url) if url else None)
        result = report(notice, GitHubContext.from_environment(settings.env), exit_code=exit_code, comment=comment)
        for line in result.annotations:
            output.emit_text(line)
        for warning in result.warnings:
            output.warn(warning)
        if result.comment:
            output.info(f"faultbook: pull request comment {result.comment}")
