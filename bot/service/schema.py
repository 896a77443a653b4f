"""The shared database's schema (contract §15) and ``ssot-bot migrate``.

Every statement is idempotent (``IF NOT EXISTS``, ``CREATE OR REPLACE``) and the whole
migration runs in one transaction under a transaction-level advisory lock, so that any number
of processes may run it at once (``ssot-bot serve`` runs it at start): the first applies it,
the others wait for it and find nothing left to do. ``ssot_schema`` records the version.

What the tables hold (docs/deploy.md, "What the database holds"):
- ``ssot_jobs``: the durable job queue. One row per job waiting (``queued``) or being run
  (``running``, by ``worker``); a finished job's row is deleted. Two partial unique indexes
  make the coalescing rule a property of the data: at most one waiting and one running job per
  key (a PR, a repository's inventory).
- ``ssot_workers``: the replicas running jobs and their heartbeats; a job whose worker's
  heartbeat stopped is found by the stalled-job sweep.
- ``ssot_deliveries``: webhook delivery ids accepted (a failed delivery's id is deleted, so
  GitHub's Redeliver runs it again); purged after a week.
- ``ssot_check_runs``: the check run in progress for a (repository, head, check name), so that
  a second analysis of that head, on any replica, completes it instead of creating another.
- ``ssot_rechecks``: `/ssot recheck` comments per (repository, PR, user), for the rate limit.
- ``ssot_results``, ``ssot_snapshots``, ``ssot_configs``, ``ssot_findings``: the
  :class:`~bot.state.store.StateStore` (the inventory's cache and last analysed snapshots; the
  pull request files' results reused per installation, docs/behaviour.md §14).
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = 1
# pg_advisory_xact_lock keys (64-bit): fixed numbers, spelled out so they never collide with the
# hashed keys of issue locks (those are hashes of text, see bot.service.shared.lock_id).
MIGRATE_LOCK = 0x55_0150_7D_0001
# a session with this setting 'off' stores jobs without the trigger's NOTIFY (the webhook's
# connections: they notify after the commit, see bot.service.shared); older replicas' sessions
# lack it and notify as before
NOTIFY_SETTING = "ssot.notify"

STATEMENTS: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS ssot_schema (version integer NOT NULL)",
    """CREATE TABLE IF NOT EXISTS ssot_workers (
        id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, role text NOT NULL,
        started_at timestamptz NOT NULL DEFAULT now(),
        heartbeat timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS ssot_jobs (
        id bigserial PRIMARY KEY, kind text NOT NULL, key text NOT NULL,
        args jsonb NOT NULL DEFAULT '{}'::jsonb, payload bytea,
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running')),
        worker text, attempts integer NOT NULL DEFAULT 0, triggers integer NOT NULL DEFAULT 1,
        enqueued_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz)""",
    "CREATE UNIQUE INDEX IF NOT EXISTS ssot_jobs_one_queued ON ssot_jobs (key) "
    "WHERE status = 'queued'",
    "CREATE UNIQUE INDEX IF NOT EXISTS ssot_jobs_one_running ON ssot_jobs (key) "
    "WHERE status = 'running'",
    "CREATE INDEX IF NOT EXISTS ssot_jobs_queued ON ssot_jobs (id) WHERE status = 'queued'",
    """CREATE TABLE IF NOT EXISTS ssot_deliveries (
        id text PRIMARY KEY, state text NOT NULL DEFAULT 'queued',
        at timestamptz NOT NULL DEFAULT now())""",
    """CREATE TABLE IF NOT EXISTS ssot_check_runs (
        repo text NOT NULL, head_sha text NOT NULL, name text NOT NULL, id bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (repo, head_sha, name))""",
    """CREATE TABLE IF NOT EXISTS ssot_rechecks (
        repo text NOT NULL, pr integer NOT NULL, login text NOT NULL, comment_id bigint NOT NULL,
        at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (repo, pr, login, comment_id))""",
    """CREATE TABLE IF NOT EXISTS ssot_results (
        repo text NOT NULL, key text NOT NULL, path text NOT NULL, sha text NOT NULL,
        data text NOT NULL, PRIMARY KEY (repo, key, path, sha))""",
    """CREATE TABLE IF NOT EXISTS ssot_snapshots (
        repo text NOT NULL, key text NOT NULL, sha text NOT NULL, files text NOT NULL,
        reexports text NOT NULL DEFAULT '{}', PRIMARY KEY (repo, key))""",
    """CREATE TABLE IF NOT EXISTS ssot_configs (
        repo text PRIMARY KEY, sha text NOT NULL, text text)""",
    """CREATE TABLE IF NOT EXISTS ssot_findings (
        installation bigint NOT NULL, key text NOT NULL, data text NOT NULL,
        used double precision NOT NULL, PRIMARY KEY (installation, key))""",
    "CREATE INDEX IF NOT EXISTS ssot_findings_used ON ssot_findings (installation, used)",
    # a job stored wakes the workers (LISTEN ssot_jobs) without polling, and so does one that
    # finished (a job of its key may wait): the payload says which loop, 'delivery' or 'job';
    # PostgreSQL sends each distinct notification once per transaction, at commit; a session
    # with NOTIFY_SETTING 'off' notifies on its own
    f"""CREATE OR REPLACE FUNCTION ssot_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF current_setting('{NOTIFY_SETTING}', true) = 'off' THEN
                RETURN NULL;
            ELSIF TG_OP = 'INSERT' THEN
                PERFORM pg_notify('ssot_jobs', CASE WHEN NEW.kind = 'delivery'
                                               THEN 'delivery' ELSE 'job' END);
            ELSIF OLD.kind <> 'delivery' THEN
                PERFORM pg_notify('ssot_jobs', 'job');
            END IF;
            RETURN NULL;
        END $$""",
    # created once: replacing it would lock the queue's table while other replicas use it
    """DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'ssot_jobs_notify') THEN
            CREATE TRIGGER ssot_jobs_notify AFTER INSERT OR DELETE ON ssot_jobs
            FOR EACH ROW EXECUTE FUNCTION ssot_jobs_notify();
        END IF; END $$""",
)


async def migrate(conn: Any) -> int:
    """Create or update the schema on ``conn`` (a psycopg ``AsyncConnection``); the version now.
    Safe to run from several processes at once."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        for statement in STATEMENTS:
            await conn.execute(statement)
        cur = await conn.execute("SELECT max(version) FROM ssot_schema")
        row = await cur.fetchone()
        current = row[0] if row and row[0] is not None else 0
        if current < SCHEMA_VERSION:
            await conn.execute("DELETE FROM ssot_schema")
            await conn.execute("INSERT INTO ssot_schema (version) VALUES (%s)",
                               (SCHEMA_VERSION,))
    return SCHEMA_VERSION
