-- meta-store-postgres migration 0003: the live-sale commerce store
-- (meta_commerce::store). Times are unix milliseconds, money is BIGINT minor units
-- plus a three-letter currency. Every table is prefixed `commerce_` to stay apart from
-- the publisher's.
--
-- Keys and anything the store sorts by (ids, SKUs) use the "C" collation: byte order,
-- the same order Rust gives `String`, so "sorted by SKU" means one thing for every
-- backend and every instance locks stock rows in the same order (no lock-order
-- deadlocks), whatever the database's default collation is.
-- No foreign keys: the port does not require parents to exist, and the engine writes
-- children and parents in one transaction anyway.

CREATE TABLE commerce_shops (
    id               TEXT COLLATE "C" PRIMARY KEY,
    name             TEXT NOT NULL,
    page_id          TEXT NOT NULL,
    country          TEXT NOT NULL,
    currency         TEXT NOT NULL,
    hold_ms          BIGINT NOT NULL,
    min_confidence   REAL NOT NULL,
    max_qty_per_item BIGINT NOT NULL CHECK (max_qty_per_item >= 0),
    gateways         JSONB NOT NULL,
    kill_switch      BOOLEAN NOT NULL
);

CREATE TABLE commerce_products (
    shop_id        TEXT COLLATE "C" NOT NULL,
    sku            TEXT COLLATE "C" NOT NULL,
    name           TEXT NOT NULL,
    aliases        JSONB NOT NULL,
    lot            BIGINT CHECK (lot >= 0),
    price_minor    BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    -- `Product::stock` reads back as available + reserved: the unsold units on hand.
    available      BIGINT NOT NULL,
    reserved       BIGINT NOT NULL,
    sold           BIGINT NOT NULL,
    PRIMARY KEY (shop_id, sku),
    -- The backstop behind put_stock's own check: stock never goes negative.
    CONSTRAINT commerce_products_stock_check
        CHECK (available >= 0 AND reserved >= 0 AND sold >= 0)
);

CREATE TABLE commerce_lives (
    id            TEXT COLLATE "C" PRIMARY KEY,
    shop_id       TEXT COLLATE "C" NOT NULL,
    post_id       TEXT NOT NULL,
    title         TEXT NOT NULL,
    state         TEXT NOT NULL,
    kill_switch   BOOLEAN NOT NULL,
    started_at_ms BIGINT NOT NULL,
    CONSTRAINT commerce_lives_post_id_key UNIQUE (post_id)
);
CREATE INDEX commerce_lives_shop_idx ON commerce_lives (shop_id, started_at_ms);

CREATE TABLE commerce_buyers (
    shop_id       TEXT COLLATE "C" NOT NULL,
    buyer_id      TEXT COLLATE "C" NOT NULL,
    name          TEXT,
    opted_out     BOOLEAN NOT NULL,
    anonymized    BOOLEAN NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    PRIMARY KEY (shop_id, buyer_id)
);

CREATE TABLE commerce_inbox (
    comment_id      TEXT COLLATE "C" PRIMARY KEY,
    shop_id         TEXT COLLATE "C" NOT NULL,
    live_id         TEXT COLLATE "C" NOT NULL,
    post_id         TEXT NOT NULL,
    buyer_id        TEXT COLLATE "C" NOT NULL,
    buyer_name      TEXT,
    text            TEXT NOT NULL,
    created_time_ms BIGINT NOT NULL,
    received_at_ms  BIGINT NOT NULL,
    status          TEXT NOT NULL,
    detail          TEXT
);
-- pending_inbox / take_pending: only pending rows, first come first served. Partial, so
-- it stays as small as the backlog however long the inbox grows.
CREATE INDEX commerce_inbox_pending_idx ON commerce_inbox (created_time_ms, comment_id)
    WHERE status = 'pending';
-- No other index: every comment is inserted once and updated once, and each index
-- is paid twice per comment. counts(shop) and anonymize_buyer (rare) scan the table.

CREATE TABLE commerce_orders (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    shop_id            TEXT COLLATE "C" NOT NULL,
    live_id            TEXT COLLATE "C" NOT NULL,
    buyer_id           TEXT COLLATE "C" NOT NULL,
    currency           TEXT NOT NULL,
    status             TEXT NOT NULL,
    total_minor        BIGINT NOT NULL,
    hold_expires_at_ms BIGINT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    version            BIGINT NOT NULL,
    pay_gateway        TEXT,
    pay_url            TEXT,
    pay_ref            TEXT,
    pay_for_version    BIGINT,
    paid_ref           TEXT,
    paid_at_ms         BIGINT,
    note               TEXT,
    reminded           BOOLEAN NOT NULL
);
-- At most one open cart per (live, buyer, currency): a second one is a 23505 on this
-- name, i.e. a Conflict, and the engine retries the whole transaction. It also serves
-- open_orders' (live, buyer) lookups.
CREATE UNIQUE INDEX commerce_orders_one_open_idx ON commerce_orders (live_id, buyer_id, currency)
    WHERE status = 'open';
