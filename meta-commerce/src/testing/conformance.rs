//! The commerce store conformance suite: one set of checks every implementation of
//! [`CommerceStore`] must pass — [`InMemoryCommerceStore`](crate::memory::InMemoryCommerceStore),
//! SQLite and PostgreSQL alike — so the live-sale engine behaves the same whichever
//! store an application picks. The cases pin the contract of `crate::store` (and of
//! the project's `commerce-store-contract` notes): keys and dedupe, orderings, the
//! stock rules, the one-open-order rule, leases, data deletion, rollback on drop and
//! exclusivity under concurrency.
//!
//! [`run_all`] takes a factory returning a **fresh, empty** store (called once per
//! case) and runs every case of [`CASES`] in turn, panicking on the first contract
//! violation with the case name and what went wrong, like a test assertion. Call it
//! from an adapter's own test, on a multi-thread runtime so the concurrency cases race
//! for real:
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn commerce_store_conforms() {
//!     meta_commerce::testing::conformance::run_all(|| async {
//!         Arc::new(SqliteStore::in_memory().await.unwrap()) as Arc<dyn CommerceStore>
//!     })
//!     .await;
//! }
//! ```
//!
//! To run (or skip) single cases, iterate [`CASES`] and call [`run_case`].
//!
//! The cases never call a non-transactional method while they hold a transaction
//! (the in-memory and SQLite stores serialize them), and never depend on the order of
//! rows where the contract leaves it open (`shops`, `open_orders`, `lock_orders`,
//! `buyers`, the `counts` lists): those are compared sorted.

// A conformance suite is test code shipped as a library: failing loudly (panicking
// with a precise message) is its whole job.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt;

use crate::catalog::Product;
use crate::money::{Currency, Money};
use crate::store::{
    AuditRecord, Buyer, CommerceCounts, CommerceStore, CommerceTx, InboxComment, InboxStatus, Live,
    LiveState, LogFilter, Order, OrderFilter, OrderLine, OrderStatus, OutboxKind, OutboxMessage,
    OutboxStatus, OutboxUpdate, PaymentLinkRecord, Shop, StockLevel, StoreError, WaitEntry,
};

/// A fixed "now" for the cases: 2025-03-01T12:00:00Z in unix ms.
pub const T0: i64 = 1_740_830_400_000;
/// The shop most cases use (Chile, CLP).
pub const SHOP: &str = "shop-cl";
/// A second shop, to check that every read is scoped to its shop.
pub const OTHER_SHOP: &str = "shop-mx";
const SEC: i64 = 1_000;
const MIN: i64 = 60_000;

/// The future of one case.
pub type CaseFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One named case of the suite.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// The case's name (its function's).
    pub name: &'static str,
    /// Runs the case on a fresh, empty store.
    pub run: fn(Arc<dyn CommerceStore>) -> CaseFuture,
}

macro_rules! cases {
    ($($name:ident),+ $(,)?) => {
        /// Every case, in the order [`run_all`] runs them.
        pub const CASES: &[Case] = &[
            $(Case { name: stringify!($name), run: |s| Box::pin($name(s)) }),+
        ];
    };
}

cases![
    shops_round_trip_and_kill_switch,
    lives_by_post_and_newest_first,
    import_products_new_and_existing,
    products_in_lot_then_sku_order,
    insert_inbox_dedupes_per_row,
    pending_inbox_order_and_limit,
    take_pending_and_mark_inbox,
    lock_stock_sorted_unknown_absent,
    put_stock_negative_is_invalid,
    orders_round_trip_and_filters,
    put_orders_replaces_lines,
    one_open_order_per_live_buyer_currency,
    open_orders_and_lock_orders,
    payment_link_version_check,
    due_expiries_and_reminders,
    waitlist_queue_order,
    buyers_round_trip,
    audit_append_only_and_filters,
    enqueue_dedupes,
    outbox_filters_and_order,
    claim_outbox_leases,
    finish_outbox_transitions,
    suppress_pending_messages,
    anonymize_buyer_everywhere,
    counts_by_status,
    reads_inside_a_transaction_see_its_writes,
    drop_rolls_back,
    concurrent_reservations,
    concurrent_claims,
    concurrent_take_pending,
];

/// Runs every case of [`CASES`], each on a fresh store from `make`.
///
/// # Panics
/// On the first contract violation, naming the case.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn CommerceStore>>,
{
    for case in CASES {
        run_case(case, make().await).await;
    }
}

/// Runs one case on `store` (which must be fresh and empty).
///
/// # Panics
/// When the store violates the contract; the case name is printed to stderr first.
pub async fn run_case(case: &Case, store: Arc<dyn CommerceStore>) {
    if let Err(panic) = AssertUnwindSafe((case.run)(store)).catch_unwind().await {
        eprintln!("commerce store conformance: case `{}` failed", case.name);
        std::panic::resume_unwind(panic);
    }
}

// ---------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------

/// A Chilean shop `id` with every field set to a non-default value (so a store that
/// drops a field is caught).
#[must_use]
pub fn sample_shop(id: &str) -> Shop {
    Shop {
        id: id.to_owned(),
        name: format!("Tienda «{id}» — ñandú"),
        page_id: format!("page-{id}"),
        country: "CL".to_owned(),
        currency: Currency::CLP,
        hold_ms: 15 * MIN,
        min_confidence: 0.75,
        max_qty_per_item: 5,
        gateways: vec!["flow".to_owned(), "mercadopago".to_owned()],
        kill_switch: false,
    }
}

/// An open live of `shop_id` on `post_id`.
#[must_use]
pub fn sample_live(id: &str, shop_id: &str, post_id: &str, started_at_ms: i64) -> Live {
    Live::new(id, shop_id, post_id, format!("Live {id} 🎉"), started_at_ms)
}

/// A CLP product with aliases, an optional lot and `stock` units.
#[must_use]
pub fn sample_product(sku: &str, lot: Option<u32>, stock: u32) -> Product {
    let mut p = Product::new(
        sku,
        format!("Producto {sku}"),
        Money::new(9_990, Currency::CLP),
        stock,
    )
    .with_aliases([format!("alias {sku}"), format!("otro {sku}")]);
    p.lot = lot;
    p
}

/// A pending comment of [`SHOP`] on `live-1` by `buyer_id`, made at `created_time_ms`.
#[must_use]
pub fn sample_comment(comment_id: &str, buyer_id: &str, created_time_ms: i64) -> InboxComment {
    InboxComment {
        comment_id: comment_id.to_owned(),
        shop_id: SHOP.to_owned(),
        live_id: "live-1".to_owned(),
        post_id: "page_100".to_owned(),
        buyer_id: buyer_id.to_owned(),
        buyer_name: Some(format!("Nombre de {buyer_id}")),
        text: format!("quiero la polera roja M x2 ({comment_id})"),
        created_time_ms,
        received_at_ms: created_time_ms + 250,
        status: InboxStatus::Pending,
        detail: None,
    }
}

/// An open order of [`SHOP`] with two lines and its total.
#[must_use]
pub fn sample_order(
    id: &str,
    live_id: &str,
    buyer_id: &str,
    currency: Currency,
    created_at_ms: i64,
) -> Order {
    let mut o = Order::new(
        id,
        SHOP,
        live_id,
        buyer_id,
        currency,
        created_at_ms,
        created_at_ms + 30 * MIN,
    );
    o.lines = vec![
        OrderLine {
            sku: "POL-ROJ-M".to_owned(),
            name: "Polera roja talla M".to_owned(),
            qty: 2,
            unit_price_minor: 9_990,
        },
        OrderLine {
            sku: "GOR-NEG-U".to_owned(),
            name: "Gorro negro — único".to_owned(),
            qty: 1,
            unit_price_minor: 4_990,
        },
    ];
    o.recompute_total();
    o
}

/// A waitlist entry of [`SHOP`] on `live-1`.
#[must_use]
pub fn sample_wait(id: &str, sku: &str, buyer_id: &str, created_time_ms: i64) -> WaitEntry {
    WaitEntry {
        id: id.to_owned(),
        shop_id: SHOP.to_owned(),
        live_id: "live-1".to_owned(),
        sku: sku.to_owned(),
        buyer_id: buyer_id.to_owned(),
        qty: 2,
        comment_id: format!("comment-of-{id}"),
        created_time_ms,
    }
}

/// A buyer of [`SHOP`] with a name.
#[must_use]
pub fn sample_buyer(buyer_id: &str) -> Buyer {
    Buyer::new(SHOP, buyer_id, Some(format!("Comprador {buyer_id}")), T0)
}

/// A pending private reply of [`SHOP`] to `buyer_id`, created (and due) at
/// `created_at_ms`.
#[must_use]
pub fn sample_message(
    id: &str,
    buyer_id: &str,
    dedupe_key: &str,
    created_at_ms: i64,
) -> OutboxMessage {
    OutboxMessage {
        id: id.to_owned(),
        shop_id: SHOP.to_owned(),
        live_id: Some("live-1".to_owned()),
        buyer_id: buyer_id.to_owned(),
        kind: OutboxKind::PrivateReply,
        comment_id: Some(format!("comment-{id}")),
        order_id: Some(format!("order-{id}")),
        text: format!("Hola, tu pedido {id}: {{payment_link}}"),
        dedupe_key: dedupe_key.to_owned(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at_ms: created_at_ms,
        origin_received_at_ms: created_at_ms - 120,
        created_at_ms,
        finished_at_ms: None,
        detail: None,
        lease_owner: None,
        lease_until_ms: None,
    }
}

/// An audit row of [`SHOP`] with every optional field set.
#[must_use]
pub fn sample_audit(id: &str, at_ms: i64, buyer_id: Option<&str>) -> AuditRecord {
    AuditRecord {
        id: id.to_owned(),
        at_ms,
        shop_id: SHOP.to_owned(),
        live_id: Some("live-1".to_owned()),
        comment_id: Some(format!("comment-{id}")),
        order_id: Some(format!("order-{id}")),
        buyer_id: buyer_id.map(str::to_owned),
        action: "reserved".to_owned(),
        classifier: Some("rules".to_owned()),
        intent: Some("purchase".to_owned()),
        confidence: Some(0.875),
        items: Some(r#"[{"sku":"POL-ROJ-M","qty":2}]"#.to_owned()),
        detail: format!("reservado «{id}»"),
    }
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

fn ok<T, E: Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("conformance: {what}: unexpected error {e:?}"),
    }
}

fn conflict<T: Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("conformance: {what}: expected StoreError::Conflict, got {other:?}"),
    }
}

fn invalid<T: Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::Invalid(_)) => {}
        other => panic!("conformance: {what}: expected StoreError::Invalid, got {other:?}"),
    }
}

fn not_found<T: Debug>(r: Result<T, StoreError>, what: &str) {
    match r {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("conformance: {what}: expected StoreError::NotFound, got {other:?}"),
    }
}

async fn begin(s: &Arc<dyn CommerceStore>) -> Box<dyn CommerceTx> {
    ok(s.begin().await, "begin")
}

async fn commit(tx: Box<dyn CommerceTx>, what: &str) {
    ok(tx.commit().await, &format!("commit ({what})"));
}

async fn put_shops(s: &Arc<dyn CommerceStore>) {
    ok(s.put_shop(&sample_shop(SHOP)).await, "put_shop");
    let mut other = sample_shop(OTHER_SHOP);
    other.country = "MX".to_owned();
    other.currency = Currency::MXN;
    ok(s.put_shop(&other).await, "put_shop");
}

async fn write_orders(s: &Arc<dyn CommerceStore>, orders: &[Order]) {
    let mut tx = begin(s).await;
    ok(tx.put_orders(orders).await, "put_orders");
    commit(tx, "put_orders").await;
}

async fn write_waitlist(s: &Arc<dyn CommerceStore>, entries: &[WaitEntry]) {
    let mut tx = begin(s).await;
    ok(tx.put_waitlist(entries).await, "put_waitlist");
    commit(tx, "put_waitlist").await;
}

async fn write_buyers(s: &Arc<dyn CommerceStore>, buyers: &[Buyer]) {
    let mut tx = begin(s).await;
    ok(tx.put_buyers(buyers).await, "put_buyers");
    commit(tx, "put_buyers").await;
}

async fn write_audit(s: &Arc<dyn CommerceStore>, rows: &[AuditRecord]) {
    let mut tx = begin(s).await;
    ok(tx.append_audit(rows).await, "append_audit");
    commit(tx, "append_audit").await;
}

