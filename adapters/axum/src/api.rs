//! The JSON API: read what is stored (products with stock, lives, orders, counts),
//! flip the kill switches, confirm bank transfers, and the health check.
//!
//! Reads go straight to the store port; controls go through the engine so its caches
//! and audit stay right.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use meta_commerce::engine::{EngineError, PaymentOutcome};
use meta_commerce::store::{CommerceCounts, Live, Order, OrderFilter, OrderStatus, ProductRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;
use crate::webhooks::body_error;

/// Orders listed when `?limit=` is absent.
const DEFAULT_ORDER_LIMIT: usize = 1000;

/// Refuses `/api/*` requests without the configured bearer token.
pub(crate) async fn require_api_token(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if state.api_token_matches(presented) {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "missing or wrong API token",
        )
        .into_response()
    }
}

/// `GET /health`: `200 {"status":"ok"}` when the store answers, `503` otherwise.
pub(crate) async fn health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    // A point lookup of a shop that never exists: one round trip, no rows read.
    state.engine.store().shop("\u{0}health").await?;
    Ok(Json(json!({"status": "ok"})))
}

/// `GET /api/shops/{shop}/products`: the catalog with stock, lot order then SKU.
pub(crate) async fn products(
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<Vec<ProductRecord>>, ApiError> {
    require_shop(&state, &shop).await?;
    Ok(Json(state.engine.store().products(&shop).await?))
}

/// `GET /api/shops/{shop}/lives`: newest first.
pub(crate) async fn lives(
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<Vec<Live>>, ApiError> {
    require_shop(&state, &shop).await?;
    Ok(Json(state.engine.store().lives(&shop).await?))
}

/// Query of `GET /api/lives/{live}/orders`.
#[derive(Debug, Deserialize)]
pub(crate) struct OrdersQuery {
    /// `open`, `paid`, `expired`, `cancelled` or `refund_due`.
    status: Option<String>,
    /// At most this many (default 1000; 0 = all).
    limit: Option<usize>,
}

/// `GET /api/lives/{live}/orders?status=&limit=`: oldest first.
// `OrderFilter` is `#[non_exhaustive]`: it has no struct literal outside its crate.
#[allow(clippy::field_reassign_with_default)]
pub(crate) async fn live_orders(
    State(state): State<AppState>,
    Path(live): Path<String>,
    query: Result<Query<OrdersQuery>, QueryRejection>,
) -> Result<Json<Vec<Order>>, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = query
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(OrderStatus::parse)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if state.engine.store().live(&live).await?.is_none() {
        return Err(ApiError::from(EngineError::UnknownLive(live)));
    }
    let mut filter = OrderFilter::default();
    filter.live_id = Some(live);
    filter.status = status;
    filter.limit = query.limit.unwrap_or(DEFAULT_ORDER_LIMIT);
    Ok(Json(state.engine.store().orders(&filter).await?))
}

/// `GET /api/orders/{id}`.
pub(crate) async fn order(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Order>, ApiError> {
    match state.engine.store().order(&id).await? {
        Some(order) => Ok(Json(order)),
        None => Err(ApiError::from(EngineError::UnknownOrder(id))),
    }
}

/// Row counts with each list as an object: `{"inbox": {"pending": 3}, …}`.
#[derive(Debug, Serialize)]
pub(crate) struct CountsBody {
    shop_id: String,
    inbox: BTreeMap<String, u64>,
    orders: BTreeMap<String, u64>,
    outbox: BTreeMap<String, u64>,
    waitlist: u64,
    audit: u64,
}

/// `GET /api/shops/{shop}/counts`.
pub(crate) async fn counts(
    State(state): State<AppState>,
    Path(shop): Path<String>,
) -> Result<Json<CountsBody>, ApiError> {
    require_shop(&state, &shop).await?;
    let CommerceCounts {
        inbox,
        orders,
        outbox,
        waitlist,
        audit,
    } = state.engine.store().counts(&shop).await?;
    Ok(Json(CountsBody {
        shop_id: shop,
        inbox: inbox.into_iter().collect(),
        orders: orders.into_iter().collect(),
        outbox: outbox.into_iter().collect(),
        waitlist,
        audit,
    }))
}

/// Body of the kill-switch routes.
#[derive(Debug, Deserialize)]
pub(crate) struct KillSwitch {
    /// `true` stops every outbound message.
    on: bool,
}

/// `POST /api/shops/{shop}/kill-switch` with `{"on": bool}`.
pub(crate) async fn shop_kill_switch(
    State(state): State<AppState>,
    Path(shop): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let KillSwitch { on } = read_json(body, state.body_limit)?;
    state.engine.set_shop_kill_switch(&shop, on).await?;
    tracing::warn!(shop = %shop, on, "shop kill switch set");
    Ok(Json(json!({"shop_id": shop, "kill_switch": on})))
}

/// `POST /api/lives/{live}/kill-switch` with `{"on": bool}`.
pub(crate) async fn live_kill_switch(
    State(state): State<AppState>,
    Path(live): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Value>, ApiError> {
    let KillSwitch { on } = read_json(body, state.body_limit)?;
    state.engine.set_live_kill_switch(&live, on).await?;
    tracing::warn!(live = %live, on, "live kill switch set");
    Ok(Json(json!({"live_id": live, "kill_switch": on})))
}

/// `POST /api/orders/{id}/confirm-transfer`: the seller saw the bank transfer arrive.
pub(crate) async fn confirm_transfer(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PaymentOutcome>, ApiError> {
    let outcome = state.engine.confirm_transfer(&id).await?;
    tracing::info!(order = %id, outcome = ?outcome, "bank transfer confirmed");
    Ok(Json(outcome))
}

/// Any other path: a JSON `404`.
pub(crate) async fn fallback() -> ApiError {
    ApiError::not_found("no_route", "no such route")
}

async fn require_shop(state: &AppState, shop: &str) -> Result<(), ApiError> {
    match state.engine.store().shop(shop).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(ApiError::from(EngineError::UnknownShop(shop.to_owned()))),
        Err(e) => Err(ApiError::from(e)),
    }
}

/// Reads a JSON body (answering the API's error shape, not axum's plain text).
fn read_json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<T, ApiError> {
    let body = body.map_err(|r| body_error(&r, limit))?;
    serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}
