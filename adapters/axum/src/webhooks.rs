//! The webhook routes: Meta's subscription handshake and deliveries, and the payment
//! providers' notifications.
//!
//! Both POSTs hand the **raw** body to the engine: signatures are computed over the
//! exact bytes sent, so nothing here parses or re-serialises them first.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use meta_commerce::engine::{IngestReport, PaymentOutcome};
use meta_commerce::payments::WebhookRequest;
use meta_core::webhook::{HEADER_SIGNATURE_256, Subscription};

use crate::error::ApiError;
use crate::state::AppState;

/// `GET /webhooks/meta`: the subscription handshake. Echoes `hub.challenge` as
/// `text/plain` when `hub.mode=subscribe` and `hub.verify_token` matches; `403`
/// otherwise.
pub(crate) async fn handshake(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Response {
    let subscription = Subscription::new(state.verify_token.clone());
    match subscription.verify_query(query.as_deref().unwrap_or_default()) {
        // The challenge is caller-supplied text: `text/plain` keeps a browser from
        // ever rendering it as HTML.
        Ok(challenge) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(reason = %e, "webhook handshake refused");
            ApiError::new(
                StatusCode::FORBIDDEN,
                "handshake_refused",
                "subscription handshake refused",
            )
            .into_response()
        }
    }
}

/// `POST /webhooks/meta`: verifies `X-Hub-Signature-256` over the raw body and writes
/// the comments to the durable inbox; answers `200` once that write is durable (the
/// worker processes them after), `401` for a missing or forged signature (nothing
/// stored), `400` for a body that is not a webhook envelope, `503` when the store
/// fails (Meta redelivers).
pub(crate) async fn meta_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<IngestReport>, ApiError> {
    let body = body.map_err(|r| body_error(&r, state.body_limit))?;
    // A header that is not visible ASCII cannot be a valid signature: pass it on as
    // empty so the engine refuses it like a missing one.
    let signature = headers
        .get(HEADER_SIGNATURE_256)
        .map(|v| v.to_str().unwrap_or_default());
    let report = state.engine.ingest_webhook(&body, signature).await?;
    tracing::debug!(
        new = report.new_comments,
        duplicates = report.duplicates,
        ignored = report.ignored,
        "meta webhook ingested"
    );
    Ok(Json(report))
}

/// `POST /webhooks/payments/{gateway}`: a provider's notification. The engine verifies
/// it with the gateway, asks the provider for the payment's real status and settles
/// the order. `200` on success or when ignored, `401` for a bad signature, `404` for
/// an unknown gateway or order, `502` when the provider's status check fails (the
/// provider retries).
pub(crate) async fn payment_webhook(
    State(state): State<AppState>,
    Path(gateway): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<PaymentOutcome>, ApiError> {
    let body = body.map_err(|r| body_error(&r, state.body_limit))?;
    // Checked here so an unconfigured server and an unknown name answer the same 404
    // (a provider pointed at the wrong URL must not be told to retry forever).
    let known = state
        .engine
        .payments()
        .is_some_and(|router| router.gateway(&gateway).is_some());
    if !known {
        tracing::warn!(gateway = %gateway, "payment webhook for an unknown gateway");
        return Err(ApiError::not_found(
            "unknown_gateway",
            format!("unknown payment gateway `{gateway}`"),
        ));
    }
    let request = WebhookRequest {
        headers: &headers,
        query: query.as_deref().unwrap_or_default(),
        body: &body,
    };
    let outcome = state
        .engine
        .handle_payment_webhook(&gateway, request)
        .await?;
    tracing::info!(gateway = %gateway, outcome = ?outcome, "payment webhook handled");
    Ok(Json(outcome))
}

/// The error for a body that could not be read: `413` over the limit, else `400`.
pub(crate) fn body_error(rejection: &BytesRejection, limit: usize) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large(limit)
    } else {
        ApiError::bad_request(format!("could not read the request body: {rejection}"))
    }
}

/// `413 payload_too_large`.
pub(crate) fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {limit} bytes"),
    )
}
