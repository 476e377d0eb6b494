"""Rollback against the emulated API: the right target, the exact request, and a truthful record."""

from __future__ import annotations

import pytest

from faultbook.errors import OperationFailed
from faultbook.services import recovery
from recovery.helpers import WORKER

Outcome = recovery.Outcome


def posts(cf_api):
    return cf_api.calls("POST", f"/workers/scripts/{WORKER}/deployments")


def live_versions(cf_api):
    return cf_api.state.scripts[WORKER].active_deployment.versions


def test_default_target_is_the_newest_earlier_version_at_100_percent(qv, cf_api, worker_history):
    v1, v2, v3 = worker_history
    number = qv.record_failed_deploy(output="✘ [ERROR] binding IMAGES has an unknown type Images [code: 10021]")

    report = qv.rollback(failure_number=number)

    assert report.outcome is Outcome.ROLLED_BACK
    [post] = posts(cf_api)
    assert post.query == {}
    assert post.body_summary == {
        "strategy": "percentage",
        "versions": [{"version_id": v2.id, "percentage": 100}],
        "annotations": {"workers/message": f"Rollback by faultbook (failure #{number})"},
    }
    assert live_versions(cf_api) == [{"version_id": v2.id, "percentage": 100}]
    events = qv.timeline(number)
    assert [e.kind for e in events] == ["created", "state_preserved", "rollback"]
    rolled = events[-1]
    assert rolled.actor == "ann"
    assert rolled.description.startswith(
        f"Rolled back Worker quoteviral-api from version {v3.id} (#3) to version {v2.id} (#2) at "
    )
    assert " by ann; verified: not checked (no [checks.health] or [[smoke]] checks in faultbook.toml)." in rolled.description
    assert rolled.details["outcome"] == "rolled_back" and rolled.details["to"] == v2.id
    [followup] = qv.followups()
    assert (followup.title, followup.status, followup.failure_number, followup.source) == (
        "Schedule redeployment after issue resolution", "open", number, "rollback")


def test_state_is_preserved_before_the_change(qv, cf_api, worker_history):
    _, _, v3 = worker_history
    number = qv.record_failed_deploy(output="deploy output line\n✘ [ERROR] boom [code: 10021]")
    live_id = cf_api.state.scripts[WORKER].active_deployment.id

    qv.rollback(failure_number=number)

    [snapshot] = qv.snapshots()
    assert snapshot.live_deployment_id == live_id
    assert snapshot.live_versions == [{"version_id": v3.id, "percentage": 100.0}]
    assert snapshot.config_path == "wrangler.toml"
    assert 'name = "quoteviral-api"' in snapshot.config_text
    assert snapshot.output_tail == "deploy output line\n✘ [ERROR] boom [code: 10021]"
    assert snapshot.outcome == "rolled_back" and snapshot.verified is None
    preserved = qv.timeline(number)[1]
    assert preserved.description == (
        f"Preserved state before rolling back Worker quoteviral-api: live deployment {live_id} "
        f"(version {v3.id} (#3)), config wrangler.toml, the output of deployment {snapshot.deployment_id}"
    )


def test_to_names_the_version(qv, cf_api, worker_history):
    v1, _, _ = worker_history
    report = qv.rollback(to=v1.id)
    assert report.rolled_back
    [post] = posts(cf_api)
    assert post.body_summary["versions"] == [{"version_id": v1.id, "percentage": 100}]
    assert report.failure_number is None
    assert qv.snapshots()[0].failure_id is None


def test_to_an_unknown_version_changes_nothing(qv, cf_api, worker_history):
    with pytest.raises(OperationFailed) as caught:
        qv.rollback(to="00000000-0000-0000-0000-000000000000")
    assert "has no version 00000000-0000-0000-0000-000000000000 [code: 100146]" in str(caught.value)
    assert str(caught.value).endswith("Nothing was changed.")
    assert posts(cf_api) == []


