-- 0003: the live-sale commerce store (meta_commerce::store). Times are unix
-- MILLISECONDS; money is INTEGER minor units plus a three-letter currency. Every table
-- is prefixed `commerce_` to stay apart from the publisher's.
--
-- Text keys use SQLite's default BINARY collation: byte order, the order Rust gives
-- `String`, so "sorted by SKU" means the same here as in memory and on PostgreSQL
-- (whose migration uses COLLATE "C" for the same reason).
-- No foreign keys: the port does not require parents to exist, and the engine writes
-- children and parents in one transaction anyway.

CREATE TABLE commerce_shops (
    id               TEXT    PRIMARY KEY NOT NULL,
    name             TEXT    NOT NULL,
    page_id          TEXT    NOT NULL,
    country          TEXT    NOT NULL,
    currency         TEXT    NOT NULL,
    hold_ms          INTEGER NOT NULL,
    min_confidence   REAL    NOT NULL,
    max_qty_per_item INTEGER NOT NULL CHECK (max_qty_per_item BETWEEN 0 AND 4294967295),
    gateways         TEXT    NOT NULL CHECK (json_valid(gateways)),
    kill_switch      INTEGER NOT NULL CHECK (kill_switch IN (0, 1))
) STRICT;

CREATE TABLE commerce_products (
    shop_id        TEXT    NOT NULL,
    sku            TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    aliases        TEXT    NOT NULL CHECK (json_valid(aliases)),
    lot            INTEGER CHECK (lot BETWEEN 0 AND 4294967295),
    price_minor    INTEGER NOT NULL,
    currency       TEXT    NOT NULL,
    -- The live counts. A product's `stock` reads back as available + reserved: the
    -- unsold units on hand, what the next catalog import would declare.
    available      INTEGER NOT NULL,
    reserved       INTEGER NOT NULL,
    sold           INTEGER NOT NULL,
    PRIMARY KEY (shop_id, sku),
    -- The backstop behind put_stock's own check: stock never goes negative.
    CHECK (available >= 0 AND reserved >= 0 AND sold >= 0)
) STRICT, WITHOUT ROWID;

CREATE TABLE commerce_lives (
    id            TEXT    PRIMARY KEY NOT NULL,
    shop_id       TEXT    NOT NULL,
    post_id       TEXT    NOT NULL UNIQUE,
    title         TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('open', 'closed')),
    kill_switch   INTEGER NOT NULL CHECK (kill_switch IN (0, 1)),
    started_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX commerce_lives_shop ON commerce_lives (shop_id, started_at_ms);

CREATE TABLE commerce_buyers (
    shop_id       TEXT    NOT NULL,
    buyer_id      TEXT    NOT NULL,
    name          TEXT,
    opted_out     INTEGER NOT NULL CHECK (opted_out IN (0, 1)),
    anonymized    INTEGER NOT NULL CHECK (anonymized IN (0, 1)),
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (shop_id, buyer_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE commerce_inbox (
    comment_id      TEXT    PRIMARY KEY NOT NULL,
    shop_id         TEXT    NOT NULL,
    live_id         TEXT    NOT NULL,
    post_id         TEXT    NOT NULL,
    buyer_id        TEXT    NOT NULL,
    buyer_name      TEXT,
    text            TEXT    NOT NULL,
    created_time_ms INTEGER NOT NULL,
    received_at_ms  INTEGER NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'processed', 'skipped', 'rejected')),
    detail          TEXT
) STRICT;
-- pending_inbox: first come, first served. Partial, so it stays as small as the
-- backlog however long the inbox grows (a processed row leaves it).
CREATE INDEX commerce_inbox_pending ON commerce_inbox (created_time_ms, comment_id)
    WHERE status = 'pending';
-- counts(shop) and anonymize_buyer.
CREATE INDEX commerce_inbox_shop_buyer ON commerce_inbox (shop_id, buyer_id);

