-- meta-store-postgres migration 0001: the token lifecycle and the messaging-policy guard.
-- Times are integers: unix seconds for connections (the port's unit), unix
-- nanoseconds for the policy store (so a SystemTime round-trips exactly).

-- meta_graph::lifecycle::TokenStore. `sealed_token` is TokenCipher output
-- (`v1.<key id>.<base64url>`); a plaintext token never reaches this table.
CREATE TABLE connections (
    id                 TEXT PRIMARY KEY,
    kind               TEXT NOT NULL,
    owner              TEXT NOT NULL,
    sealed_token       TEXT NOT NULL,
    obtained_at        BIGINT NOT NULL,
    expires_at         BIGINT,
    status             TEXT NOT NULL,
    refreshed_at       BIGINT,
    last_error_code    BIGINT,
    last_error_subcode BIGINT,
    updated_at         BIGINT NOT NULL,
    -- A subcode without a code cannot be represented by the port.
    CHECK (last_error_subcode IS NULL OR last_error_code IS NOT NULL)
);

-- TokenStore::due: usable connections by expiry.
CREATE INDEX connections_due_idx ON connections (expires_at)
    WHERE status IN ('active', 'expiring') AND expires_at IS NOT NULL;

-- meta_graph::messenger::policy::PolicyStore: the 24-hour window per (Page, person).
CREATE TABLE policy_inbound (
    page_id    TEXT NOT NULL,
    psid       TEXT NOT NULL,
    last_at_ns BIGINT NOT NULL,
    PRIMARY KEY (page_id, psid)
);

-- One private reply per comment: the primary key is what makes the reservation
-- exactly-once across instances (INSERT ... ON CONFLICT DO NOTHING, rows affected).
CREATE TABLE policy_private_replies (
    page_id        TEXT NOT NULL,
    comment_id     TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('reserved', 'sent')),
    -- NULL when a reply was confirmed without a reservation first.
    reserved_at_ns BIGINT,
    PRIMARY KEY (page_id, comment_id)
);