def test_changed_secrets_asks_then_forces(qv, cf_api):
    state = cf_api.state
    v1 = state.add_version(WORKER)
    state.add_version(WORKER)
    state.set_secret(WORKER, "API_KEY", "rotated-value")
    asked = []

    report = qv.rollback(confirm_force=lambda question: asked.append(question) or True)

    assert report.outcome is Outcome.ROLLED_BACK and report.execution.forced
    assert report.execution.changed_secrets == ("API_KEY",)
    assert asked == [
        f"The following secrets have changed since version {v1.id} was deployed: API_KEY. The old code will "
        "run with today's secret values. Roll back anyway (force)?"
    ]
    first, second = posts(cf_api)
    assert first.query == {} and first.error_codes == (10220,)
    assert second.query == {"force": ["true"]} and second.status == 200
    assert second.body_summary == first.body_summary
    assert "(forced past changed secrets)" in report.summary


def test_changed_secrets_declined_is_not_a_rollback(qv, cf_api):
    state = cf_api.state
    state.add_version(WORKER)
    v2 = state.add_version(WORKER)
    state.set_secret(WORKER, "API_KEY", "rotated-value")
    number = qv.record_failed_deploy()

    report = qv.rollback(failure_number=number, confirm_force=lambda question: False)

    assert report.outcome is Outcome.NOT_ROLLED_BACK
    assert len(posts(cf_api)) == 1
    assert live_versions(cf_api) == [{"version_id": v2.id, "percentage": 100}]
    event = qv.timeline(number)[-1]
    assert event.description.startswith("NOT rolled back: Worker quoteviral-api from ")
    assert "secrets changed since the target version (API_KEY) and forcing was not confirmed. Nothing was " \
           f"changed: version {v2.id} (#2) still serves traffic." in event.description
    assert qv.followups() == []


def test_no_previous_version(qv, cf_api):
    cf_api.state.add_version(WORKER)
    number = qv.record_failed_deploy()
    with pytest.raises(OperationFailed) as caught:
        qv.rollback(failure_number=number)
    assert str(caught.value) == (
        "no earlier version of Worker quoteviral-api to roll back to: no earlier deployment served a different "
        "version to 100 % of traffic. Nothing was changed."
    )
    assert caught.value.hint == "name one with --to VERSION_ID (see `wrangler versions list`)"
    assert posts(cf_api) == []
    event = qv.timeline(number)[-1]
    assert event.kind == "rollback" and "NOT rolled back" in event.description
    assert event.description.endswith("Nothing was changed.")
    assert [s.outcome for s in qv.snapshots()] == ["not_rolled_back"]
    assert qv.followups() == []


def test_a_worker_that_never_deployed(qv, cf_api):
    with pytest.raises(OperationFailed, match=r"This Worker does not exist on your account. \[code: 10007\]"):
        qv.rollback()


def test_api_error_on_the_deploy_is_recorded_with_its_code(qv, cf_api, worker_history):
    _, _, v3 = worker_history
    number = qv.record_failed_deploy()
    cf_api.state.inject_fault(f"/workers/scripts/{WORKER}/deployments", method="POST", status=500)

    report = qv.rollback(failure_number=number)

    assert report.outcome is Outcome.NOT_ROLLED_BACK
    assert report.execution.error_code == 10013
    assert live_versions(cf_api) == [{"version_id": v3.id, "percentage": 100}]
    event = qv.timeline(number)[-1]
    assert "Cloudflare refused the rollback: An unknown error has occurred [code: 10013]. Nothing was changed" \
        in event.description
    assert qv.followups() == []


@pytest.mark.parametrize(
    "arrange, code",
    [
        (lambda state: None, 1000),  # a token the API does not know
        (lambda state: state.add_token("scoped-token-for-r2-only-0000000000000000", scopes={"r2"}), 10000),
    ],
)
def test_refused_token_while_reading(qv, cf_api, worker_history, arrange, code):
    arrange(cf_api.state)
    token = "scoped-token-for-r2-only-0000000000000000" if code == 10000 else "not-a-valid-token"
    settings = qv.settings(CLOUDFLARE_API_TOKEN=token)
    with pytest.raises(OperationFailed) as caught:
        qv.rollback(settings=settings)
    assert "the Cloudflare API refused the token" in str(caught.value)
    assert f"[code: {code}]" in str(caught.value)
    assert "CLOUDFLARE_API_TOKEN" in caught.value.hint
    assert token not in str(caught.value)
    assert posts(cf_api) == []


def test_refused_token_on_the_deploy(qv, cf_api, worker_history):
    cf_api.state.inject_fault(f"/workers/scripts/{WORKER}/deployments", method="POST", status=403, code=9109,
                              message="Unauthorized to access requested resource")
    report = qv.rollback()
    assert report.outcome is Outcome.NOT_ROLLED_BACK
    assert "Cloudflare refused the token: Unauthorized to access requested resource [code: 9109]" in report.summary


