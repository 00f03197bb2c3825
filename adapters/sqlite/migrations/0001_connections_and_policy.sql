-- 0001: token-lifecycle connections and the messaging-policy guard.
--
-- Times in the lifecycle rows are unix SECONDS (the port's unit); the policy tables
-- keep unix NANOSECONDS so a SystemTime round-trips exactly.

-- meta_graph::lifecycle::TokenStore. `sealed_token` is TokenCipher output
-- (`v1.<key id>.<base64url>`, AES-256-GCM bound to the connection id): this table
-- never holds a usable token.
CREATE TABLE connections (
    id                 TEXT    PRIMARY KEY NOT NULL,
    kind               TEXT    NOT NULL,
    owner              TEXT    NOT NULL,
    sealed_token       TEXT    NOT NULL,
    obtained_at        INTEGER NOT NULL CHECK (obtained_at >= 0),
    expires_at         INTEGER          CHECK (expires_at >= 0),
    status             TEXT    NOT NULL,
    refreshed_at       INTEGER          CHECK (refreshed_at >= 0),
    last_error_code    INTEGER,
    last_error_subcode INTEGER,
    updated_at         INTEGER NOT NULL CHECK (updated_at >= 0),
    -- A subcode without a code cannot be written by the port's (code, subcode) pair.
    CHECK (last_error_subcode IS NULL OR last_error_code IS NOT NULL)
) STRICT;

-- TokenStore::due: usable connections by expiry.
CREATE INDEX connections_due ON connections (expires_at)
    WHERE expires_at IS NOT NULL AND status IN ('active', 'expiring');

-- meta_graph::messenger::policy::PolicyStore: the person's last message to the Page
-- (opens the 24-hour window).
CREATE TABLE policy_inbound (
    page_id    TEXT    NOT NULL,
    psid       TEXT    NOT NULL,
    last_at_ns INTEGER NOT NULL,
    PRIMARY KEY (page_id, psid)
) STRICT, WITHOUT ROWID;

-- One private reply per comment: the primary key is what makes the reservation
-- exactly-once (INSERT ... ON CONFLICT DO NOTHING, then count the rows written).
CREATE TABLE policy_private_replies (
    page_id        TEXT    NOT NULL,
    comment_id     TEXT    NOT NULL,
    state          TEXT    NOT NULL CHECK (state IN ('reserved', 'sent')),
    -- NULL when a reply was confirmed without a reservation through this store.
    reserved_at_ns INTEGER,
    PRIMARY KEY (page_id, comment_id)
) STRICT, WITHOUT ROWID;
