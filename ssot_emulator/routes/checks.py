"""Check runs: created, read, updated (refused updates change nothing), listed for a ref."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from ssot_emulator.endpoints import Call, Endpoints, Reply, existing, page
from ssot_emulator.errors import HTTPError, unprocessable
from ssot_emulator.state import CheckRun, NotFound

if TYPE_CHECKING:
    from ssot_emulator.server import GitHubEmulator

route = Endpoints()
routes = route.table
_CHECKS = ("checks",)


def _parse_time(value: str) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _apply_output(run: CheckRun, output: Any) -> None:
    if not isinstance(output, dict):
        return
    annotations = output.get("annotations") or []
    if len(annotations) > 50:
        raise unprocessable("Only 50 annotations are allowed per request")
    for key in ("title", "summary", "text"):
        if key in output:
            run.output[key] = output[key]
    run.output.setdefault("annotations", []).extend(annotations)


def apply_update(emu: GitHubEmulator, run: CheckRun, data: dict[str, Any], *,
                 creating: bool) -> None:
    """``data`` (a create or update request) applied to ``run``, or 422."""
    _apply_output(run, data.get("output"))
    for key in ("name", "external_id", "details_url"):
        if key in data:
            setattr(run, key, data[key])
    if "actions" in data:
        run.actions = list(data["actions"] or [])
    if data.get("started_at"):
        run.started_at = _parse_time(str(data["started_at"])) or run.started_at
    conclusion = data.get("conclusion")
    status = data.get("status")
    if conclusion is not None:
        run.conclusion = str(conclusion)
        run.status = "completed"
    elif status is not None:
        run.status = str(status)
        if status != "completed":
            run.conclusion = None
    if run.status == "completed":
        if run.conclusion is None:
            raise unprocessable("Conclusion is required when status is completed")
        completed = _parse_time(str(data.get("completed_at") or ""))
        run.completed_at = completed or run.completed_at or emu.clock()
    elif not creating:
        run.completed_at = None


@route("POST", "/check-runs", perms=_CHECKS, level="write")
def create_check_run(emu: GitHubEmulator, call: Call) -> Reply:
    repo = call.repository
    data = call.body if isinstance(call.body, dict) else {}
    head_sha = str(data.get("head_sha") or "")
    if head_sha not in repo.commits:
        raise unprocessable("No commit found for SHA: " + head_sha)
    if not data.get("name"):
        raise unprocessable("Name can't be blank")
    suite = emu.check_suite(repo.full_name, head_sha)
    run = CheckRun(emu.next_id(), str(data["name"]), head_sha, suite.id, "queued", None,
                   emu.clock(), None, {"title": None, "summary": None, "text": None,
                                       "annotations": []}, [])
    apply_update(emu, run, data, creating=True)
    emu.add_check_run(repo.full_name, run)
    return Reply(201, emu.shapes.check_run(repo, run))


def _run_or_404(emu: GitHubEmulator, call: Call) -> CheckRun:
    return existing(emu.check_run, call, call.number("check_run_id"))


@route("GET", "/check-runs/{check_run_id}", perms=_CHECKS)
def get_check_run(emu: GitHubEmulator, call: Call) -> Reply:
    return Reply(200, emu.shapes.check_run(call.repository, _run_or_404(emu, call)))


@route("PATCH", "/check-runs/{check_run_id}", perms=_CHECKS, level="write")
def patch_check_run(emu: GitHubEmulator, call: Call) -> Reply:
    run = _run_or_404(emu, call)
    data = call.body if isinstance(call.body, dict) else {}
    # validate before changing anything: a refused update leaves the run as it was
    probe = CheckRun(run.id, run.name, run.head_sha, run.check_suite_id, run.status,
                     run.conclusion, run.started_at, run.completed_at,
                     {**run.output, "annotations": []}, list(run.actions))
    apply_update(emu, probe, data, creating=False)
    apply_update(emu, run, data, creating=False)
    return Reply(200, emu.shapes.check_run(call.repository, run))


@route("GET", "/commits/{ref:.+}/check-runs", perms=_CHECKS)
def commit_check_runs(emu: GitHubEmulator, call: Call) -> Reply:
    repo = call.repository
    try:
        sha = emu.resolve_ref(repo.full_name, call.params["ref"]).sha
    except NotFound:
        raise HTTPError(422, f"No commit found for SHA: {call.params['ref']}") from None
    runs = [r for r in emu.check_runs(repo.full_name) if r.head_sha == sha]
    name, status = call.arg("check_name"), call.arg("status")
    app_id = call.arg("app_id")
    if app_id:
        runs = [r for r in runs if str(r.app_id or emu.app_id) == app_id]
    if name:
        runs = [r for r in runs if r.name == name]
    if status:
        runs = [r for r in runs if r.status == status]
    if call.arg("filter", "latest") == "latest":
        latest: dict[str, CheckRun] = {}
        for run in runs:
            if run.name not in latest or run.id > latest[run.name].id:
                latest[run.name] = run
        runs = list(latest.values())
    runs.sort(key=lambda r: -r.id)
    chunk, headers = page(emu, call, runs)
    return Reply(200, {"total_count": len(runs),
                       "check_runs": [emu.shapes.check_run(repo, r) for r in chunk]}, headers)