def test_connection_lost_before_the_change_landed(qv, cf_api, worker_history):
    _, _, v3 = worker_history
    number = qv.record_failed_deploy()
    cf_api.state.inject_fault(f"/workers/scripts/{WORKER}/deployments", method="POST", close_connection=True)

    report = qv.rollback(failure_number=number)

    assert report.outcome is Outcome.NOT_ROLLED_BACK
    assert live_versions(cf_api) == [{"version_id": v3.id, "percentage": 100}]
    assert len(posts(cf_api)) == 1  # never sent twice
    assert "reading the deployments again shows it did not land. Nothing was changed" in report.summary
    assert qv.timeline(number)[-1].description == report.summary
    assert qv.followups() == []


def test_connection_lost_after_the_change_landed(qv, cf_api, worker_history):
    _, v2, _ = worker_history
    cf_api.state.inject_fault(f"/workers/scripts/{WORKER}/deployments", method="POST", after_apply=True)

    report = qv.rollback()

    assert report.outcome is Outcome.ROLLED_BACK
    assert len(posts(cf_api)) == 1
    assert live_versions(cf_api) == [{"version_id": v2.id, "percentage": 100}]
    live_id = cf_api.state.scripts[WORKER].active_deployment.id
    assert report.execution.new_deployment_id == live_id
    assert f"but reading the deployments again shows it landed: deployment {live_id}" in report.summary
    assert len(qv.followups()) == 1


def test_connection_lost_and_the_reread_fails_too(qv, cf_api, worker_history):
    number = qv.record_failed_deploy()

    def break_the_network(plan):  # armed after planning, before the change
        cf_api.state.inject_fault(f"/workers/scripts/{WORKER}/deployments", method="POST", close_connection=True)
        # The re-read (with its retries) cannot get through either.
        cf_api.state.inject_fault(f"/workers/scripts/{WORKER}/deployments", method="GET", close_connection=True,
                                  times=99)
        return True

    report = qv.rollback(failure_number=number, confirm=break_the_network)

    assert report.outcome is Outcome.UNKNOWN
    assert "OUTCOME UNKNOWN" in report.summary and "MAY OR MAY NOT have happened" in report.summary
    assert "Rolled back" not in report.summary
    assert qv.snapshots()[0].outcome == "unknown"
    assert qv.followups() == []


def test_pages_rolls_back_to_the_previous_successful_production_deployment(qv, cf_api):
    state = cf_api.state
    site = state.create_pages_project("quoteviral-web", deployments=2)
    older, good = site.deployments[1], site.deployments[0]
    state.add_pages_deployment(site, status="failure")
    state.add_pages_deployment(site, environment="preview")
    live = state.add_pages_deployment(site)
    qv.write_toml('[pages]\nproject = "quoteviral-web"\n')

    report = qv.rollback(component=recovery.Component.FRONTEND)

    assert report.outcome is Outcome.ROLLED_BACK
    [post] = cf_api.calls("POST", "/pages/projects/")
    assert post.path == f"/accounts/{cf_api.account_id}/pages/projects/quoteviral-web/deployments/{good.id}/rollback"
    assert site.deployments[0].rollback_from == good.id
    assert report.plan.live_deployment_id == live.id and older.id != report.plan.target_id
    assert report.summary.startswith(f"Rolled back Pages project quoteviral-web from deployment {live.id} ")


def test_pages_without_an_earlier_success(qv, cf_api):
    site = cf_api.state.create_pages_project("quoteviral-web")
    cf_api.state.add_pages_deployment(site, status="failure")
    cf_api.state.add_pages_deployment(site)  # live
    qv.write_toml('[pages]\nproject = "quoteviral-web"\n')
    with pytest.raises(OperationFailed, match="no earlier successful production deployment"):
        qv.rollback(component=recovery.Component.FRONTEND)
    assert cf_api.calls("POST", "/pages/") == []


def test_declining_the_plan_changes_and_records_nothing(qv, cf_api, worker_history):
    assert qv.rollback(confirm=lambda plan: False) is None
    assert posts(cf_api) == [] and qv.snapshots() == []