-- due_expiries / due_reminders: orders of a status by hold end. Deliberately not
-- partial on 'open': a second partial index with the same predicate would compete
-- with the one above for open_orders' (live, buyer) probes, and a planner without
-- statistics yet can pick the one that walks every open order.
CREATE INDEX commerce_orders_hold_idx ON commerce_orders (status, hold_expires_at_ms, id);
-- orders(filter) by shop in creation order; buyer lookups and anonymize_buyer.
CREATE INDEX commerce_orders_shop_idx ON commerce_orders (shop_id, created_at_ms, id);
CREATE INDEX commerce_orders_buyer_idx ON commerce_orders (shop_id, buyer_id);

CREATE TABLE commerce_order_lines (
    order_id         TEXT COLLATE "C" NOT NULL,
    position         INTEGER NOT NULL,
    sku              TEXT COLLATE "C" NOT NULL,
    name             TEXT NOT NULL,
    qty              BIGINT NOT NULL CHECK (qty > 0),
    unit_price_minor BIGINT NOT NULL,
    PRIMARY KEY (order_id, position)
);

CREATE TABLE commerce_waitlist (
    id              TEXT COLLATE "C" PRIMARY KEY,
    shop_id         TEXT COLLATE "C" NOT NULL,
    live_id         TEXT COLLATE "C" NOT NULL,
    sku             TEXT COLLATE "C" NOT NULL,
    buyer_id        TEXT COLLATE "C" NOT NULL,
    qty             BIGINT NOT NULL CHECK (qty >= 0),
    comment_id      TEXT NOT NULL,
    created_time_ms BIGINT NOT NULL
);
-- The queue of a SKU: first come, first served.
CREATE INDEX commerce_waitlist_queue_idx ON commerce_waitlist (shop_id, sku, created_time_ms, id);

CREATE TABLE commerce_outbox (
    id                    TEXT COLLATE "C" PRIMARY KEY,
    shop_id               TEXT COLLATE "C" NOT NULL,
    live_id               TEXT COLLATE "C",
    buyer_id              TEXT COLLATE "C" NOT NULL,
    kind                  TEXT NOT NULL,
    comment_id            TEXT COLLATE "C",
    order_id              TEXT COLLATE "C",
    text                  TEXT NOT NULL,
    dedupe_key            TEXT NOT NULL,
    status                TEXT NOT NULL,
    attempts              BIGINT NOT NULL CHECK (attempts >= 0),
    next_attempt_at_ms    BIGINT NOT NULL,
    origin_received_at_ms BIGINT NOT NULL,
    created_at_ms         BIGINT NOT NULL,
    finished_at_ms        BIGINT,
    detail                TEXT,
    lease_owner           TEXT,
    lease_until_ms        BIGINT,
    -- The same decision never enqueues two messages (enqueue: ON CONFLICT DO NOTHING).
    CONSTRAINT commerce_outbox_dedupe_key_key UNIQUE (dedupe_key)
);
-- claim_outbox: pending rows in enqueue order. Partial, so sent rows cost nothing.
CREATE INDEX commerce_outbox_claim_idx ON commerce_outbox (created_at_ms, id)
    WHERE status = 'pending';
-- suppress_pending, anonymize_buyer, outbox(filter) by buyer.
CREATE INDEX commerce_outbox_buyer_idx ON commerce_outbox (shop_id, buyer_id);

CREATE TABLE commerce_audit (
    id         TEXT COLLATE "C" PRIMARY KEY,
    at_ms      BIGINT NOT NULL,
    shop_id    TEXT COLLATE "C" NOT NULL,
    live_id    TEXT COLLATE "C",
    comment_id TEXT COLLATE "C",
    order_id   TEXT COLLATE "C",
    buyer_id   TEXT COLLATE "C",
    action     TEXT NOT NULL,
    classifier TEXT,
    intent     TEXT,
    confidence REAL,
    items      TEXT,
    detail     TEXT NOT NULL
);
-- audit(filter) by shop in time order; counts(shop).
CREATE INDEX commerce_audit_shop_idx ON commerce_audit (shop_id, at_ms, id);

-- Append-only, enforced by the database: DELETE and TRUNCATE are refused from anyone,
-- and an UPDATE is refused unless it changes buyer_id alone inside a transaction that
-- declared a data-deletion request (anonymize_buyer sets the transaction-local
-- `meta_commerce.anonymizing`). A script or a future bug cannot rewrite history.
CREATE FUNCTION commerce_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('meta_commerce.anonymizing', true) = 'on'
       AND (to_jsonb(NEW) - 'buyer_id') = (to_jsonb(OLD) - 'buyer_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'commerce_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER commerce_audit_no_update_delete
    BEFORE UPDATE OR DELETE ON commerce_audit
    FOR EACH ROW EXECUTE FUNCTION commerce_audit_append_only();

CREATE TRIGGER commerce_audit_no_truncate
    BEFORE TRUNCATE ON commerce_audit
    FOR EACH STATEMENT EXECUTE FUNCTION commerce_audit_append_only();
