-- meta-store-postgres migration 0002: tenants, accounts, posts, their audit trail and
-- the publish-attempt log (meta_graph::publisher::store). Times are unix milliseconds.
-- No foreign keys between these tables: the ports do not require the parent to exist,
-- and a deleted post keeps its audit trail and attempts.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kill_switch BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE accounts (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL,
    platform            TEXT NOT NULL,
    meta_id             TEXT NOT NULL,
    name                TEXT NOT NULL,
    connection_id       TEXT NOT NULL,
    timezone            TEXT NOT NULL,
    daily_cap           BIGINT NOT NULL CHECK (daily_cap >= 0),
    min_gap_secs        BIGINT NOT NULL CHECK (min_gap_secs >= 0),
    quiet_start_minute  INTEGER CHECK (quiet_start_minute BETWEEN 0 AND 65535),
    quiet_end_minute    INTEGER CHECK (quiet_end_minute BETWEEN 0 AND 65535),
    auto_approve        BOOLEAN NOT NULL,
    allow_self_approval BOOLEAN NOT NULL,
    kill_switch         BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          BIGINT NOT NULL,
    -- One row per Meta account and tenant: 23505 on this name is a Conflict.
    CONSTRAINT accounts_tenant_platform_meta_id_key UNIQUE (tenant_id, platform, meta_id)
);

CREATE TABLE posts (
    id              TEXT PRIMARY KEY,
    content_id      TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    account_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         JSONB NOT NULL,
    state           TEXT NOT NULL,
    author          TEXT NOT NULL,
    approver        TEXT,
    scheduled_at    BIGINT,
    not_before      BIGINT,
    blocked_reason  TEXT,
    attempts        BIGINT NOT NULL CHECK (attempts >= 0),
    next_attempt_at BIGINT,
    lease_owner     TEXT,
    lease_until     BIGINT,
    armed_at        BIGINT,
    container_id    TEXT,
    published_id    TEXT,
    published_at    BIGINT,
    last_error      TEXT,
    version         BIGINT NOT NULL CHECK (version >= 0),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- claim_due: claimable posts by due time (the latest of scheduled_at, not_before,
-- next_attempt_at; none set = due now). The query repeats this expression exactly.
CREATE INDEX posts_claim_idx ON posts (
    (COALESCE(GREATEST(scheduled_at, not_before, next_attempt_at), -9223372036854775808)),
    (id COLLATE "C")
) WHERE state IN ('scheduled', 'preparing', 'ready');

-- list_posts by tenant / account / content, in creation order.
CREATE INDEX posts_tenant_idx ON posts (tenant_id, created_at);
CREATE INDEX posts_account_idx ON posts (account_id, created_at);
CREATE INDEX posts_content_idx ON posts (content_id);

-- Governance reads: what counts for an account's caps and gaps.
CREATE INDEX posts_governance_idx ON posts (account_id, (COALESCE(published_at, armed_at)))
    WHERE state IN ('publishing', 'published', 'unconfirmed');

-- Reconciliation on restart: armed posts.
CREATE INDEX posts_armed_idx ON posts (armed_at) WHERE state = 'publishing';

-- The audit trail. `seq` orders rows inserted at the same millisecond.
CREATE TABLE post_audit (
    seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    post_id    TEXT NOT NULL,
    at         BIGINT NOT NULL,
    actor      TEXT NOT NULL,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    reason     TEXT
);
CREATE INDEX post_audit_post_idx ON post_audit (post_id, at, seq);

-- Append-only, enforced by the database too: the store issues no UPDATE or DELETE on
-- post_audit, and this trigger refuses one from anyone else (a script, a future bug).
CREATE FUNCTION post_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'post_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER post_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON post_audit
    FOR EACH ROW EXECUTE FUNCTION post_audit_append_only();

CREATE TRIGGER post_audit_no_truncate
    BEFORE TRUNCATE ON post_audit
    FOR EACH STATEMENT EXECUTE FUNCTION post_audit_append_only();

CREATE TABLE publish_attempts (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    post_id     TEXT NOT NULL,
    account_id  TEXT NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome     TEXT NOT NULL,
    code        BIGINT,
    subcode     BIGINT,
    fbtrace_id  TEXT,
    message     TEXT,
    duration_ms BIGINT NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX publish_attempts_post_idx ON publish_attempts (post_id, started_at, seq);
-- purge_attempts: retention by start time.
CREATE INDEX publish_attempts_started_idx ON publish_attempts (started_at);