CREATE TABLE commerce_orders (
    id                 TEXT    PRIMARY KEY NOT NULL,
    shop_id            TEXT    NOT NULL,
    live_id            TEXT    NOT NULL,
    buyer_id           TEXT    NOT NULL,
    currency           TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('open', 'paid', 'expired', 'cancelled', 'refund_due')),
    total_minor        INTEGER NOT NULL,
    hold_expires_at_ms INTEGER NOT NULL,
    created_at_ms      INTEGER NOT NULL,
    updated_at_ms      INTEGER NOT NULL,
    version            INTEGER NOT NULL,
    pay_gateway        TEXT,
    pay_url            TEXT,
    pay_ref            TEXT,
    pay_for_version    INTEGER,
    paid_ref           TEXT,
    paid_at_ms         INTEGER,
    note               TEXT,
    reminded           INTEGER NOT NULL CHECK (reminded IN (0, 1))
) STRICT;
-- At most one open cart per (live, buyer, currency): a second one is a unique
-- violation, i.e. StoreError::Conflict, and the engine retries the whole transaction.
-- It also serves open_orders' (live, buyer) lookups.
CREATE UNIQUE INDEX commerce_orders_one_open ON commerce_orders (live_id, buyer_id, currency)
    WHERE status = 'open';
-- due_expiries / due_reminders: open orders by hold end.
CREATE INDEX commerce_orders_hold ON commerce_orders (hold_expires_at_ms, id)
    WHERE status = 'open';
-- orders(filter) by shop in creation order; buyer lookups and anonymize_buyer.
CREATE INDEX commerce_orders_shop ON commerce_orders (shop_id, created_at_ms, id);
CREATE INDEX commerce_orders_buyer ON commerce_orders (shop_id, buyer_id);

CREATE TABLE commerce_order_lines (
    order_id         TEXT    NOT NULL,
    position         INTEGER NOT NULL,
    sku              TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    qty              INTEGER NOT NULL CHECK (qty > 0 AND qty <= 4294967295),
    unit_price_minor INTEGER NOT NULL,
    PRIMARY KEY (order_id, position)
) STRICT, WITHOUT ROWID;

CREATE TABLE commerce_waitlist (
    id              TEXT    PRIMARY KEY NOT NULL,
    shop_id         TEXT    NOT NULL,
    live_id         TEXT    NOT NULL,
    sku             TEXT    NOT NULL,
    buyer_id        TEXT    NOT NULL,
    qty             INTEGER NOT NULL CHECK (qty BETWEEN 0 AND 4294967295),
    comment_id      TEXT    NOT NULL,
    created_time_ms INTEGER NOT NULL
) STRICT;
-- The queue of a SKU: first come, first served.
CREATE INDEX commerce_waitlist_queue ON commerce_waitlist (shop_id, sku, created_time_ms, id);

CREATE TABLE commerce_outbox (
    id                    TEXT    PRIMARY KEY NOT NULL,
    shop_id               TEXT    NOT NULL,
    live_id               TEXT,
    buyer_id              TEXT    NOT NULL,
    kind                  TEXT    NOT NULL CHECK (kind IN ('public_reply', 'private_reply', 'message')),
    comment_id            TEXT,
    order_id              TEXT,
    text                  TEXT    NOT NULL,
    -- The same decision never enqueues two messages (enqueue: ON CONFLICT DO NOTHING).
    dedupe_key            TEXT    NOT NULL UNIQUE,
    status                TEXT    NOT NULL CHECK (status IN ('pending', 'sent', 'suppressed', 'failed')),
    attempts              INTEGER NOT NULL CHECK (attempts BETWEEN 0 AND 4294967295),
    next_attempt_at_ms    INTEGER NOT NULL,
    origin_received_at_ms INTEGER NOT NULL,
    created_at_ms         INTEGER NOT NULL,
    finished_at_ms        INTEGER,
    detail                TEXT,
    lease_owner           TEXT,
    lease_until_ms        INTEGER
) STRICT;
-- claim_outbox: pending rows in enqueue order. Partial, so finished rows cost nothing.
CREATE INDEX commerce_outbox_claim ON commerce_outbox (created_at_ms, id)
    WHERE status = 'pending';