async fn write_outbox(s: &Arc<dyn CommerceStore>, messages: &[OutboxMessage]) {
    let mut tx = begin(s).await;
    ok(tx.enqueue(messages).await, "enqueue");
    commit(tx, "enqueue").await;
}

async fn write_stock(s: &Arc<dyn CommerceStore>, rows: &[StockLevel]) {
    let mut tx = begin(s).await;
    ok(tx.put_stock(rows).await, "put_stock");
    commit(tx, "put_stock").await;
}

async fn insert_comments(s: &Arc<dyn CommerceStore>, rows: &[InboxComment]) {
    let fresh = ok(s.insert_inbox(rows).await, "insert_inbox");
    assert!(
        fresh.iter().all(|b| *b),
        "conformance: insert_inbox of new comments returned {fresh:?}"
    );
}

async fn stock_of(s: &Arc<dyn CommerceStore>, shop: &str, sku: &str) -> StockLevel {
    match ok(s.stock(shop, sku).await, "stock") {
        Some(l) => l,
        None => panic!("conformance: stock({shop}, {sku}) is missing"),
    }
}

async fn order_of(s: &Arc<dyn CommerceStore>, id: &str) -> Order {
    match ok(s.order(id).await, "order") {
        Some(o) => o,
        None => panic!("conformance: order {id} is missing"),
    }
}

async fn message_of(s: &Arc<dyn CommerceStore>, id: &str) -> OutboxMessage {
    let all = ok(s.outbox(&LogFilter::default()).await, "outbox");
    match all.into_iter().find(|m| m.id == id) {
        Some(m) => m,
        None => panic!("conformance: outbox message {id} is missing"),
    }
}

async fn comment_of(s: &Arc<dyn CommerceStore>, id: &str) -> InboxComment {
    match ok(s.inbox_comment(id).await, "inbox_comment") {
        Some(c) => c,
        None => panic!("conformance: inbox comment {id} is missing"),
    }
}

fn level(shop: &str, sku: &str, available: i64, reserved: i64, sold: i64) -> StockLevel {
    StockLevel {
        shop_id: shop.to_owned(),
        sku: sku.to_owned(),
        available,
        reserved,
        sold,
    }
}

fn order_ids(v: &[Order]) -> Vec<&str> {
    v.iter().map(|o| o.id.as_str()).collect()
}

