"""GitHub requests and wall time of one analysis (docs/behaviour.md §14).

    python benchmarks/requests.py [--files 10,100,300,1000] [--service-root PATH] [--json]

The real service (``python -m bot serve``, its own process, two engine workers) against the
GitHub emulator (this process) on loopback, with the repository of ``webhook_load.py``
(generated async Python; one file in ten under the agents folder, where the changed version
adds two SSOT violations). For each F, a pull request changing F files:

* first analysis: ``pull_request.opened`` -> its check run completed;
* re-push: a commit changing 2 of the F files (one agent file, one ordinary file that now
  imports the legacy class too) -> ``synchronize`` -> its check run completed.

Requests are counted as GitHub counts them against the rate limit: after the delivery, every
request except the token exchange, ``GET /app`` and ``304 Not Modified``. Targets (§14):
8 + ⌈F/100⌉ + ⌈F/50⌉ + ⌈A/50⌉ on the first analysis (18 for F = 300 with 10 annotations;
this repository has more), 8 + ⌈F/100⌉ + ⌈k/50⌉ + ⌈A/50⌉ on the re-push.

``--service-root``: run the service from another checkout (the code before a change) against
the same emulator, for before/after figures. It prints numbers; nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import webhook_load as wl

from ssot_emulator import EmulatorServer, GitHubEmulator

REPO = wl.REPO
INSTALLATION = wl.INSTALLATION


def counted(emu: GitHubEmulator, since: int) -> list[Any]:
    return [r for r in emu.requests[since:]
            if r.status != 304 and not r.path.endswith(("/access_tokens", "/app"))]


async def completed(emu: GitHubEmulator, head: str, after: int, within: float = 120.0) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        runs = [r for r in emu.check_runs(REPO) if r.head_sha == head and r.id > after
                and r.status == "completed"]
        if runs:
            return runs[-1]
        await asyncio.sleep(0.005)
    raise RuntimeError(f"no completed check run for {head} within {within} s")


async def one(emu: GitHubEmulator, url: str, secret: str, event: str,
              payload: dict[str, Any], head: str) -> dict[str, Any]:
    after = max((r.id for r in emu.check_runs(REPO)), default=0)
    since = len(emu.requests)
    started = time.perf_counter()
    status = await emu.deliver(url, secret, event, payload)
    assert status == 202, status
    run = await completed(emu, head, after)
    wall = time.perf_counter() - started
    await asyncio.sleep(0.3)  # the review after the check
    return {"requests": len(counted(emu, since)), "seconds": round(wall, 3),
            "annotations": len(run.output.get("annotations") or []),
            "graphql": sum(1 for r in emu.requests[since:] if r.path == "/graphql"),
            "rest_blobs": sum(1 for r in emu.requests[since:] if "/git/blobs/" in r.path),
            "cost_line": run.output["summary"].rsplit("\n", 1)[-1]}


async def measure(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    sizes = [int(x) for x in args.files.split(",")]
    paths = wl.file_paths(max(sizes) + 20)
    emu = GitHubEmulator(None)
    emu.add_installation(INSTALLATION, REPO.split("/")[0])
    emu.add_repo(REPO, {p: wl.module_source(i, p) for i, p in enumerate(paths)},
                 installation_id=INSTALLATION)
    secret = secrets.token_hex(16)
    results: list[dict[str, Any]] = []
    children = wl.Children(workdir)
    root = args.service_root or wl.ROOT
    async with EmulatorServer(emu) as api_url:
        port = wl.free_port()
        env = wl.child_env({
            "APP_ID": str(emu.app_id),
            "PRIVATE_KEY": base64.b64encode(emu.private_key_pem.encode()).decode(),
            "WEBHOOK_SECRET": secret, "GITHUB_API_URL": api_url, "HOST": "127.0.0.1",
            "PORT": str(port), "LOG_LEVEL": "WARNING", "SSOT_RECONCILE_MINUTES": "0",
            "SSOT_STATE_DIR": str(workdir / "state"), "SSOT_WORKERS": "2"})
        env["PYTHONPATH"] = str(root)
        children.start("service", [sys.executable, "-m", "bot", "serve"], env)
        hook = f"http://127.0.0.1:{port}{wl.WEBHOOK_PATH}"
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(300):
                    children.check()
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as r:
                            if r.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.1)
            # warm: the engine workers, the token, the App's identity (not measured)
            emu.commit(REPO, "warm", {paths[1]: wl.module_source(1, paths[1], "warm")})
            warm = emu.open_pull_request(REPO, "warm", title="warm", user="dev-alice")
            await one(emu, hook, secret, "pull_request",
                      emu.payload_pull_request(REPO, warm, "opened"), emu.head_sha(REPO, warm))
            for size in sizes:
                branch = f"bench-{size}"
                emu.commit(REPO, branch, {p: wl.module_source(i, p, branch)
                                          for i, p in enumerate(paths[:size])})
                number = emu.open_pull_request(REPO, branch, title=f"{size} files",
                                               user="dev-alice")
                emu.pull_files(REPO, number)  # GitHub serves the file list precomputed
                first = await one(emu, hook, secret, "pull_request",
                                  emu.payload_pull_request(REPO, number, "opened"),
                                  emu.head_sha(REPO, number))
                agent, ordinary = paths[0], paths[1]
                emu.commit(REPO, branch, {
                    agent: wl.module_source(0, agent, branch) + "\n# pushed again\n",
                    ordinary: wl.LEGACY_IMPORT + "\n" + wl.module_source(1, ordinary, branch)})
                emu.pull_files(REPO, number)
                again = await one(emu, hook, secret, "pull_request",
                                  emu.payload_pull_request(REPO, number, "synchronize"),
                                  emu.head_sha(REPO, number))
                a = first["annotations"]
                results.append({
                    "files": size, "first": first, "repush": again,
                    "bound_first": 8 + math.ceil(size / 100) + math.ceil(size / 50)
                    + math.ceil(a / 50),
                    "bound_repush": 8 + math.ceil(size / 100) + 1
                    + math.ceil(again["annotations"] / 50)})
        finally:
            children.stop()
    return results


def report(results: list[dict[str, Any]]) -> str:
    lines = ["|   F | first: requests (bound) | first: s | annotations | re-push: requests "
             "(bound) | re-push: s | re-push cost line |",
             "| --: | --: | --: | --: | --: | --: | --- |"]
    for r in results:
        f, a = r["first"], r["repush"]
        lines.append(f"| {r['files']} | {f['requests']} ({r['bound_first']}) | {f['seconds']} "
                     f"| {f['annotations']} | {a['requests']} ({r['bound_repush']}) "
                     f"| {a['seconds']} | `{a['cost_line']}` |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", default="10,100,300,1000")
    parser.add_argument("--service-root", default=None,
                        help="run the service from this checkout (before/after figures)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.service_root:
        args.service_root = Path(args.service_root).resolve()
    with tempfile.TemporaryDirectory(prefix="ssot-requests-") as tmp:
        results = asyncio.run(measure(args, Path(tmp)))
    print(json.dumps(results, indent=2) if args.json else report(results))
    print(f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
