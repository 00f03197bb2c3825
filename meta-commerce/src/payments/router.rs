//! Per-shop gateway choice with fallback. PLACEHOLDER until it lands.

/// Which gateways a shop uses. PLACEHOLDER.
#[derive(Debug, Clone, Default)]
pub struct GatewayChoice {}

/// Routes payment links to a shop's gateways. PLACEHOLDER.
#[derive(Debug, Default)]
pub struct PaymentRouter {}

/// Why no gateway produced a link. PLACEHOLDER.
#[derive(Debug, thiserror::Error)]
#[error("no gateway")]
pub struct RouteError {}
