-- 0002: the publisher: tenants, accounts, posts, the append-only audit trail and the
-- publish-attempt log (meta_graph::publisher::store). Times are unix MILLISECONDS.
--
-- No foreign keys between these tables on purpose: the audit trail and the attempt
-- log must outlive a deleted post, and the ports let accounts and posts be written in
-- any order (the publisher checks references itself).

CREATE TABLE tenants (
    id          TEXT    PRIMARY KEY NOT NULL,
    name        TEXT    NOT NULL,
    kill_switch INTEGER NOT NULL CHECK (kill_switch IN (0, 1)),
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
    id                  TEXT    PRIMARY KEY NOT NULL,
    tenant_id           TEXT    NOT NULL,
    platform            TEXT    NOT NULL CHECK (platform IN ('facebook', 'instagram', 'ad_account')),
    meta_id             TEXT    NOT NULL,
    name                TEXT    NOT NULL,
    connection_id       TEXT    NOT NULL,
    timezone            TEXT    NOT NULL,
    daily_cap           INTEGER NOT NULL CHECK (daily_cap BETWEEN 0 AND 4294967295),
    min_gap_secs        INTEGER NOT NULL CHECK (min_gap_secs >= 0),
    quiet_start_minute  INTEGER          CHECK (quiet_start_minute BETWEEN 0 AND 65535),
    quiet_end_minute    INTEGER          CHECK (quiet_end_minute BETWEEN 0 AND 65535),
    auto_approve        INTEGER NOT NULL CHECK (auto_approve IN (0, 1)),
    allow_self_approval INTEGER NOT NULL CHECK (allow_self_approval IN (0, 1)),
    kill_switch         INTEGER NOT NULL CHECK (kill_switch IN (0, 1)),
    created_at          INTEGER NOT NULL,
    -- One row per Meta account and tenant: connecting it twice is a conflict.
    UNIQUE (tenant_id, platform, meta_id)
) STRICT;

CREATE TABLE posts (
    id              TEXT    PRIMARY KEY NOT NULL,
    content_id      TEXT    NOT NULL,
    tenant_id       TEXT    NOT NULL,
    account_id      TEXT    NOT NULL,
    kind            TEXT    NOT NULL CHECK (kind IN ('fb_text', 'fb_link', 'fb_photo',
                        'fb_multi_photo', 'fb_video', 'ig_image', 'ig_reel', 'ig_story',
                        'ig_carousel')),
    payload         TEXT    NOT NULL CHECK (json_valid(payload)),
    state           TEXT    NOT NULL CHECK (state IN ('draft', 'pending_approval',
                        'approved', 'changes_requested', 'rejected', 'scheduled',
                        'preparing', 'ready', 'publishing', 'published', 'failed',
                        'unconfirmed')),
    author          TEXT    NOT NULL,
    approver        TEXT,
    scheduled_at    INTEGER,
    not_before      INTEGER,
    blocked_reason  TEXT,
    attempts        INTEGER NOT NULL CHECK (attempts BETWEEN 0 AND 4294967295),
    next_attempt_at INTEGER,
    lease_owner     TEXT,
    lease_until     INTEGER,
    armed_at        INTEGER,
    container_id    TEXT,
    published_id    TEXT,
    published_at    INTEGER,
    last_error      TEXT,
    version         INTEGER NOT NULL CHECK (version >= 0),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- PostRecord::due_at: the latest of the three times, unset ones ignored, all unset
    -- = due now. Generated so it can never disagree with the row it is computed from.
    -- (-9223372036854775807 - 1 is i64::MIN; the literal 9223372036854775808 would be
    -- read as a float.)
    due_at          INTEGER GENERATED ALWAYS AS (max(
                        coalesce(scheduled_at, -9223372036854775807 - 1),
                        coalesce(not_before, -9223372036854775807 - 1),
                        coalesce(next_attempt_at, -9223372036854775807 - 1))) STORED
) STRICT;

-- claim_due: claimable posts by due time.
CREATE INDEX posts_due ON posts (due_at, id)
    WHERE state IN ('scheduled', 'preparing', 'ready');
-- armed(): reconciliation on restart.
CREATE INDEX posts_armed ON posts (armed_at, id) WHERE state = 'publishing';
-- Governance reads: what counts for an account, by activity time.
CREATE INDEX posts_activity ON posts (account_id, coalesce(published_at, armed_at))
    WHERE state IN ('publishing', 'published', 'unconfirmed');
-- list_posts filters.
CREATE INDEX posts_tenant ON posts (tenant_id, created_at, id);
CREATE INDEX posts_account ON posts (account_id, created_at, id);
CREATE INDEX posts_content ON posts (content_id);

-- The audit trail: append-only. `seq` keeps insertion order among equal times.
CREATE TABLE post_audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL UNIQUE,
    post_id    TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    actor      TEXT    NOT NULL,
    from_state TEXT,
    to_state   TEXT    NOT NULL,
    reason     TEXT
) STRICT;
CREATE INDEX post_audit_post ON post_audit (post_id, at, seq);

-- The store has no UPDATE or DELETE statement for audit rows; these triggers make
-- sure nobody else's SQL can edit or remove one either.
CREATE TRIGGER post_audit_no_update BEFORE UPDATE ON post_audit
BEGIN
    SELECT RAISE(ABORT, 'post_audit is append-only: audit rows cannot be changed');
END;
CREATE TRIGGER post_audit_no_delete BEFORE DELETE ON post_audit
BEGIN
    SELECT RAISE(ABORT, 'post_audit is append-only: audit rows cannot be deleted');
END;
-- `INSERT OR REPLACE` / `REPLACE INTO` deletes the clashing row without firing DELETE
-- triggers (unless recursive_triggers is on), so an insert that would clash with an
-- existing row is refused here, before the conflict resolution runs. (In a BEFORE
-- INSERT trigger NEW.seq is -1 when the insert leaves it to AUTOINCREMENT.)
CREATE TRIGGER post_audit_no_replace BEFORE INSERT ON post_audit
WHEN EXISTS (SELECT 1 FROM post_audit WHERE id = NEW.id OR seq = NEW.seq)
BEGIN
    SELECT RAISE(ABORT, 'post_audit is append-only: an audit row with this id or seq exists');
END;

-- The publish-attempt log (purged after the retention period, 90 days by default).
CREATE TABLE publish_attempts (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    post_id     TEXT    NOT NULL,
    account_id  TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('published', 'transient', 'failed',
                    'unconfirmed', 'blocked')),
    code        INTEGER,
    subcode     INTEGER,
    fbtrace_id  TEXT,
    message     TEXT,
    duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0)
) STRICT;
CREATE INDEX publish_attempts_post ON publish_attempts (post_id, started_at, seq);
CREATE INDEX publish_attempts_started ON publish_attempts (started_at);