fn sorted_by_id(mut v: Vec<Order>) -> Vec<Order> {
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

fn message_ids(v: &[OutboxMessage]) -> Vec<&str> {
    v.iter().map(|m| m.id.as_str()).collect()
}

fn comment_ids(v: &[InboxComment]) -> Vec<&str> {
    v.iter().map(|c| c.comment_id.as_str()).collect()
}

fn wait_ids(v: &[WaitEntry]) -> Vec<&str> {
    v.iter().map(|w| w.id.as_str()).collect()
}

fn audit_ids(v: &[AuditRecord]) -> Vec<&str> {
    v.iter().map(|a| a.id.as_str()).collect()
}

fn log_filter(f: impl FnOnce(&mut LogFilter)) -> LogFilter {
    let mut filter = LogFilter::default();
    f(&mut filter);
    filter
}

fn order_filter(f: impl FnOnce(&mut OrderFilter)) -> OrderFilter {
    let mut filter = OrderFilter::default();
    f(&mut filter);
    filter
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

// ---------------------------------------------------------------------------------
// Shops, lives, catalog
// ---------------------------------------------------------------------------------

/// Shops round-trip every field, upsert by id, and the kill switch of an unknown shop
/// is `NotFound`.
async fn shops_round_trip_and_kill_switch(s: Arc<dyn CommerceStore>) {
    assert_eq!(
        ok(s.shop(SHOP).await, "shop"),
        None,
        "an empty store has no shop"
    );
    assert!(
        ok(s.shops().await, "shops").is_empty(),
        "an empty store has no shops"
    );
    let mut b = sample_shop("shop-b");
    b.kill_switch = true;
    b.gateways = Vec::new();
    b.currency = Currency::MXN;
    b.country = "MX".to_owned();
    b.min_confidence = 0.5;
    let a = sample_shop("shop-a");
    ok(s.put_shop(&b).await, "put_shop");
    ok(s.put_shop(&a).await, "put_shop");
    assert_eq!(
        ok(s.shop("shop-a").await, "shop"),
        Some(a.clone()),
        "shop round trip"
    );
    assert_eq!(
        ok(s.shop("shop-b").await, "shop"),
        Some(b.clone()),
        "shop round trip (kill switch on, no gateways)"
    );
    b.name = "Renombrada".to_owned();
    b.hold_ms = 5 * MIN;
    ok(s.put_shop(&b).await, "put_shop update");
    let mut all = ok(s.shops().await, "shops");
    all.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(
        all,
        vec![a, b],
        "shops after an update: one row per id, updated fields"
    );
    ok(
        s.set_shop_kill_switch("shop-a", true).await,
        "set_shop_kill_switch on",
    );
    assert!(
        ok(s.shop("shop-a").await, "shop").unwrap().kill_switch,
        "kill switch on"
    );
    ok(
        s.set_shop_kill_switch("shop-a", false).await,
        "set_shop_kill_switch off",
    );
    assert!(
        !ok(s.shop("shop-a").await, "shop").unwrap().kill_switch,
        "kill switch off"
    );
    not_found(
        s.set_shop_kill_switch("nope", true).await,
        "kill switch of an unknown shop",
    );
}

/// Lives round-trip, are found by post id, list newest first per shop, keep post ids
/// unique, and the kill switch of an unknown live is `NotFound`.
async fn lives_by_post_and_newest_first(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    let mut l1 = sample_live("live-1", SHOP, "page_100", T0);
    let mut l2 = sample_live("live-2", SHOP, "page_200", T0 + 3_600_000);
    l2.kill_switch = true;
    l2.state = LiveState::Closed;
    let l3 = sample_live("live-3", OTHER_SHOP, "page_300", T0 + 7_200_000);
    for l in [&l1, &l2, &l3] {
        ok(s.put_live(l).await, "put_live");
    }
    assert_eq!(
        ok(s.live("live-2").await, "live"),
        Some(l2.clone()),
        "live round trip"
    );
    assert_eq!(ok(s.live("nope").await, "live"), None);
    assert_eq!(
        ok(s.live_by_post("page_100").await, "live_by_post"),
        Some(l1.clone()),
        "live_by_post"
    );
    assert_eq!(ok(s.live_by_post("page_999").await, "live_by_post"), None);
    let ids = |v: Vec<Live>| v.into_iter().map(|l| l.id).collect::<Vec<_>>();
    assert_eq!(
        ids(ok(s.lives(SHOP).await, "lives")),
        ["live-2", "live-1"],
        "lives: the shop's, newest first"
    );
    assert_eq!(ids(ok(s.lives(OTHER_SHOP).await, "lives")), ["live-3"]);
    assert!(ok(s.lives("nope").await, "lives").is_empty());
    // Upsert by id, the post id included.
    l1.title = "Lunes de poleras".to_owned();
    l1.state = LiveState::Closed;
    l1.post_id = "page_101".to_owned();
    ok(s.put_live(&l1).await, "put_live update");
    assert_eq!(ok(s.live("live-1").await, "live"), Some(l1.clone()));
    assert_eq!(
        ok(s.live_by_post("page_101").await, "live_by_post"),
        Some(l1.clone()),
        "the new post id finds the live"
    );
    assert_eq!(
        ok(s.live_by_post("page_100").await, "live_by_post"),
        None,
        "the old post id no longer does"
    );
    assert_eq!(
        ok(s.lives(SHOP).await, "lives").len(),
        2,
        "an update keeps one row"
    );
    ok(
        s.set_live_kill_switch("live-1", true).await,
        "set_live_kill_switch",
    );
    assert!(ok(s.live("live-1").await, "live").unwrap().kill_switch);
    ok(
        s.set_live_kill_switch("live-1", false).await,
        "set_live_kill_switch",
    );
    assert!(!ok(s.live("live-1").await, "live").unwrap().kill_switch);
    not_found(
        s.set_live_kill_switch("nope", true).await,
        "kill switch of an unknown live",
    );
    // Post ids are unique.
    conflict(
        s.put_live(&sample_live("live-9", SHOP, "page_200", T0))
            .await,
        "a second live on the same post",
    );
    assert_eq!(
        ok(s.live("live-9").await, "live"),
        None,
        "the conflicting live was not written"
    );
    assert_eq!(
        ok(s.live_by_post("page_200").await, "live_by_post").map(|l| l.id),
        Some("live-2".to_owned())
    );
}

/// New SKUs get `available = stock`; existing ones keep reserved and sold and get
/// `available = max(stock − reserved, 0)`; unlisted SKUs are untouched. Products read
/// back with `product.stock = available + reserved` (the unsold units on hand).
async fn import_products_new_and_existing(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    let p1 = sample_product("POL-ROJ-M", Some(1), 10);
    let p2 = sample_product("POL-AZU-S", Some(2), 4);
    let p3 = sample_product("GOR-NEG-U", None, 7);
    ok(
        s.import_products(SHOP, &[p1.clone(), p2.clone(), p3.clone()])
            .await,
        "import_products",
    );
    assert_eq!(
        stock_of(&s, SHOP, "POL-ROJ-M").await,
        level(SHOP, "POL-ROJ-M", 10, 0, 0),
        "a new SKU: available = stock"
    );
    assert_eq!(
        stock_of(&s, SHOP, "GOR-NEG-U").await,
        level(SHOP, "GOR-NEG-U", 7, 0, 0)
    );
    assert_eq!(
        ok(s.stock(SHOP, "NOPE").await, "stock"),
        None,
        "unknown SKU"
    );
    assert_eq!(
        ok(s.stock(OTHER_SHOP, "POL-ROJ-M").await, "stock"),
        None,
        "stock is per shop"
    );
    write_stock(
        &s,
        &[
            level(SHOP, "POL-ROJ-M", 4, 5, 1),
            level(SHOP, "POL-AZU-S", 0, 3, 1),
        ],
    )
    .await;

    let mut p1b = Product::new(
        "POL-ROJ-M",
        "Polera roja M (nueva)",
        Money::new(1_299, Currency::USD),
        8,
    )
    .with_aliases(["red tee m", "camiseta vermelha m"])
    .with_lot(11);
    p1b.aliases.push("polera roja".to_owned());
    let p2b = Product::new(
        "POL-AZU-S",
        "Polera azul S",
        Money::new(8_990, Currency::CLP),
        2,
    );
    let p4 = sample_product("CHA-VER-L", Some(4), 6);
    ok(
        s.import_products(SHOP, &[p1b.clone(), p2b.clone(), p4.clone()])
            .await,
        "re-import",
    );
    assert_eq!(
        stock_of(&s, SHOP, "POL-ROJ-M").await,
        level(SHOP, "POL-ROJ-M", 3, 5, 1),
        "an existing SKU keeps reserved and sold, available = stock − reserved"
    );
    assert_eq!(
        stock_of(&s, SHOP, "POL-AZU-S").await,
        level(SHOP, "POL-AZU-S", 0, 3, 1),
        "available = max(stock − reserved, 0) when fewer units than reserved are declared"
    );
    assert_eq!(
        stock_of(&s, SHOP, "GOR-NEG-U").await,
        level(SHOP, "GOR-NEG-U", 7, 0, 0),
        "an unlisted SKU is untouched"
    );
    assert_eq!(
        stock_of(&s, SHOP, "CHA-VER-L").await,
        level(SHOP, "CHA-VER-L", 6, 0, 0),
        "a new SKU in a re-import"
    );

    let records = ok(s.products(SHOP).await, "products");
    let by_sku: BTreeMap<&str, _> = records
        .iter()
        .map(|r| (r.product.sku.as_str(), r))
        .collect();
    assert_eq!(by_sku.len(), 4, "four products");
    for r in &records {
        assert_eq!(r.shop_id, SHOP, "record shop id");
        assert_eq!(r.stock.sku, r.product.sku, "record stock sku");
        assert_eq!(
            r.stock,
            stock_of(&s, SHOP, &r.product.sku).await,
            "products() carries the stock row"
        );
        assert_eq!(
            i64::from(r.product.stock),
            r.stock.available + r.stock.reserved,
            "product.stock reads back as available + reserved ({})",
            r.product.sku
        );
    }
    let expect = |p: &Product, stock: u32| {
        let mut p = p.clone();
        p.stock = stock;
        p
    };
    assert_eq!(
        by_sku["POL-ROJ-M"].product,
        expect(&p1b, 8),
        "name, aliases, lot and price (with currency) replaced"
    );
    assert_eq!(
        by_sku["POL-AZU-S"].product,
        expect(&p2b, 3),
        "lot removed by a re-import without one"
    );
    assert_eq!(
        by_sku["GOR-NEG-U"].product,
        expect(&p3, 7),
        "unlisted product untouched"
    );
    assert_eq!(by_sku["CHA-VER-L"].product, p4, "new product round trip");
    assert!(
        ok(s.products(OTHER_SHOP).await, "products").is_empty(),
        "products are per shop"
    );
}

/// `products` orders by lot (products without a lot last), then SKU.
async fn products_in_lot_then_sku_order(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    let ps = [
        sample_product("A-1", Some(3), 1),
        sample_product("B-1", None, 1),
        sample_product("C-1", Some(1), 1),
        sample_product("D-1", None, 1),
        sample_product("E-1", Some(2), 1),
        sample_product("F-1", Some(10), 1),
    ];
    ok(s.import_products(SHOP, &ps).await, "import_products");
    ok(
        s.import_products(OTHER_SHOP, &[sample_product("Z-1", Some(0), 1)])
            .await,
        "import_products",
    );
    let skus: Vec<String> = ok(s.products(SHOP).await, "products")
        .into_iter()
        .map(|r| r.product.sku)
        .collect();
    assert_eq!(
        skus,
        ["C-1", "E-1", "A-1", "F-1", "B-1", "D-1"],
        "lot order (numeric), no lot last, then SKU"
    );
    assert!(ok(s.products("nope").await, "products").is_empty());
}

// ---------------------------------------------------------------------------------
// Inbox
// ---------------------------------------------------------------------------------

/// `insert_inbox` is keyed by comment id: one bool per input row, the same id twice in
/// one call is new once, an existing row is never overwritten.
async fn insert_inbox_dedupes_per_row(s: Arc<dyn CommerceStore>) {
    let a = sample_comment("c-a", "b1", T0);
    let b = sample_comment("c-b", "b2", T0 + 1);
    let mut a2 = a.clone();
    a2.text = "otro texto".to_owned();
    a2.created_time_ms = T0 + 99;
    assert_eq!(
        ok(
            s.insert_inbox(&[a.clone(), b.clone(), a2]).await,
            "insert_inbox"
        ),
        [true, true, false],
        "the same id twice in one call: first new, second not"
    );
    assert_eq!(
        ok(s.inbox_comment("c-a").await, "inbox_comment"),
        Some(a.clone()),
        "the first row was kept"
    );
    let mut c = sample_comment("c-c", "b3", T0 + 2);
    c.buyer_name = None;
    c.status = InboxStatus::Skipped;
    c.detail = Some("own comment".to_owned());
    assert_eq!(
        ok(
            s.insert_inbox(&[b.clone(), c.clone()]).await,
            "insert_inbox"
        ),
        [false, true],
        "redelivery is a no-op"
    );
    assert_eq!(
        ok(s.inbox_comment("c-c").await, "inbox_comment"),
        Some(c),
        "round trip with optional fields and a status"
    );
    assert_eq!(ok(s.inbox_comment("c-b").await, "inbox_comment"), Some(b));
    assert_eq!(ok(s.inbox_comment("nope").await, "inbox_comment"), None);
    assert!(ok(s.insert_inbox(&[]).await, "insert_inbox of nothing").is_empty());
    // A webhook batch's worth.
    let many: Vec<InboxComment> = (0..1_000)
        .map(|i| sample_comment(&format!("bulk-{i:04}"), "b9", T0 + 10 + i))
        .collect();
    let first = ok(s.insert_inbox(&many).await, "insert_inbox 1,000");
    assert_eq!(first.len(), 1_000);
    assert!(first.iter().all(|x| *x), "1,000 new comments");
    let again = ok(s.insert_inbox(&many).await, "insert_inbox 1,000 again");
    assert_eq!(again.len(), 1_000);
    assert!(again.iter().all(|x| !*x), "1,000 redelivered comments");
}

/// `pending_inbox` returns pending rows only, by created time then comment id, up to
/// the limit.
async fn pending_inbox_order_and_limit(s: Arc<dyn CommerceStore>) {
    let mut skipped = sample_comment("c-s", "b1", T0);
    skipped.status = InboxStatus::Skipped;
    let mut processed = sample_comment("c-p", "b1", T0 - 1);
    processed.status = InboxStatus::Processed;
    insert_comments(
        &s,
        &[
            sample_comment("c-3", "b1", T0 + 3),
            sample_comment("c-1", "b1", T0 + 1),
            sample_comment("c-2b", "b1", T0 + 2),
            sample_comment("c-2a", "b2", T0 + 2),
            skipped,
            processed,
        ],
    )
    .await;
    let all = ok(s.pending_inbox(10).await, "pending_inbox");
    assert_eq!(
        comment_ids(&all),
        ["c-1", "c-2a", "c-2b", "c-3"],
        "pending only, created time then id"
    );
    assert_eq!(all[0], sample_comment("c-1", "b1", T0 + 1), "full rows");
    assert_eq!(
        comment_ids(&ok(s.pending_inbox(2).await, "pending_inbox")),
        ["c-1", "c-2a"],
        "limit"
    );
    let mut tx = begin(&s).await;
    ok(
        tx.mark_inbox(&[("c-1".to_owned(), InboxStatus::Processed, None)])
            .await,
        "mark_inbox",
    );
    commit(tx, "mark_inbox").await;
    assert_eq!(
        comment_ids(&ok(s.pending_inbox(10).await, "pending_inbox")),
        ["c-2a", "c-2b", "c-3"],
        "a processed comment leaves the pending list"
    );
}

/// `take_pending` returns the still-pending rows among the ids (created time order),
/// `mark_inbox` sets status and detail, and a comment taken and marked is not taken
/// again.
async fn take_pending_and_mark_inbox(s: Arc<dyn CommerceStore>) {
    let mut done = sample_comment("c-d", "b1", T0);
    done.status = InboxStatus::Processed;
    let a = sample_comment("c-a", "b1", T0 + 2);
    let b = sample_comment("c-b", "b2", T0 + 1);
    let c = sample_comment("c-c", "b3", T0 + 3);
    insert_comments(&s, &[a.clone(), b.clone(), c.clone(), done]).await;
    let mut tx = begin(&s).await;
    let taken = ok(
        tx.take_pending(&strings(&["c-a", "c-x", "c-d", "c-b", "c-a"]))
            .await,
        "take_pending",
    );
    assert_eq!(
        taken,
        vec![b, a],
        "pending rows among the ids, created time order, no duplicates, unknown and processed left out"
    );
    assert!(ok(tx.take_pending(&[]).await, "take_pending of nothing").is_empty());
    ok(
        tx.mark_inbox(&[
            ("c-a".to_owned(), InboxStatus::Processed, None),
            (
                "c-b".to_owned(),
                InboxStatus::Rejected,
                Some("unknown live".to_owned()),
            ),
            ("c-zz".to_owned(), InboxStatus::Processed, None),
        ])
        .await,
        "mark_inbox (an unknown id is ignored)",
    );
    commit(tx, "mark_inbox").await;
    let a2 = comment_of(&s, "c-a").await;
    assert_eq!(
        (a2.status, a2.detail),
        (InboxStatus::Processed, None),
        "status set"
    );
    let b2 = comment_of(&s, "c-b").await;
    assert_eq!(
        (b2.status, b2.detail.as_deref()),
        (InboxStatus::Rejected, Some("unknown live")),
        "status and detail set"
    );
    assert_eq!(
        b2.text,
        sample_comment("c-b", "b2", T0 + 1).text,
        "other fields untouched"
    );
    assert_eq!(
        ok(s.inbox_comment("c-zz").await, "inbox_comment"),
        None,
        "mark_inbox does not create rows"
    );
    let mut tx = begin(&s).await;
    let again = ok(
        tx.take_pending(&strings(&["c-a", "c-b", "c-c"])).await,
        "take_pending",
    );
    assert_eq!(again, vec![c], "processed comments are not taken again");
    drop(tx);
}

// ---------------------------------------------------------------------------------
// Stock
// ---------------------------------------------------------------------------------

/// `lock_stock` returns the shop's rows of those SKUs sorted by SKU, once each,
/// unknown SKUs absent.
async fn lock_stock_sorted_unknown_absent(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    ok(
        s.import_products(
            SHOP,
            &[
                sample_product("C", None, 3),
                sample_product("A", None, 1),
                sample_product("B", None, 2),
            ],
        )
        .await,
        "import",
    );
    ok(
        s.import_products(OTHER_SHOP, &[sample_product("A", None, 9)])
            .await,
        "import",
    );
    let mut tx = begin(&s).await;
    let rows = ok(
        tx.lock_stock(SHOP, &strings(&["C", "nope", "A", "B", "A"]))
            .await,
        "lock_stock",
    );
    assert_eq!(
        rows,
        vec![
            level(SHOP, "A", 1, 0, 0),
            level(SHOP, "B", 2, 0, 0),
            level(SHOP, "C", 3, 0, 0)
        ],
        "sorted by SKU, unknown absent, no duplicates"
    );
    assert!(ok(tx.lock_stock(SHOP, &[]).await, "lock_stock of nothing").is_empty());
    assert_eq!(
        ok(
            tx.lock_stock(OTHER_SHOP, &strings(&["A", "B"])).await,
            "lock_stock"
        ),
        vec![level(OTHER_SHOP, "A", 9, 0, 0)],
        "per shop"
    );
    assert!(ok(tx.lock_stock("nope", &strings(&["A"])).await, "lock_stock").is_empty());
    drop(tx);
}

/// `put_stock` with any negative column fails with `Invalid` and writes nothing (not
/// even the valid rows of the same call); valid rows are written.
async fn put_stock_negative_is_invalid(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    ok(
        s.import_products(
            SHOP,
            &[sample_product("A", None, 5), sample_product("B", None, 5)],
        )
        .await,
        "import",
    );
    for bad in [
        level(SHOP, "B", -1, 6, 0),
        level(SHOP, "B", 6, -1, 0),
        level(SHOP, "B", 5, 1, -1),
    ] {
        let mut tx = begin(&s).await;
        invalid(
            tx.put_stock(&[level(SHOP, "A", 1, 4, 0), bad.clone()])
                .await,
            &format!("put_stock with {bad:?}"),
        );
        drop(tx);
        assert_eq!(
            stock_of(&s, SHOP, "A").await,
            level(SHOP, "A", 5, 0, 0),
            "nothing written by a failed put_stock"
        );
        assert_eq!(
            stock_of(&s, SHOP, "B").await,
            level(SHOP, "B", 5, 0, 0),
            "nothing written by a failed put_stock"
        );
    }
    write_stock(&s, &[level(SHOP, "A", 2, 2, 1), level(SHOP, "B", 0, 0, 5)]).await;
    assert_eq!(
        stock_of(&s, SHOP, "A").await,
        level(SHOP, "A", 2, 2, 1),
        "put_stock writes absolute values"
    );
    assert_eq!(
        stock_of(&s, SHOP, "B").await,
        level(SHOP, "B", 0, 0, 5),
        "zero is fine"
    );
}

// ---------------------------------------------------------------------------------
// Orders
// ---------------------------------------------------------------------------------

fn full_order() -> Order {
    let mut o = sample_order("o-full", "live-1", "b-full", Currency::MXN, T0 - 5 * MIN);
    o.status = OrderStatus::Paid;
    o.lines.push(OrderLine {
        sku: "CHA-VER-L".to_owned(),
        name: "Chaqueta verde «L»".to_owned(),
        qty: 3,
        unit_price_minor: 129_900,
    });
    o.recompute_total();
    o.hold_expires_at_ms = T0 + 25 * MIN;
    o.updated_at_ms = T0 + 7;
    o.version = 7;
    o.payment = Some(PaymentLinkRecord {
        gateway: "mercadopago".to_owned(),
        url: "https://pay.example/p/123?x=1&y=ñ".to_owned(),
        provider_ref: "pref-123".to_owned(),
        for_version: 6,
    });
    o.paid_ref = Some("pay-987".to_owned());
    o.paid_at_ms = Some(T0 + 9);
    o.note = Some("pagado con tarjeta".to_owned());
    o.reminded = true;
    o
}

/// Orders round-trip every field (lines in position order), and `orders` filters by
/// every field with AND, oldest first (ties by id), `limit` 0 meaning all.
async fn orders_round_trip_and_filters(s: Arc<dyn CommerceStore>) {
    let full = full_order();
    let bare = Order::new(
        "o-bare",
        SHOP,
        "live-1",
        "b-bare",
        Currency::CLP,
        T0,
        T0 + 30 * MIN,
    );
    write_orders(&s, &[full.clone(), bare.clone()]).await;
    assert_eq!(
        ok(s.order("o-full").await, "order"),
        Some(full),
        "order round trip, every field set"
    );
    assert_eq!(
        ok(s.order("o-bare").await, "order"),
        Some(bare),
        "order round trip, optional fields unset, no lines"
    );
    assert_eq!(ok(s.order("nope").await, "order"), None);

    let s2 = make_filter_orders();
    write_orders(&s, &s2).await;
    let get = |f: OrderFilter| {
        let s = Arc::clone(&s);
        async move {
            ok(s.orders(&f).await, "orders")
                .into_iter()
                .map(|o| o.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        get(order_filter(|f| f.live_id = Some("L1".to_owned()))).await,
        ["f-tie-a", "f-tie-b", "f-2"],
        "by live, oldest first, ties by id"
    );
    assert_eq!(
        get(order_filter(|f| f.shop_id = Some(OTHER_SHOP.to_owned()))).await,
        ["f-other"],
        "by shop"
    );
    assert_eq!(
        get(order_filter(|f| f.buyer_id = Some("B1".to_owned()))).await,
        ["f-other", "f-tie-b", "f-3"],
        "by buyer, across shops"
    );
    assert_eq!(
        get(order_filter(|f| {
            f.shop_id = Some(SHOP.to_owned());
            f.buyer_id = Some("B1".to_owned());
        }))
        .await,
        ["f-tie-b", "f-3"],
        "shop AND buyer"
    );
    assert_eq!(
        get(order_filter(|f| {
            f.shop_id = Some(SHOP.to_owned());
            f.status = Some(OrderStatus::Open);
            f.live_id = Some("L1".to_owned());
        }))
        .await,
        ["f-tie-a", "f-tie-b"],
        "shop AND status AND live"
    );
    assert_eq!(
        get(order_filter(|f| f.status = Some(OrderStatus::Expired))).await,
        ["f-3"],
        "by status"
    );
    assert_eq!(
        get(order_filter(|f| f.status = Some(OrderStatus::RefundDue))).await,
        Vec::<String>::new()
    );
    let all = get(OrderFilter::default()).await;
    assert_eq!(all.len(), 7, "no filter, limit 0: every order");
    assert_eq!(
        &all[..3],
        ["o-full", "f-other", "o-bare"],
        "oldest first over every order"
    );
    assert_eq!(
        get(order_filter(|f| f.limit = 2)).await,
        ["o-full", "f-other"],
        "limit"
    );
}

fn make_filter_orders() -> Vec<Order> {
    let mut other = sample_order("f-other", "L9", "B1", Currency::MXN, T0 - MIN);
    other.shop_id = OTHER_SHOP.to_owned();
    let tie_b = sample_order("f-tie-b", "L1", "B1", Currency::CLP, T0 + 1);
    let tie_a = sample_order("f-tie-a", "L1", "B2", Currency::CLP, T0 + 1);
    let mut paid = sample_order("f-2", "L1", "B3", Currency::CLP, T0 + 2);
    paid.status = OrderStatus::Paid;
    let mut expired = sample_order("f-3", "L2", "B1", Currency::CLP, T0 + 3);
    expired.status = OrderStatus::Expired;
    vec![paid, tie_b, expired, other, tie_a]
}

/// An upsert replaces every column and the lines (in the new order); a line with
/// quantity 0 is `Invalid` and writes nothing.
async fn put_orders_replaces_lines(s: Arc<dyn CommerceStore>) {
    let mut o = sample_order("o-1", "live-1", "b1", Currency::CLP, T0);
    o.lines.push(OrderLine {
        sku: "CHA-VER-L".to_owned(),
        name: "Chaqueta".to_owned(),
        qty: 1,
        unit_price_minor: 30_000,
    });
    o.recompute_total();
    write_orders(&s, &[o.clone()]).await;
    assert_eq!(order_of(&s, "o-1").await.lines.len(), 3);
    let mut o2 = o.clone();
    o2.lines = vec![
        OrderLine {
            qty: 5,
            ..o.lines[2].clone()
        },
        o.lines[0].clone(),
    ];
    o2.recompute_total();
    o2.version = 2;
    o2.updated_at_ms = T0 + 10;
    o2.hold_expires_at_ms = T0 + 60 * MIN;
    o2.note = Some("cambio".to_owned());
    write_orders(&s, &[o2.clone()]).await;
    assert_eq!(
        order_of(&s, "o-1").await,
        o2,
        "upsert replaces columns and lines, lines in the given order"
    );
    let mut o3 = o2.clone();
    o3.lines.clear();
    o3.recompute_total();
    o3.status = OrderStatus::Cancelled;
    o3.version = 3;
    write_orders(&s, &[o3.clone()]).await;
    assert_eq!(order_of(&s, "o-1").await, o3, "every line removed");
    let mut zero = sample_order("o-zero", "live-1", "b2", Currency::CLP, T0);
    zero.lines[1].qty = 0;
    let mut tx = begin(&s).await;
    let mut o4 = o3.clone();
    o4.version = 4;
    o4.note = Some("should not stick".to_owned());
    invalid(
        tx.put_orders(&[o4, zero]).await,
        "an order line with quantity 0",
    );
    drop(tx);
    assert_eq!(
        ok(s.order("o-zero").await, "order"),
        None,
        "nothing written"
    );
    assert_eq!(order_of(&s, "o-1").await, o3, "nothing written");
}

/// At most one open order per (live, buyer, currency): a second one is `Conflict` at
/// `put_orders`; another currency, live or buyer is fine, and so is a new open order
/// once the first is paid.
async fn one_open_order_per_live_buyer_currency(s: Arc<dyn CommerceStore>) {
    let mut o1 = sample_order("o-1", "L1", "B1", Currency::CLP, T0);
    write_orders(&s, &[o1.clone()]).await;
    let mut tx = begin(&s).await;
    conflict(
        tx.put_orders(&[sample_order("o-2", "L1", "B1", Currency::CLP, T0 + 1)])
            .await,
        "a second open order for the same live, buyer and currency",
    );
    drop(tx);
    assert_eq!(
        ok(s.order("o-2").await, "order"),
        None,
        "the conflicting order was not written"
    );
    write_orders(
        &s,
        &[
            sample_order("o-usd", "L1", "B1", Currency::USD, T0 + 2),
            sample_order("o-l2", "L2", "B1", Currency::CLP, T0 + 3),
            sample_order("o-b2", "L1", "B2", Currency::CLP, T0 + 4),
        ],
    )
    .await;
    // Updating the open order itself is fine.
    o1.version = 2;
    o1.lines.truncate(1);
    o1.recompute_total();
    write_orders(&s, &[o1.clone()]).await;
    o1.status = OrderStatus::Paid;
    o1.version = 3;
    write_orders(&s, &[o1.clone()]).await;
    write_orders(
        &s,
        &[sample_order("o-3", "L1", "B1", Currency::CLP, T0 + 5)],
    )
    .await;
    assert_eq!(
        order_of(&s, "o-3").await.status,
        OrderStatus::Open,
        "a new open order once the first is paid"
    );
    let mut tx = begin(&s).await;
    conflict(
        tx.put_orders(&[
            sample_order("o-x", "L9", "B9", Currency::CLP, T0),
            sample_order("o-y", "L9", "B9", Currency::CLP, T0),
        ])
        .await,
        "two new open orders for the same key in one call",
    );
    drop(tx);
    assert_eq!(ok(s.order("o-x").await, "order"), None, "nothing written");
    assert_eq!(ok(s.order("o-y").await, "order"), None, "nothing written");
    let open = ok(
        s.orders(&order_filter(|f| f.status = Some(OrderStatus::Open)))
            .await,
        "orders",
    );
    assert_eq!(
        order_ids(&open),
        ["o-usd", "o-l2", "o-b2", "o-3"],
        "open orders"
    );
}

/// `open_orders` returns the open orders (any currency, with lines) of the given
/// (live, buyer) pairs; `lock_orders` returns the given orders in any status.
async fn open_orders_and_lock_orders(s: Arc<dyn CommerceStore>) {
    let a = sample_order("o-a", "L1", "B1", Currency::CLP, T0);
    let b = sample_order("o-b", "L1", "B1", Currency::USD, T0 + 1);
    let c = sample_order("o-c", "L1", "B2", Currency::CLP, T0 + 2);
    let mut d = sample_order("o-d", "L2", "B1", Currency::CLP, T0 + 3);
    d.status = OrderStatus::Paid;
    let mut e = sample_order("o-e", "L3", "B1", Currency::CLP, T0 + 4);
    e.status = OrderStatus::Expired;
    write_orders(&s, &[a.clone(), b.clone(), c.clone(), d.clone(), e.clone()]).await;
    let mut tx = begin(&s).await;
    let keys = [
        ("L1", "B1"),
        ("L2", "B1"),
        ("L9", "B9"),
        ("L1", "B1"),
        ("L3", "B1"),
    ]
    .map(|(l, b)| (l.to_owned(), b.to_owned()));
    let open = sorted_by_id(ok(tx.open_orders(&keys).await, "open_orders"));
    assert_eq!(
        open,
        vec![a.clone(), b.clone()],
        "open orders of the pairs, every currency, with lines, once each"
    );
    assert!(ok(tx.open_orders(&[]).await, "open_orders of nothing").is_empty());
    let locked = sorted_by_id(ok(
        tx.lock_orders(&strings(&["o-d", "o-a", "nope", "o-d", "o-e"]))
            .await,
        "lock_orders",
    ));
    assert_eq!(
        locked,
        vec![a, d, e],
        "lock_orders: any status, with lines, once each, unknown absent"
    );
    assert!(ok(tx.lock_orders(&[]).await, "lock_orders of nothing").is_empty());
    drop(tx);
}

/// `set_payment_link` records the link only while the order is at the link's version.
async fn payment_link_version_check(s: Arc<dyn CommerceStore>) {
    let mut o = sample_order("o-1", "L1", "B1", Currency::CLP, T0);
    o.version = 3;
    write_orders(&s, &[o.clone()]).await;
    let link = |v: i64, url: &str| PaymentLinkRecord {
        gateway: "flow".to_owned(),
        url: url.to_owned(),
        provider_ref: format!("ref-{v}-{url}"),
        for_version: v,
    };
    ok(
        s.set_payment_link("o-1", &link(2, "old")).await,
        "set_payment_link",
    );
    assert_eq!(
        order_of(&s, "o-1").await.payment,
        None,
        "a link for an older version is ignored"
    );
    ok(
        s.set_payment_link("o-1", &link(3, "v3")).await,
        "set_payment_link",
    );
    let got = order_of(&s, "o-1").await;
    assert_eq!(
        got.payment,
        Some(link(3, "v3")),
        "a link for the current version is recorded"
    );
    assert_eq!(
        got.version, 3,
        "recording a link does not change the version"
    );
    o.payment = Some(link(3, "v3"));
    o.version = 4;
    o.lines.truncate(1);
    o.recompute_total();
    write_orders(&s, &[o.clone()]).await;
    ok(
        s.set_payment_link("o-1", &link(3, "late")).await,
        "set_payment_link",
    );
    assert_eq!(
        order_of(&s, "o-1").await.payment,
        Some(link(3, "v3")),
        "a late link for a past version is ignored"
    );
    ok(
        s.set_payment_link("o-1", &link(4, "v4")).await,
        "set_payment_link",
    );
    assert_eq!(order_of(&s, "o-1").await.payment, Some(link(4, "v4")));
    ok(
        s.set_payment_link("nope", &link(1, "x")).await,
        "set_payment_link of an unknown order is a no-op",
    );
}

/// `due_expiries` lists open orders whose hold ended, soonest first; `due_reminders`
/// lists open, not yet reminded orders whose hold ends by `before`, soonest first.
async fn due_expiries_and_reminders(s: Arc<dyn CommerceStore>) {
    let mk = |id: &str, buyer: &str, hold: i64, status: OrderStatus, reminded: bool| {
        let mut o = sample_order(id, "L1", buyer, Currency::CLP, T0 - 60 * MIN);
        o.hold_expires_at_ms = hold;
        o.status = status;
        o.reminded = reminded;
        o
    };
    let e1 = mk("e-1", "B1", T0 - 10, OrderStatus::Open, false);
    let e2 = mk("e-2", "B2", T0, OrderStatus::Open, true);
    let e3 = mk("e-3", "B3", T0 + 10, OrderStatus::Open, false);
    let e4 = mk("e-4", "B4", T0 + 20, OrderStatus::Open, false);
    let paid = mk("p-1", "B5", T0 - 100, OrderStatus::Paid, false);
    let cancelled = mk("c-1", "B6", T0 - 50, OrderStatus::Cancelled, false);
    write_orders(&s, &[e4, paid, e3.clone(), e2, cancelled, e1.clone()]).await;
    assert_eq!(
        ok(s.due_expiries(T0, 10).await, "due_expiries"),
        ["e-1", "e-2"],
        "open orders with hold ≤ now, soonest first"
    );
    assert_eq!(
        ok(s.due_expiries(T0, 1).await, "due_expiries"),
        ["e-1"],
        "limit"
    );
    assert!(
        ok(s.due_expiries(T0 - 11, 10).await, "due_expiries").is_empty(),
        "nothing due yet"
    );
    let due = ok(s.due_reminders(T0 + 15, 10).await, "due_reminders");
    assert_eq!(
        order_ids(&due),
        ["e-1", "e-3"],
        "open, not reminded, hold ≤ before, soonest first"
    );
    assert_eq!(due, vec![e1, e3], "full orders with lines");
    assert_eq!(
        order_ids(&ok(s.due_reminders(T0 + 15, 1).await, "due_reminders")),
        ["e-1"],
        "limit"
    );
    // Expiring one takes it off both lists.
    let mut gone = order_of(&s, "e-1").await;
    gone.status = OrderStatus::Expired;
    write_orders(&s, &[gone]).await;
    assert_eq!(
        ok(s.due_expiries(T0, 10).await, "due_expiries"),
        ["e-2"],
        "an expired order is no longer due"
    );
    assert_eq!(
        order_ids(&ok(s.due_reminders(T0 + 15, 10).await, "due_reminders")),
        ["e-3"]
    );
}

// ---------------------------------------------------------------------------------
// Waitlist and buyers
// ---------------------------------------------------------------------------------

/// Waitlist entries come in queue order (created time, then id), per shop and SKU;
/// `put_waitlist` upserts and `remove_waitlist` removes.
async fn waitlist_queue_order(s: Arc<dyn CommerceStore>) {
    let mut other = sample_wait("w-x", "S1", "B1", T0);
    other.shop_id = OTHER_SHOP.to_owned();
    let entries = [
        sample_wait("w-b", "S1", "B1", T0 + 2),
        sample_wait("w-a", "S1", "B2", T0 + 2),
        sample_wait("w-c", "S1", "B3", T0 + 1),
        sample_wait("w-d", "S2", "B1", T0 + 1),
        sample_wait("w-e", "S2", "B4", T0 + 3),
        other,
    ];
    write_waitlist(&s, &entries).await;
    let mut tx = begin(&s).await;
    assert_eq!(
        wait_ids(&ok(tx.waitlist(SHOP, &strings(&["S1"])).await, "waitlist")),
        ["w-c", "w-a", "w-b"],
        "queue order for one SKU"
    );
    let both = ok(
        tx.waitlist(SHOP, &strings(&["S2", "S1", "nope"])).await,
        "waitlist",
    );
    assert_eq!(
        wait_ids(&both),
        ["w-c", "w-d", "w-a", "w-b", "w-e"],
        "queue order across SKUs"
    );
    assert_eq!(both[0], entries[2], "full entries");
    assert!(ok(tx.waitlist(SHOP, &[]).await, "waitlist of nothing").is_empty());
    assert_eq!(
        wait_ids(&ok(
            tx.waitlist(OTHER_SHOP, &strings(&["S1"])).await,
            "waitlist"
        )),
        ["w-x"],
        "per shop"
    );
    drop(tx);
    let listed = ok(s.waitlist_entries(SHOP).await, "waitlist_entries");
    assert_eq!(
        wait_ids(&listed),
        ["w-c", "w-d", "w-a", "w-b", "w-e"],
        "waitlist_entries: the shop's, queue order"
    );
    assert_eq!(listed[2], entries[1], "round trip");
    let mut a = entries[1].clone();
    a.qty = 1;
    let mut tx = begin(&s).await;
    ok(tx.put_waitlist(&[a.clone()]).await, "put_waitlist update");
    ok(
        tx.remove_waitlist(&strings(&["w-b", "nope"])).await,
        "remove_waitlist",
    );
    commit(tx, "waitlist changes").await;
    let listed = ok(s.waitlist_entries(SHOP).await, "waitlist_entries");
    assert_eq!(
        wait_ids(&listed),
        ["w-c", "w-d", "w-a", "w-e"],
        "w-b removed, w-a kept its place"
    );
    assert_eq!(listed[2], a, "upsert by id");
    assert_eq!(
        ok(s.waitlist_entries(OTHER_SHOP).await, "waitlist_entries").len(),
        1
    );
}

/// Buyers round-trip, are per shop, and upsert by (shop, buyer).
async fn buyers_round_trip(s: Arc<dyn CommerceStore>) {
    let b1 = sample_buyer("B1");
    let mut b2 = Buyer::new(SHOP, "B2", None, T0 + 5);
    b2.opted_out = true;
    b2.anonymized = true;
    let mut b3 = sample_buyer("B1");
    b3.shop_id = OTHER_SHOP.to_owned();
    b3.name = Some("Otra tienda".to_owned());
    write_buyers(&s, &[b1.clone(), b2.clone(), b3.clone()]).await;
    assert_eq!(
        ok(s.buyer(SHOP, "B1").await, "buyer"),
        Some(b1.clone()),
        "round trip"
    );
    assert_eq!(
        ok(s.buyer(SHOP, "B2").await, "buyer"),
        Some(b2.clone()),
        "round trip, flags set, no name"
    );
    assert_eq!(
        ok(s.buyer(OTHER_SHOP, "B1").await, "buyer"),
        Some(b3),
        "per shop"
    );
    assert_eq!(ok(s.buyer(SHOP, "nope").await, "buyer"), None);
    let mut tx = begin(&s).await;
    let mut found = ok(
        tx.buyers(SHOP, &strings(&["B2", "zz", "B1", "B2"])).await,
        "buyers",
    );
    found.sort_by(|a, b| a.buyer_id.cmp(&b.buyer_id));
    assert_eq!(
        found,
        vec![b1.clone(), b2],
        "existing buyers among the ids, once each"
    );
    assert!(ok(tx.buyers(SHOP, &[]).await, "buyers of nothing").is_empty());
    let mut b1b = b1;
    b1b.opted_out = true;
    b1b.name = Some("Ana Pérez".to_owned());
    ok(tx.put_buyers(&[b1b.clone()]).await, "put_buyers update");
    commit(tx, "put_buyers").await;
    assert_eq!(ok(s.buyer(SHOP, "B1").await, "buyer"), Some(b1b), "upsert");
}

// ---------------------------------------------------------------------------------
// Audit and outbox
// ---------------------------------------------------------------------------------

/// Audit rows round-trip, filter with AND, list by time then id; an existing id is
/// `Conflict` and changes nothing.
async fn audit_append_only_and_filters(s: Arc<dyn CommerceStore>) {
    let a1 = sample_audit("a-1", T0 + 2, Some("B1"));
    let mut a2 = sample_audit("a-2", T0 + 1, Some("B2"));
    a2.live_id = Some("live-2".to_owned());
    a2.classifier = None;
    a2.intent = None;
    a2.confidence = None;
    a2.items = None;
    let mut a0 = sample_audit("a-0", T0 + 2, None);
    a0.live_id = None;
    a0.comment_id = None;
    a0.order_id = None;
    a0.action = "expired".to_owned();
    let mut other = sample_audit("a-x", T0, Some("B1"));
    other.shop_id = OTHER_SHOP.to_owned();
    write_audit(&s, &[a1.clone(), a2.clone()]).await;
    write_audit(&s, &[a0.clone(), other.clone()]).await;
    let shop = ok(
        s.audit(&log_filter(|f| f.shop_id = Some(SHOP.to_owned())))
            .await,
        "audit",
    );
    assert_eq!(
        shop,
        vec![a2.clone(), a0.clone(), a1.clone()],
        "round trip (every field), time then id order"
    );
    let ids = |f: LogFilter| {
        let s = Arc::clone(&s);
        async move {
            ok(s.audit(&f).await, "audit")
                .into_iter()
                .map(|a| a.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(LogFilter::default()).await,
        ["a-x", "a-2", "a-0", "a-1"],
        "every row"
    );
    assert_eq!(
        ids(log_filter(|f| f.live_id = Some("live-1".to_owned()))).await,
        ["a-x", "a-1"],
        "by live"
    );
    assert_eq!(
        ids(log_filter(|f| f.comment_id = Some("comment-a-2".to_owned()))).await,
        ["a-2"],
        "by comment"
    );
    assert_eq!(
        ids(log_filter(|f| f.order_id = Some("order-a-1".to_owned()))).await,
        ["a-1"],
        "by order"
    );
    assert_eq!(
        ids(log_filter(|f| {
            f.buyer_id = Some("B1".to_owned());
            f.shop_id = Some(SHOP.to_owned());
        }))
        .await,
        ["a-1"],
        "by buyer AND shop"
    );
    assert_eq!(
        ids(log_filter(|f| f.limit = 2)).await,
        ["a-x", "a-2"],
        "limit"
    );
    let mut tx = begin(&s).await;
    let mut dup = a1.clone();
    dup.detail = "rewritten".to_owned();
    conflict(
        tx.append_audit(&[sample_audit("a-9", T0, None), dup]).await,
        "an audit row with an existing id",
    );
    drop(tx);
    let after = ok(s.audit(&LogFilter::default()).await, "audit");
    assert_eq!(
        audit_ids(&after),
        ["a-x", "a-2", "a-0", "a-1"],
        "nothing appended"
    );
    assert_eq!(after[3], a1, "the existing row is unchanged");
}

/// `enqueue` skips a message whose dedupe key is present (in the store or earlier in
/// the same call), leaving the first one as it was.
async fn enqueue_dedupes(s: Arc<dyn CommerceStore>) {
    let m1 = sample_message("m-1", "B1", "reply:c-1", T0);
    let mut m2 = sample_message("m-2", "B1", "reply:c-1", T0 + 1);
    m2.text = "duplicate".to_owned();
    let m3 = sample_message("m-3", "B1", "dm:c-1", T0 + 2);
    write_outbox(&s, &[m1.clone(), m2, m3.clone()]).await;
    let all = ok(s.outbox(&LogFilter::default()).await, "outbox");
    assert_eq!(
        all,
        vec![m1.clone(), m3.clone()],
        "the duplicate within the call was skipped; round trip"
    );
    let mut m1b = sample_message("m-1b", "B1", "reply:c-1", T0 + 3);
    m1b.text = "again".to_owned();
    write_outbox(&s, &[m1b]).await;
    let all = ok(s.outbox(&LogFilter::default()).await, "outbox");
    assert_eq!(
        all,
        vec![m1, m3],
        "a later duplicate was skipped, the first row unchanged"
    );
    let mut tx = begin(&s).await;
    ok(tx.enqueue(&[]).await, "enqueue of nothing");
    drop(tx);
}

/// `outbox` filters with AND and lists by creation time then id.
async fn outbox_filters_and_order(s: Arc<dyn CommerceStore>) {
    let mut a = sample_message("m-a", "B1", "k-a", T0 + 2);
    a.kind = OutboxKind::PublicReply;
    a.order_id = None;
    let b = sample_message("m-b", "B2", "k-b", T0 + 1);
    let c = sample_message("m-c", "B1", "k-c", T0 + 2);
    let mut d = sample_message("m-d", "B1", "k-d", T0 + 5);
    d.kind = OutboxKind::Message;
    d.live_id = None;
    d.comment_id = None;
    let mut other = sample_message("m-x", "B1", "k-x", T0);
    other.shop_id = OTHER_SHOP.to_owned();
    write_outbox(&s, &[d.clone(), c.clone(), b.clone(), a.clone(), other]).await;
    let ids = |f: LogFilter| {
        let s = Arc::clone(&s);
        async move {
            ok(s.outbox(&f).await, "outbox")
                .into_iter()
                .map(|m| m.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        ids(LogFilter::default()).await,
        ["m-x", "m-b", "m-a", "m-c", "m-d"],
        "created time then id"
    );
    assert_eq!(
        ids(log_filter(|f| f.shop_id = Some(SHOP.to_owned()))).await,
        ["m-b", "m-a", "m-c", "m-d"],
        "by shop"
    );
    assert_eq!(
        ids(log_filter(|f| {
            f.shop_id = Some(SHOP.to_owned());
            f.buyer_id = Some("B1".to_owned());
            f.live_id = Some("live-1".to_owned());
        }))
        .await,
        ["m-a", "m-c"],
        "shop AND buyer AND live"
    );
    assert_eq!(
        ids(log_filter(|f| f.comment_id = Some("comment-m-b".to_owned()))).await,
        ["m-b"],
        "by comment"
    );
    assert_eq!(
        ids(log_filter(|f| f.order_id = Some("order-m-d".to_owned()))).await,
        ["m-d"],
        "by order"
    );
    assert_eq!(
        ids(log_filter(|f| f.limit = 3)).await,
        ["m-x", "m-b", "m-a"],
        "limit"
    );
    let got = ok(
        s.outbox(&log_filter(|f| f.order_id = Some("order-m-d".to_owned())))
            .await,
        "outbox",
    );
    assert_eq!(
        got,
        vec![d],
        "round trip of a message without live or comment"
    );
}

/// `claim_outbox` leases due pending messages (oldest first) to one owner; a leased
/// message is not claimable until its lease has passed (`lease_until < now`).
async fn claim_outbox_leases(s: Arc<dyn CommerceStore>) {
    let m0 = sample_message("m-0", "B1", "k-0", T0 - 40 * SEC);
    let m1 = sample_message("m-1", "B1", "k-1", T0 - 30 * SEC);
    let m2 = sample_message("m-2", "B2", "k-2", T0 - 20 * SEC);
    let mut m3 = sample_message("m-3", "B3", "k-3", T0 - 10 * SEC);
    m3.next_attempt_at_ms = T0 + MIN;
    write_outbox(&s, &[m3.clone(), m2.clone(), m1.clone(), m0]).await;
    ok(
        s.finish_outbox(
            "m-0",
            T0 - 35 * SEC,
            &OutboxUpdate::Sent {
                graph_id: "mid.0".to_owned(),
            },
        )
        .await,
        "finish_outbox",
    );
    let first = ok(s.claim_outbox(T0, "w1", MIN, 1).await, "claim_outbox");
    let mut leased = m1.clone();
    leased.lease_owner = Some("w1".to_owned());
    leased.lease_until_ms = Some(T0 + MIN);
    assert_eq!(
        first,
        vec![leased.clone()],
        "oldest due pending message, with its new lease"
    );
    assert_eq!(message_of(&s, "m-1").await, leased, "the lease is stored");
    let second = ok(s.claim_outbox(T0, "w2", MIN, 10).await, "claim_outbox");
    assert_eq!(
        message_ids(&second),
        ["m-2"],
        "leased, future and sent messages are not claimable"
    );
    assert_eq!(second[0].lease_owner.as_deref(), Some("w2"));
    assert!(
        ok(
            s.claim_outbox(T0 + SEC, "w3", MIN, 10).await,
            "claim_outbox"
        )
        .is_empty(),
        "live leases"
    );
    let third = ok(
        s.claim_outbox(T0 + MIN, "w3", MIN, 10).await,
        "claim_outbox",
    );
    assert_eq!(
        message_ids(&third),
        ["m-3"],
        "next_attempt reached; a lease ending exactly now is still held"
    );
    let fourth = ok(
        s.claim_outbox(T0 + MIN + 1, "w4", MIN, 10).await,
        "claim_outbox",
    );
    assert_eq!(
        message_ids(&fourth),
        ["m-1", "m-2"],
        "expired leases are claimable again, oldest first"
    );
    assert!(
        fourth.iter().all(|m| m.lease_owner.as_deref() == Some("w4")
            && m.lease_until_ms == Some(T0 + 2 * MIN + 1)),
        "new lease: {fourth:?}"
    );
    assert_eq!(
        message_of(&s, "m-3").await.lease_owner.as_deref(),
        Some("w3"),
        "m-3 still leased to w3"
    );
    assert_eq!(
        message_of(&s, "m-0").await.status,
        OutboxStatus::Sent,
        "m-0 untouched"
    );
}

/// `finish_outbox`: every transition, the lease cleared; unknown id `NotFound`.
async fn finish_outbox_transitions(s: Arc<dyn CommerceStore>) {
    let msgs: Vec<OutboxMessage> = ["a", "b", "c", "d"]
        .iter()
        .enumerate()
        .map(|(i, id)| sample_message(id, "B1", &format!("k-{id}"), T0 + i as i64))
        .collect();
    write_outbox(&s, &msgs).await;
    assert_eq!(
        ok(s.claim_outbox(T0 + 10, "w1", MIN, 10).await, "claim_outbox").len(),
        4
    );
    let now = T0 + 20;
    let expect = |i: usize, f: &dyn Fn(&mut OutboxMessage)| {
        let mut m = msgs[i].clone();
        f(&mut m);
        m
    };
    ok(
        s.finish_outbox(
            "a",
            now,
            &OutboxUpdate::Sent {
                graph_id: "m_123".to_owned(),
            },
        )
        .await,
        "finish Sent",
    );
    assert_eq!(
        message_of(&s, "a").await,
        expect(0, &|m| {
            m.status = OutboxStatus::Sent;
            m.attempts = 1;
            m.finished_at_ms = Some(now);
            m.detail = Some("m_123".to_owned());
        }),
        "Sent: status sent, attempts + 1, finished now, detail = graph id, lease cleared"
    );
    ok(
        s.finish_outbox(
            "b",
            now,
            &OutboxUpdate::Suppressed {
                reason: "kill switch".to_owned(),
            },
        )
        .await,
        "finish Suppressed",
    );
    assert_eq!(
        message_of(&s, "b").await,
        expect(1, &|m| {
            m.status = OutboxStatus::Suppressed;
            m.finished_at_ms = Some(now);
            m.detail = Some("kill switch".to_owned());
        }),
        "Suppressed: attempts unchanged, finished now, detail = reason, lease cleared"
    );
    let retry = OutboxUpdate::Failed {
        reason: "HTTP 500".to_owned(),
        retry_at_ms: Some(T0 + MIN),
    };
    ok(
        s.finish_outbox("c", now, &retry).await,
        "finish Failed with retry",
    );
    assert_eq!(
        message_of(&s, "c").await,
        expect(2, &|m| {
            m.attempts = 1;
            m.next_attempt_at_ms = T0 + MIN;
            m.detail = Some("HTTP 500".to_owned());
        }),
        "Failed with retry: still pending, attempts + 1, next attempt set, not finished, lease cleared"
    );
    let give_up = OutboxUpdate::Failed {
        reason: "(#10) permission".to_owned(),
        retry_at_ms: None,
    };
    ok(
        s.finish_outbox("d", now, &give_up).await,
        "finish Failed for good",
    );
    assert_eq!(
        message_of(&s, "d").await,
        expect(3, &|m| {
            m.status = OutboxStatus::Failed;
            m.attempts = 1;
            m.finished_at_ms = Some(now);
            m.detail = Some("(#10) permission".to_owned());
        }),
        "Failed for good: status failed, attempts + 1, finished now"
    );
    not_found(
        s.finish_outbox("nope", now, &retry).await,
        "finish_outbox of an unknown id",
    );
    assert!(
        ok(
            s.claim_outbox(T0 + MIN - 1, "w2", MIN, 10).await,
            "claim_outbox"
        )
        .is_empty(),
        "not before the retry time"
    );
    assert_eq!(
        message_ids(&ok(
            s.claim_outbox(T0 + MIN, "w2", MIN, 10).await,
            "claim_outbox"
        )),
        ["c"],
        "the retried message at its time"
    );
    ok(
        s.finish_outbox("c", T0 + MIN + 5, &retry).await,
        "finish Failed again",
    );
    assert_eq!(
        message_of(&s, "c").await.attempts,
        2,
        "attempts count every failure"
    );
}

/// `suppress_pending` suppresses the buyer's pending messages in that shop only.
async fn suppress_pending_messages(s: Arc<dyn CommerceStore>) {
    let p1 = sample_message("p-1", "B1", "k-1", T0);
    let p2 = sample_message("p-2", "B1", "k-2", T0 + 1);
    let sent = sample_message("s-1", "B1", "k-3", T0 + 2);
    let other_buyer = sample_message("p-3", "B2", "k-4", T0 + 3);
    let mut other_shop = sample_message("p-4", "B1", "k-5", T0 + 4);
    other_shop.shop_id = OTHER_SHOP.to_owned();
    write_outbox(&s, &[p1, p2, sent, other_buyer, other_shop]).await;
    ok(
        s.finish_outbox(
            "s-1",
            T0 + 5,
            &OutboxUpdate::Sent {
                graph_id: "mid.1".to_owned(),
            },
        )
        .await,
        "finish_outbox",
    );
    let mut tx = begin(&s).await;
    assert_eq!(
        ok(
            tx.suppress_pending(SHOP, "B1", "opted out").await,
            "suppress_pending"
        ),
        2,
        "two pending messages of B1 in the shop"
    );
    commit(tx, "suppress_pending").await;
    for id in ["p-1", "p-2"] {
        let m = message_of(&s, id).await;
        assert_eq!(
            (m.status, m.detail.as_deref()),
            (OutboxStatus::Suppressed, Some("opted out")),
            "{id} suppressed with the reason"
        );
    }
    let sent = message_of(&s, "s-1").await;
    assert_eq!(
        (sent.status, sent.detail.as_deref()),
        (OutboxStatus::Sent, Some("mid.1")),
        "a sent message is untouched"
    );
    assert_eq!(
        message_of(&s, "p-3").await.status,
        OutboxStatus::Pending,
        "another buyer's message is untouched"
    );
    assert_eq!(
        message_of(&s, "p-4").await.status,
        OutboxStatus::Pending,
        "another shop's message is untouched"
    );
    let claimed = ok(
        s.claim_outbox(T0 + MIN, "w1", MIN, 10).await,
        "claim_outbox",
    );
    assert_eq!(
        message_ids(&claimed),
        ["p-3", "p-4"],
        "suppressed messages are not claimable"
    );
    let mut tx = begin(&s).await;
    assert_eq!(
        ok(
            tx.suppress_pending(SHOP, "B1", "again").await,
            "suppress_pending"
        ),
        0,
        "nothing left to suppress"
    );
    drop(tx);
}

// ---------------------------------------------------------------------------------
// Data deletion and counts
// ---------------------------------------------------------------------------------

/// `anonymize_buyer` replaces the buyer id everywhere in the shop, blanks names and
/// texts, suppresses pending messages, and keeps amounts and statuses.
async fn anonymize_buyer_everywhere(s: Arc<dyn CommerceStore>) {
    const OLD: &str = "B-ana";
    const NEW: &str = "anon-1";
    let mut ana = sample_buyer(OLD);
    ana.opted_out = true;
    let bob = sample_buyer("B-bob");
    let mut ana_other_shop = sample_buyer(OLD);
    ana_other_shop.shop_id = OTHER_SHOP.to_owned();
    write_buyers(&s, &[ana.clone(), bob.clone(), ana_other_shop.clone()]).await;
    let c1 = sample_comment("c-1", OLD, T0);
    let c2 = sample_comment("c-2", "B-bob", T0 + 1);
    let mut c3 = sample_comment("c-3", OLD, T0 + 2);
    c3.shop_id = OTHER_SHOP.to_owned();
    insert_comments(&s, &[c1.clone(), c2.clone(), c3.clone()]).await;
    let o1 = sample_order("o-1", "live-1", OLD, Currency::CLP, T0);
    let mut o2 = sample_order("o-2", "live-0", OLD, Currency::CLP, T0 - MIN);
    o2.status = OrderStatus::Paid;
    o2.paid_ref = Some("pay-1".to_owned());
    let o3 = sample_order("o-3", "live-1", "B-bob", Currency::CLP, T0);
    write_orders(&s, &[o1.clone(), o2.clone(), o3.clone()]).await;
    let w1 = sample_wait("w-1", "POL-ROJ-M", OLD, T0);
    let w2 = sample_wait("w-2", "POL-ROJ-M", "B-bob", T0 + 1);
    write_waitlist(&s, &[w1.clone(), w2.clone()]).await;
    let m1 = sample_message("m-1", OLD, "k-1", T0);
    let m2 = sample_message("m-2", OLD, "k-2", T0 + 1);
    let m3 = sample_message("m-3", "B-bob", "k-3", T0 + 2);
    let mut m4 = sample_message("m-4", OLD, "k-4", T0 + 3);
    m4.shop_id = OTHER_SHOP.to_owned();
    write_outbox(&s, &[m1.clone(), m2.clone(), m3.clone(), m4.clone()]).await;
    ok(
        s.finish_outbox(
            "m-2",
            T0 + 5,
            &OutboxUpdate::Sent {
                graph_id: "mid.2".to_owned(),
            },
        )
        .await,
        "finish_outbox",
    );
    let m2 = message_of(&s, "m-2").await;
    let a1 = sample_audit("a-1", T0, Some(OLD));
    let a2 = sample_audit("a-2", T0 + 1, Some("B-bob"));
    let a3 = sample_audit("a-3", T0 + 2, None);
    let mut a4 = sample_audit("a-4", T0 + 3, Some(OLD));
    a4.shop_id = OTHER_SHOP.to_owned();
    write_audit(&s, &[a1.clone(), a2.clone(), a3.clone(), a4.clone()]).await;

    let mut tx = begin(&s).await;
    ok(tx.anonymize_buyer(SHOP, OLD, NEW).await, "anonymize_buyer");
    commit(tx, "anonymize_buyer").await;

    // Buyer.
    assert_eq!(
        ok(s.buyer(SHOP, OLD).await, "buyer"),
        None,
        "no buyer row under the old id"
    );
    let mut want = ana;
    want.buyer_id = NEW.to_owned();
    want.name = None;
    want.anonymized = true;
    assert_eq!(
        ok(s.buyer(SHOP, NEW).await, "buyer"),
        Some(want),
        "buyer: new id, no name, anonymized, rest kept"
    );
    assert_eq!(
        ok(s.buyer(SHOP, "B-bob").await, "buyer"),
        Some(bob),
        "another buyer untouched"
    );
    assert_eq!(
        ok(s.buyer(OTHER_SHOP, OLD).await, "buyer"),
        Some(ana_other_shop),
        "another shop untouched"
    );
    // Orders: only the buyer id changes.
    let in_shop = |f: &mut OrderFilter| f.shop_id = Some(SHOP.to_owned());
    let orders = ok(s.orders(&order_filter(in_shop)).await, "orders");
    assert!(
        orders.iter().all(|o| o.buyer_id != OLD),
        "no order of the shop keeps the old buyer id: {orders:?}"
    );
    let with_new = |mut o: Order| {
        o.buyer_id = NEW.to_owned();
        o
    };
    assert_eq!(
        order_of(&s, "o-1").await,
        with_new(o1),
        "open order: amounts, lines and status kept"
    );
    assert_eq!(
        order_of(&s, "o-2").await,
        with_new(o2),
        "paid order: amounts, lines and status kept"
    );
    assert_eq!(
        order_of(&s, "o-3").await,
        o3,
        "another buyer's order untouched"
    );
    let mut tx = begin(&s).await;
    let open_new = ok(
        tx.open_orders(&[("live-1".to_owned(), NEW.to_owned())])
            .await,
        "open_orders",
    );
    assert_eq!(
        order_ids(&open_new),
        ["o-1"],
        "the open order is found under the new id"
    );
    assert!(
        ok(
            tx.open_orders(&[("live-1".to_owned(), OLD.to_owned())])
                .await,
            "open_orders"
        )
        .is_empty(),
        "and not under the old one"
    );
    drop(tx);
    // Waitlist.
    let waits = ok(s.waitlist_entries(SHOP).await, "waitlist_entries");
    let mut w1b = w1;
    w1b.buyer_id = NEW.to_owned();
    assert_eq!(
        waits,
        vec![w1b, w2],
        "waitlist: buyer id replaced, queue kept"
    );
    // Inbox.
    let mut c1b = c1;
    c1b.buyer_id = NEW.to_owned();
    c1b.buyer_name = None;
    c1b.text = "[deleted]".to_owned();
    assert_eq!(
        comment_of(&s, "c-1").await,
        c1b,
        "inbox: new id, no name, text [deleted], rest kept"
    );
    assert_eq!(
        comment_of(&s, "c-2").await,
        c2,
        "another buyer's comment untouched"
    );
    assert_eq!(
        comment_of(&s, "c-3").await,
        c3,
        "another shop's comment untouched"
    );
    // Outbox.
    let got = message_of(&s, "m-1").await;
    assert_eq!(
        (
            got.buyer_id.as_str(),
            got.text.as_str(),
            got.status,
            got.detail.as_deref()
        ),
        (
            NEW,
            "[deleted]",
            OutboxStatus::Suppressed,
            Some("data deleted")
        ),
        "a pending message: new id, text [deleted], suppressed with 'data deleted'"
    );
    assert!(
        got.finished_at_ms.is_some(),
        "a suppressed message is finished"
    );
    let mut m2b = m2;
    m2b.buyer_id = NEW.to_owned();
    m2b.text = "[deleted]".to_owned();
    assert_eq!(
        message_of(&s, "m-2").await,
        m2b,
        "a sent message: new id and text [deleted], status and detail kept"
    );
    assert_eq!(
        message_of(&s, "m-3").await,
        m3,
        "another buyer's message untouched"
    );
    assert_eq!(
        message_of(&s, "m-4").await,
        m4,
        "another shop's message untouched"
    );
    let old_msgs = ok(
        s.outbox(&log_filter(|f| f.buyer_id = Some(OLD.to_owned())))
            .await,
        "outbox",
    );
    assert_eq!(
        message_ids(&old_msgs),
        ["m-4"],
        "only the other shop's message keeps the old id"
    );
    // Audit: buyer id only.
    let audit = ok(s.audit(&LogFilter::default()).await, "audit");
    let mut a1b = a1;
    a1b.buyer_id = Some(NEW.to_owned());
    assert_eq!(
        audit,
        vec![a1b, a2, a3, a4],
        "audit: buyer id replaced in the shop, every other field kept"
    );
    // Nothing left under the old id in the shop.
    let old_in_shop = |f: &mut LogFilter| {
        f.shop_id = Some(SHOP.to_owned());
        f.buyer_id = Some(OLD.to_owned());
    };
    assert!(
        ok(s.audit(&log_filter(old_in_shop)).await, "audit").is_empty(),
        "no audit row under the old id"
    );
    assert!(
        ok(s.outbox(&log_filter(old_in_shop)).await, "outbox").is_empty(),
        "no message under the old id"
    );
    let old_orders = ok(
        s.orders(&order_filter(|f| {
            f.shop_id = Some(SHOP.to_owned());
            f.buyer_id = Some(OLD.to_owned());
        }))
        .await,
        "orders",
    );
    assert!(old_orders.is_empty(), "no order under the old id");
    assert!(
        ok(s.claim_outbox(T0 + MIN, "w", MIN, 10).await, "claim_outbox")
            .iter()
            .all(|m| m.id != "m-1"),
        "the suppressed message is not claimable"
    );
}

/// `counts` lists the statuses present per table, the waitlist and the audit count.
async fn counts_by_status(s: Arc<dyn CommerceStore>) {
    let empty = ok(s.counts(SHOP).await, "counts");
    assert_eq!(
        empty,
        CommerceCounts::default(),
        "an empty shop counts nothing"
    );
    let mut done = sample_comment("c-3", "B1", T0 + 3);
    done.status = InboxStatus::Processed;
    let mut elsewhere = sample_comment("c-x", "B1", T0);
    elsewhere.shop_id = OTHER_SHOP.to_owned();
    insert_comments(
        &s,
        &[
            sample_comment("c-1", "B1", T0),
            sample_comment("c-2", "B2", T0 + 1),
            done,
            elsewhere,
        ],
    )
    .await;
    let mut paid = sample_order("o-3", "L1", "B3", Currency::CLP, T0);
    paid.status = OrderStatus::Paid;
    write_orders(
        &s,
        &[
            sample_order("o-1", "L1", "B1", Currency::CLP, T0),
            sample_order("o-2", "L1", "B2", Currency::CLP, T0),
            paid,
        ],
    )
    .await;
    write_outbox(
        &s,
        &[
            sample_message("m-1", "B1", "k-1", T0),
            sample_message("m-2", "B1", "k-2", T0),
        ],
    )
    .await;
    ok(
        s.finish_outbox(
            "m-2",
            T0,
            &OutboxUpdate::Sent {
                graph_id: "g".to_owned(),
            },
        )
        .await,
        "finish_outbox",
    );
    write_waitlist(
        &s,
        &[
            sample_wait("w-1", "S1", "B1", T0),
            sample_wait("w-2", "S1", "B2", T0),
        ],
    )
    .await;
    let mut other_audit = sample_audit("a-x", T0, None);
    other_audit.shop_id = OTHER_SHOP.to_owned();
    write_audit(
        &s,
        &[
            sample_audit("a-1", T0, None),
            sample_audit("a-2", T0, None),
            sample_audit("a-3", T0, None),
            other_audit,
        ],
    )
    .await;
    let c = ok(s.counts(SHOP).await, "counts");
    let sorted = |mut v: Vec<(String, u64)>| {
        v.sort();
        v
    };
    let pairs = |v: &[(&str, u64)]| {
        v.iter()
            .map(|(k, n)| ((*k).to_owned(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        sorted(c.inbox.clone()),
        pairs(&[("pending", 2), ("processed", 1)]),
        "inbox counts (statuses present only)"
    );
    assert_eq!(
        sorted(c.orders.clone()),
        pairs(&[("open", 2), ("paid", 1)]),
        "order counts"
    );
    assert_eq!(
        sorted(c.outbox.clone()),
        pairs(&[("pending", 1), ("sent", 1)]),
        "outbox counts"
    );
    assert_eq!(CommerceCounts::get(&c.orders, "open"), 2);
    assert_eq!(CommerceCounts::get(&c.outbox, "failed"), 0);
    assert_eq!((c.waitlist, c.audit), (2, 3), "waitlist and audit counts");
    let o = ok(s.counts(OTHER_SHOP).await, "counts");
    assert_eq!(
        (sorted(o.inbox), o.orders.len(), o.audit),
        (pairs(&[("pending", 1)]), 0, 1),
        "per shop"
    );
}

// ---------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------

/// Inside a transaction, reads see the transaction's own writes.
async fn reads_inside_a_transaction_see_its_writes(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    ok(
        s.import_products(SHOP, &[sample_product("A", None, 5)])
            .await,
        "import",
    );
    insert_comments(
        &s,
        &[
            sample_comment("c-1", "B1", T0),
            sample_comment("c-2", "B1", T0 + 1),
        ],
    )
    .await;
    let mut tx = begin(&s).await;
    ok(
        tx.put_stock(&[level(SHOP, "A", 4, 1, 0)]).await,
        "put_stock",
    );
    assert_eq!(
        ok(tx.lock_stock(SHOP, &strings(&["A"])).await, "lock_stock"),
        vec![level(SHOP, "A", 4, 1, 0)],
        "lock_stock sees put_stock"
    );
    let o = sample_order("o-1", "L1", "B1", Currency::CLP, T0);
    ok(tx.put_orders(std::slice::from_ref(&o)).await, "put_orders");
    assert_eq!(
        ok(
            tx.open_orders(&[("L1".to_owned(), "B1".to_owned())]).await,
            "open_orders"
        ),
        vec![o.clone()],
        "open_orders sees put_orders"
    );
    assert_eq!(
        ok(tx.lock_orders(&strings(&["o-1"])).await, "lock_orders"),
        vec![o],
        "lock_orders sees put_orders"
    );
    let w = sample_wait("w-1", "A", "B2", T0);
    ok(
        tx.put_waitlist(std::slice::from_ref(&w)).await,
        "put_waitlist",
    );
    assert_eq!(
        ok(tx.waitlist(SHOP, &strings(&["A"])).await, "waitlist"),
        vec![w],
        "waitlist sees put_waitlist"
    );
    ok(
        tx.remove_waitlist(&strings(&["w-1"])).await,
        "remove_waitlist",
    );
    assert!(
        ok(tx.waitlist(SHOP, &strings(&["A"])).await, "waitlist").is_empty(),
        "waitlist sees remove_waitlist"
    );
    let b = sample_buyer("B1");
    ok(tx.put_buyers(std::slice::from_ref(&b)).await, "put_buyers");
    assert_eq!(
        ok(tx.buyers(SHOP, &strings(&["B1"])).await, "buyers"),
        vec![b],
        "buyers sees put_buyers"
    );
    ok(
        tx.mark_inbox(&[("c-1".to_owned(), InboxStatus::Processed, None)])
            .await,
        "mark_inbox",
    );
    assert_eq!(
        comment_ids(&ok(
            tx.take_pending(&strings(&["c-1", "c-2"])).await,
            "take_pending"
        )),
        ["c-2"],
        "take_pending sees mark_inbox"
    );
    ok(
        tx.enqueue(&[sample_message("m-1", "B1", "k-1", T0)]).await,
        "enqueue",
    );
    assert_eq!(
        ok(
            tx.suppress_pending(SHOP, "B1", "stop").await,
            "suppress_pending"
        ),
        1,
        "suppress_pending sees enqueue"
    );
    commit(tx, "reads inside a transaction").await;
    assert_eq!(
        stock_of(&s, SHOP, "A").await,
        level(SHOP, "A", 4, 1, 0),
        "committed"
    );
    assert_eq!(
        message_of(&s, "m-1").await.status,
        OutboxStatus::Suppressed,
        "committed"
    );
}

/// Dropping a transaction without committing undoes every write of every kind, and
/// the store stays usable (also after a failed call).
async fn drop_rolls_back(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    ok(
        s.import_products(
            SHOP,
            &[sample_product("A", None, 5), sample_product("B", None, 5)],
        )
        .await,
        "import",
    );
    insert_comments(
        &s,
        &[
            sample_comment("c-1", "B1", T0),
            sample_comment("c-2", "B2", T0 + 1),
        ],
    )
    .await;
    write_orders(&s, &[sample_order("o-1", "L1", "B1", Currency::CLP, T0)]).await;
    write_waitlist(&s, &[sample_wait("w-1", "A", "B1", T0)]).await;
    write_buyers(&s, &[sample_buyer("B1")]).await;
    write_audit(&s, &[sample_audit("a-1", T0, Some("B1"))]).await;
    write_outbox(
        &s,
        &[
            sample_message("m-1", "B1", "k-1", T0),
            sample_message("m-2", "B2", "k-2", T0),
        ],
    )
    .await;

    #[derive(Debug, PartialEq)]
    struct Snapshot {
        products: Vec<crate::store::ProductRecord>,
        comments: Vec<Option<InboxComment>>,
        pending: Vec<InboxComment>,
        orders: Vec<Order>,
        waitlist: Vec<WaitEntry>,
        buyers: Vec<Option<Buyer>>,
        audit: Vec<AuditRecord>,
        outbox: Vec<OutboxMessage>,
        counts: CommerceCounts,
    }
    async fn snapshot(s: &Arc<dyn CommerceStore>) -> Snapshot {
        Snapshot {
            products: ok(s.products(SHOP).await, "products"),
            comments: vec![
                ok(s.inbox_comment("c-1").await, "inbox"),
                ok(s.inbox_comment("c-2").await, "inbox"),
                ok(s.inbox_comment("c-9").await, "inbox"),
            ],
            pending: ok(s.pending_inbox(100).await, "pending_inbox"),
            orders: ok(s.orders(&OrderFilter::default()).await, "orders"),
            waitlist: ok(s.waitlist_entries(SHOP).await, "waitlist_entries"),
            buyers: vec![
                ok(s.buyer(SHOP, "B1").await, "buyer"),
                ok(s.buyer(SHOP, "B2").await, "buyer"),
                ok(s.buyer(SHOP, "anon").await, "buyer"),
            ],
            audit: ok(s.audit(&LogFilter::default()).await, "audit"),
            outbox: ok(s.outbox(&LogFilter::default()).await, "outbox"),
            counts: ok(s.counts(SHOP).await, "counts"),
        }
    }
    let before = snapshot(&s).await;

    let mut tx = begin(&s).await;
    assert_eq!(
        ok(
            tx.take_pending(&strings(&["c-1", "c-2"])).await,
            "take_pending"
        )
        .len(),
        2
    );
    ok(
        tx.mark_inbox(&[(
            "c-1".to_owned(),
            InboxStatus::Processed,
            Some("x".to_owned()),
        )])
        .await,
        "mark_inbox",
    );
    ok(
        tx.lock_stock(SHOP, &strings(&["A", "B"])).await,
        "lock_stock",
    );
    ok(
        tx.put_stock(&[level(SHOP, "A", 0, 4, 1), level(SHOP, "B", 1, 4, 0)])
            .await,
        "put_stock",
    );
    let mut o1 = order_of_tx(&mut tx, "o-1").await;
    o1.status = OrderStatus::Paid;
    o1.version += 1;
    o1.lines.truncate(1);
    ok(
        tx.put_orders(&[o1, sample_order("o-2", "L1", "B2", Currency::CLP, T0)])
            .await,
        "put_orders",
    );
    ok(
        tx.put_waitlist(&[sample_wait("w-2", "B", "B2", T0)]).await,
        "put_waitlist",
    );
    ok(
        tx.remove_waitlist(&strings(&["w-1"])).await,
        "remove_waitlist",
    );
    let mut b1 = sample_buyer("B1");
    b1.opted_out = true;
    ok(tx.put_buyers(&[b1, sample_buyer("B2")]).await, "put_buyers");
    ok(
        tx.append_audit(&[sample_audit("a-2", T0, Some("B2"))])
            .await,
        "append_audit",
    );
    ok(
        tx.enqueue(&[sample_message("m-3", "B2", "k-3", T0)]).await,
        "enqueue",
    );
    assert_eq!(
        ok(
            tx.suppress_pending(SHOP, "B2", "stop").await,
            "suppress_pending"
        ),
        2
    );
    ok(
        tx.anonymize_buyer(SHOP, "B1", "anon").await,
        "anonymize_buyer",
    );
    drop(tx);
    assert_eq!(
        snapshot(&s).await,
        before,
        "every write of a dropped transaction is undone"
    );

    // A failed call, then a drop.
    let mut tx = begin(&s).await;
    ok(
        tx.put_stock(&[level(SHOP, "A", 4, 1, 0)]).await,
        "put_stock",
    );
    invalid(
        tx.put_stock(&[level(SHOP, "B", -1, 0, 0)]).await,
        "negative stock",
    );
    drop(tx);
    assert_eq!(
        snapshot(&s).await,
        before,
        "a transaction dropped after a failed call leaves nothing"
    );
    // The store is usable afterwards.
    write_stock(&s, &[level(SHOP, "A", 3, 2, 0)]).await;
    assert_eq!(
        stock_of(&s, SHOP, "A").await,
        level(SHOP, "A", 3, 2, 0),
        "a later transaction commits"
    );
}

async fn order_of_tx(tx: &mut Box<dyn CommerceTx>, id: &str) -> Order {
    let mut v = ok(tx.lock_orders(&[id.to_owned()]).await, "lock_orders");
    match v.pop() {
        Some(o) => o,
        None => panic!("conformance: order {id} is missing"),
    }
}

// ---------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------

/// One reservation: lock the row, take a unit if any, commit. `Ok(true)` when a unit
/// was taken; `Conflict` is the caller's to retry.
async fn reserve_one(s: &Arc<dyn CommerceStore>) -> Result<bool, StoreError> {
    let mut tx = s.begin().await?;
    let rows = tx.lock_stock(SHOP, &["A".to_owned()]).await?;
    let Some(row) = rows.into_iter().next() else {
        panic!("conformance: lock_stock lost the row");
    };
    if row.available == 0 {
        return Ok(false);
    }
    let taken = StockLevel {
        available: row.available - 1,
        reserved: row.reserved + 1,
        ..row
    };
    tx.put_stock(&[taken]).await?;
    tx.commit().await?;
    Ok(true)
}

/// 64 tasks reserve one unit each of a SKU with 5 units, through
/// begin / lock_stock / put_stock / commit: exactly 5 succeed.
async fn concurrent_reservations(s: Arc<dyn CommerceStore>) {
    put_shops(&s).await;
    ok(
        s.import_products(SHOP, &[sample_product("A", None, 5)])
            .await,
        "import",
    );
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                for _ in 0..100 {
                    match reserve_one(&s).await {
                        Ok(got) => return got,
                        // The engine retries the whole transaction on a conflict.
                        Err(StoreError::Conflict(_)) => tokio::task::yield_now().await,
                        Err(e) => panic!("conformance: concurrent reservation failed: {e:?}"),
                    }
                }
                panic!("conformance: a reservation kept conflicting")
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        if ok(t.await, "reservation task") {
            won += 1;
        }
    }
    assert_eq!(won, 5, "exactly as many reservations as units");
    assert_eq!(
        stock_of(&s, SHOP, "A").await,
        level(SHOP, "A", 0, 5, 0),
        "every unit reserved once, never negative"
    );
}

/// 8 concurrent claimers drain 200 messages; no message is handed to two of them.
async fn concurrent_claims(s: Arc<dyn CommerceStore>) {
    let msgs: Vec<OutboxMessage> = (0..200)
        .map(|i| sample_message(&format!("m-{i:03}"), "B1", &format!("k-{i}"), T0 + i))
        .collect();
    write_outbox(&s, &msgs).await;
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let owner = format!("worker-{w}");
                let mut got = Vec::new();
                loop {
                    let batch = ok(
                        s.claim_outbox(T0 + 1_000, &owner, 5 * MIN, 7).await,
                        "claim_outbox",
                    );
                    if batch.is_empty() {
                        return got;
                    }
                    for m in batch {
                        assert_eq!(
                            m.lease_owner.as_deref(),
                            Some(owner.as_str()),
                            "claimed rows carry the claimer's lease"
                        );
                        got.push(m.id);
                    }
                }
            })
        })
        .collect();
    let mut seen = BTreeSet::new();
    let mut total = 0;
    for t in tasks {
        for id in ok(t.await, "claim task") {
            total += 1;
            assert!(
                seen.insert(id.clone()),
                "conformance: message {id} was claimed twice"
            );
        }
    }
    assert_eq!(
        (total, seen.len()),
        (200, 200),
        "every message claimed exactly once"
    );
}

/// 8 concurrent transactions take and process the same 100 pending comments: each
/// comment is taken by exactly one of them.
async fn concurrent_take_pending(s: Arc<dyn CommerceStore>) {
    let rows: Vec<InboxComment> = (0..100)
        .map(|i| sample_comment(&format!("c-{i:03}"), "B1", T0 + i))
        .collect();
    insert_comments(&s, &rows).await;
    let ids: Arc<Vec<String>> = Arc::new(rows.iter().map(|c| c.comment_id.clone()).collect());
    let tasks: Vec<_> = (0..8)
        .map(|w| {
            let s = Arc::clone(&s);
            let ids = Arc::clone(&ids);
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut tx = ok(s.begin().await, "begin");
                let taken = ok(tx.take_pending(&ids).await, "take_pending");
                let marks: Vec<(String, InboxStatus, Option<String>)> = taken
                    .iter()
                    .map(|c| {
                        (
                            c.comment_id.clone(),
                            InboxStatus::Processed,
                            Some(worker.clone()),
                        )
                    })
                    .collect();
                ok(tx.mark_inbox(&marks).await, "mark_inbox");
                ok(tx.commit().await, "commit");
                (
                    worker,
                    taken.into_iter().map(|c| c.comment_id).collect::<Vec<_>>(),
                )
            })
        })
        .collect();
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for t in tasks {
        let (worker, taken) = ok(t.await, "take task");
        for id in taken {
            if let Some(prev) = owner.insert(id.clone(), worker.clone()) {
                panic!("conformance: comment {id} was taken by {prev} and {worker}");
            }
        }
    }
    assert_eq!(owner.len(), 100, "every pending comment taken once");
    for (id, worker) in &owner {
        let c = comment_of(&s, id).await;
        assert_eq!(
            (c.status, c.detail.as_deref()),
            (InboxStatus::Processed, Some(worker.as_str())),
            "{id} processed by its taker"
        );
    }
    assert!(
        ok(s.pending_inbox(10).await, "pending_inbox").is_empty(),
        "nothing left pending"
    );
}