-- suppress_pending, anonymize_buyer, outbox(filter) by buyer.
CREATE INDEX commerce_outbox_buyer ON commerce_outbox (shop_id, buyer_id);

-- The audit log. WITHOUT ROWID: `id` is the only key, so the REPLACE guard below
-- covers every way an insert could clash with (and silently delete) an existing row.
CREATE TABLE commerce_audit (
    id         TEXT    PRIMARY KEY NOT NULL,
    at_ms      INTEGER NOT NULL,
    shop_id    TEXT    NOT NULL,
    live_id    TEXT,
    comment_id TEXT,
    order_id   TEXT,
    buyer_id   TEXT,
    action     TEXT    NOT NULL,
    classifier TEXT,
    intent     TEXT,
    confidence REAL,
    items      TEXT,
    detail     TEXT    NOT NULL
) STRICT, WITHOUT ROWID;
-- audit(filter) by shop in time order; counts(shop).
CREATE INDEX commerce_audit_shop ON commerce_audit (shop_id, at_ms, id);

-- Data-deletion requests in progress. anonymize_buyer writes (shop, old id, new id)
-- here, rewrites the audit rows' buyer_id, and deletes the row again, all inside its
-- transaction (which holds SQLite's write lock, so nobody else ever sees the row).
-- SQLite has no session variables; this table is how the trigger below tells a
-- deletion request from any other UPDATE.
CREATE TABLE commerce_audit_unlock (
    shop_id    TEXT NOT NULL,
    from_buyer TEXT NOT NULL,
    to_buyer   TEXT NOT NULL,
    PRIMARY KEY (shop_id, from_buyer, to_buyer)
) STRICT, WITHOUT ROWID;

-- Append-only, enforced by the database: the store has no DELETE for audit rows and
-- its only UPDATE is anonymize_buyer's; these triggers make sure nobody else's SQL can
-- edit or remove a row either.
CREATE TRIGGER commerce_audit_no_delete BEFORE DELETE ON commerce_audit
BEGIN
    SELECT RAISE(ABORT, 'commerce_audit is append-only: audit rows cannot be deleted');
END;
CREATE TRIGGER commerce_audit_no_update BEFORE UPDATE ON commerce_audit
WHEN NEW.id IS NOT OLD.id
  OR NEW.at_ms IS NOT OLD.at_ms
  OR NEW.shop_id IS NOT OLD.shop_id
  OR NEW.live_id IS NOT OLD.live_id
  OR NEW.comment_id IS NOT OLD.comment_id
  OR NEW.order_id IS NOT OLD.order_id
  OR NEW.action IS NOT OLD.action
  OR NEW.classifier IS NOT OLD.classifier
  OR NEW.intent IS NOT OLD.intent
  OR NEW.confidence IS NOT OLD.confidence
  OR NEW.items IS NOT OLD.items
  OR NEW.detail IS NOT OLD.detail
  OR NOT EXISTS (SELECT 1 FROM commerce_audit_unlock u
                 WHERE u.shop_id = OLD.shop_id AND u.from_buyer = OLD.buyer_id
                   AND u.to_buyer = NEW.buyer_id)
BEGIN
    SELECT RAISE(ABORT, 'commerce_audit is append-only: only a data-deletion request may change buyer_id');
END;
-- `INSERT OR REPLACE` / `REPLACE INTO` deletes the clashing row without firing DELETE
-- triggers (unless recursive_triggers is on), so an insert that would clash with an
-- existing row is refused here, before the conflict resolution runs.
CREATE TRIGGER commerce_audit_no_replace BEFORE INSERT ON commerce_audit
WHEN EXISTS (SELECT 1 FROM commerce_audit WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'commerce_audit is append-only: an audit row with this id exists');
END;
