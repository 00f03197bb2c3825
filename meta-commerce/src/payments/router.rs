//! Per-shop gateway choice with fallback.
//!
//! A shop's `gateways` list, in order, decides which gateways are tried; an empty list
//! means the defaults for its country and the order's currency ([`GatewayChoice`]).
//! Gateways that are not registered or do not charge in the currency are skipped,
//! and `transfer` always comes last when registered: a buyer can always be told how
//! to pay.
//!
//! Each gateway sits behind its own [`CircuitBreaker`] on the injected clock. A
//! transient failure (network, 5xx, 429), refused credentials or an unreadable answer
//! count against the breaker and the next gateway is tried; once open, the breaker
//! keeps the gateway out of the way without calling it until its cool-down ends. A
//! refusal of this particular request (`Rejected`, `Unsupported`) also moves on to the
//! next gateway but is reported, and does not count against the breaker: the
//! provider is up, it just did not want this request.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use meta_core::clock::Clock;

use super::{PaymentError, PaymentErrorKind, PaymentGateway, PaymentLink, PaymentRequest};
use crate::breaker::{BreakerState, CircuitBreaker};
use crate::money::Currency;
use crate::store::Shop;

const FALLBACK_GATEWAY: &str = PaymentRouter::FALLBACK_GATEWAY;

/// The gateways to try for one shop and currency, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayChoice {
    /// Gateway names in the order they will be tried (lower-case, no duplicates,
    /// [`PaymentRouter::FALLBACK_GATEWAY`] last). Not yet filtered by registration or currency.
    pub gateways: Vec<String>,
    /// True when the list came from the shop's own preference, false for the
    /// country/currency defaults.
    pub from_shop: bool,
}

impl GatewayChoice {
    /// The shop's preference list, or the defaults for its country and `currency`.
    #[must_use]
    pub fn for_shop(shop: &Shop, currency: Currency) -> Self {
        let from_shop = shop.gateways.iter().any(|g| !g.trim().is_empty());
        let names: Vec<String> = if from_shop {
            shop.gateways.clone()
        } else {
            Self::defaults(&shop.country, currency)
                .iter()
                .map(|s| (*s).to_owned())
                .collect()
        };
        let mut gateways: Vec<String> = Vec::with_capacity(names.len() + 1);
        for n in names {
            let n = n.trim().to_ascii_lowercase();
            if !n.is_empty() && !gateways.contains(&n) {
                gateways.push(n);
            }
        }
        // Transfer is the floor under every list, and always the last resort.
        gateways.retain(|g| g != FALLBACK_GATEWAY);
        gateways.push(FALLBACK_GATEWAY.to_owned());
        GatewayChoice {
            gateways,
            from_shop,
        }
    }

    /// The default order for a country (ISO 3166-1 alpha-2) and currency: Chilean
    /// pesos → Flow, Mercado Pago, transfer; Mexican, Argentine and Brazilian
    /// currency → Mercado Pago, transfer; anything else (USD, EUR…) → PayPal,
    /// transfer. The currency decides, because it is what the provider must charge;
    /// a Chilean shop selling in dollars goes to PayPal.
    #[must_use]
    pub fn defaults(country: &str, currency: Currency) -> &'static [&'static str] {
        const CHILE: &[&str] = &["flow", "mercadopago", FALLBACK_GATEWAY];
        const MERCADO_PAGO: &[&str] = &["mercadopago", FALLBACK_GATEWAY];
        const OTHERS: &[&str] = &["paypal", FALLBACK_GATEWAY];
        let country = country.trim().to_ascii_uppercase();
        match (country.as_str(), currency.as_str()) {
            (_, "CLP") => CHILE,
            (_, "MXN" | "ARS" | "BRL") => MERCADO_PAGO,
            // Local currencies Mercado Pago also charges in, for its other countries.
            ("CO", "COP") | ("PE", "PEN") | ("UY", "UYU") => MERCADO_PAGO,
            _ => OTHERS,
        }
    }
}

/// Why no gateway produced a link: every gateway considered, in order, with what
/// happened (each a [`PaymentError`] naming its gateway: not registered or wrong
/// currency → `Unsupported`; breaker open → `Transient`; otherwise the gateway's own
/// error).
#[derive(Debug, thiserror::Error)]
pub struct RouteError {
    /// The order.
    pub order_id: String,
    /// The currency asked for.
    pub currency: Currency,
    /// Every gateway considered, in order.
    pub attempts: Vec<PaymentError>,
}

impl RouteError {
    /// True when at least one gateway failed transiently (or was held off by its
    /// breaker): trying again later may work.
    #[must_use]
    pub fn is_transient(&self) -> bool {
        self.attempts.iter().any(PaymentError::is_transient)
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no payment gateway created a link for order {} ({})",
            self.order_id, self.currency
        )?;
        if self.attempts.is_empty() {
            return f.write_str(": no gateway to try");
        }
        for (i, a) in self.attempts.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Entry {
    gateway: Arc<dyn PaymentGateway>,
    breaker: CircuitBreaker,
}

/// Routes payment links to a shop's gateways, with a circuit breaker per gateway.
#[derive(Debug)]
pub struct PaymentRouter {
    clock: Arc<dyn Clock>,
    failure_threshold: u32,
    open_for: Duration,
    gateways: HashMap<String, Entry>,
}

impl PaymentRouter {
    /// The gateway of last resort, appended to every choice (used when registered).
    pub const FALLBACK_GATEWAY: &'static str = "transfer";
    /// Consecutive failures that open a gateway's breaker, by default.
    pub const DEFAULT_FAILURE_THRESHOLD: u32 = 3;
    /// How long an open breaker keeps its gateway out, by default.
    pub const DEFAULT_OPEN_FOR: Duration = Duration::from_secs(30);

    /// An empty router whose breakers run on `clock`, opening after
    /// [`Self::DEFAULT_FAILURE_THRESHOLD`] consecutive failures for
    /// [`Self::DEFAULT_OPEN_FOR`].
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        PaymentRouter {
            clock,
            failure_threshold: Self::DEFAULT_FAILURE_THRESHOLD,
            open_for: Self::DEFAULT_OPEN_FOR,
            gateways: HashMap::new(),
        }
    }

    /// Sets the breaker policy (resetting every breaker).
    #[must_use]
    pub fn with_breaker(mut self, failure_threshold: u32, open_for: Duration) -> Self {
        self.failure_threshold = failure_threshold;
        self.open_for = open_for;
        for entry in self.gateways.values_mut() {
            entry.breaker = CircuitBreaker::new(self.clock.clone(), failure_threshold, open_for);
        }
        self
    }

    /// Adds a gateway under its [`PaymentGateway::name`] (replacing one of the same name).
    #[must_use]
    pub fn with_gateway(mut self, gateway: Arc<dyn PaymentGateway>) -> Self {
        self.register(gateway);
        self
    }

    /// Adds a gateway under its [`PaymentGateway::name`] (replacing one of the same name).
    pub fn register(&mut self, gateway: Arc<dyn PaymentGateway>) {
        let name = gateway.name().trim().to_ascii_lowercase();
        let breaker =
            CircuitBreaker::new(self.clock.clone(), self.failure_threshold, self.open_for);
        self.gateways.insert(name, Entry { gateway, breaker });
    }

    /// The gateway called `name`, for webhooks and status checks.
    #[must_use]
    pub fn gateway(&self, name: &str) -> Option<Arc<dyn PaymentGateway>> {
        self.gateways
            .get(&name.trim().to_ascii_lowercase())
            .map(|e| e.gateway.clone())
    }

    /// Registered gateway names, sorted.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.gateways.keys().cloned().collect();
        names.sort();
        names
    }

    /// The state of a gateway's breaker.
    #[must_use]
    pub fn breaker_state(&self, name: &str) -> Option<BreakerState> {
        self.gateways
            .get(&name.trim().to_ascii_lowercase())
            .map(|e| e.breaker.state())
    }

    /// The gateways `shop` would try for `currency`, in order (before filtering).
    #[must_use]
    pub fn choose(&self, shop: &Shop, currency: Currency) -> GatewayChoice {
        GatewayChoice::for_shop(shop, currency)
    }

    /// Creates a link through the first gateway that can, and also returns what
    /// happened at the gateways tried before it (empty when the first one worked).
    ///
    /// # Errors
    /// [`RouteError`] listing every gateway considered when none produced a link.
    pub async fn route(
        &self,
        shop: &Shop,
        request: &PaymentRequest,
    ) -> Result<(PaymentLink, Vec<PaymentError>), RouteError> {
        let currency = request.amount.currency;
        let choice = self.choose(shop, currency);
        let mut attempts = Vec::new();
        for name in &choice.gateways {
            let Some(entry) = self.gateways.get(name) else {
                // The fallback is appended to every list: only a gateway the shop
                // asked for by name is worth reporting as missing.
                if name != FALLBACK_GATEWAY || choice.gateways.len() == 1 {
                    attempts.push(PaymentError::new(
                        name.as_str(),
                        PaymentErrorKind::Unsupported,
                        "not registered",
                    ));
                }
                continue;
            };
            if !entry.gateway.supports(currency) {
                attempts.push(PaymentError::new(
                    name.as_str(),
                    PaymentErrorKind::Unsupported,
                    format!("does not charge in {currency}"),
                ));
                continue;
            }
            if !entry.breaker.allow() {
                attempts.push(PaymentError::new(
                    name.as_str(),
                    PaymentErrorKind::Transient,
                    "circuit breaker open: not called",
                ));
                continue;
            }
            match entry.gateway.create_link(request).await {
                Ok(link) => {
                    entry.breaker.record_success();
                    if !attempts.is_empty() {
                        tracing::info!(
                            order_id = %request.order_id,
                            gateway = %name,
                            skipped = attempts.len(),
                            "payment link created by a fallback gateway"
                        );
                    }
                    return Ok((link, attempts));
                }
                Err(e) => {
                    match e.kind {
                        // The gateway is unusable right now (down, slow, misconfigured).
                        PaymentErrorKind::Transient
                        | PaymentErrorKind::Auth
                        | PaymentErrorKind::Malformed => entry.breaker.record_failure(),
                        // It answered sensibly; this request was the problem.
                        _ => entry.breaker.record_success(),
                    }
                    tracing::warn!(
                        order_id = %request.order_id,
                        gateway = %name,
                        kind = ?e.kind,
                        error = %e.message,
                        "payment gateway failed; trying the next"
                    );
                    attempts.push(e);
                }
            }
        }
        Err(RouteError {
            order_id: request.order_id.clone(),
            currency,
            attempts,
        })
    }

    /// Creates a link for `request` through `shop`'s gateways, falling back in order
    /// (see [`PaymentRouter::route`], which also returns the failed attempts).
    ///
    /// # Errors
    /// [`RouteError`] listing every gateway considered when none produced a link.
    pub async fn create_link(
        &self,
        shop: &Shop,
        request: &PaymentRequest,
    ) -> Result<PaymentLink, RouteError> {
        self.route(shop, request).await.map(|(link, _)| link)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use meta_core::clock::ManualClock;

    use super::*;
    use crate::money::Money;
    use crate::payments::{PaymentFuture, PaymentNotification, PaymentStatus, WebhookRequest};

    /// A gateway that answers with whatever the test scripted, counting calls.
    #[derive(Debug)]
    struct Scripted {
        name: &'static str,
        currencies: Vec<Currency>,
        fail_with: Mutex<Option<PaymentErrorKind>>,
        calls: AtomicUsize,
    }

    impl Scripted {
        fn new(name: &'static str, currencies: &[Currency]) -> Arc<Self> {
            Arc::new(Scripted {
                name,
                currencies: currencies.to_vec(),
                fail_with: Mutex::new(None),
                calls: AtomicUsize::new(0),
            })
        }
        fn fail(&self, kind: Option<PaymentErrorKind>) {
            *self.fail_with.lock().unwrap() = kind;
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl PaymentGateway for Scripted {
        fn name(&self) -> &str {
            self.name
        }
        fn supports(&self, currency: Currency) -> bool {
            self.currencies.contains(&currency)
        }
        fn create_link<'a>(
            &'a self,
            request: &'a PaymentRequest,
        ) -> PaymentFuture<'a, PaymentLink> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let outcome = match *self.fail_with.lock().unwrap() {
                Some(kind) => Err(PaymentError::new(self.name, kind, "scripted")),
                None => Ok(PaymentLink::new(
                    self.name,
                    format!("https://{}.example/pay/{}", self.name, request.order_id),
                    format!("{}-ref", self.name),
                )),
            };
            Box::pin(async move { outcome })
        }
        fn verify_webhook<'a>(
            &'a self,
            _request: WebhookRequest<'a>,
        ) -> PaymentFuture<'a, PaymentNotification> {
            Box::pin(async { Err(PaymentError::new("x", PaymentErrorKind::Unsupported, "n/a")) })
        }
        fn status<'a>(
            &'a self,
            _notification: &'a PaymentNotification,
        ) -> PaymentFuture<'a, PaymentStatus> {
            Box::pin(async { Err(PaymentError::new("x", PaymentErrorKind::Unsupported, "n/a")) })
        }
    }

    fn chile() -> Shop {
        Shop::new("s1", "Tienda", "page-1", "CL", Currency::CLP)
    }

    fn clp_request(order: &str) -> PaymentRequest {
        PaymentRequest::new(order, "s1", Money::new(12990, Currency::CLP))
    }

    struct Setup {
        clock: Arc<ManualClock>,
        flow: Arc<Scripted>,
        mp: Arc<Scripted>,
        transfer: Arc<Scripted>,
        router: PaymentRouter,
    }

    fn setup() -> Setup {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let flow = Scripted::new("flow", &[Currency::CLP]);
        let mp = Scripted::new("mercadopago", &[Currency::CLP, Currency::MXN]);
        let transfer = Scripted::new("transfer", &[Currency::CLP, Currency::MXN, Currency::USD]);
        let router = PaymentRouter::new(clock.clone())
            .with_breaker(2, Duration::from_secs(60))
            .with_gateway(flow.clone())
            .with_gateway(mp.clone())
            .with_gateway(transfer.clone());
        Setup {
            clock,
            flow,
            mp,
            transfer,
            router,
        }
    }

    #[test]
    fn defaults_follow_country_and_currency() {
        let names = |country: &str, currency: Currency| {
            GatewayChoice::for_shop(&Shop::new("s", "n", "p", country, currency), currency).gateways
        };
        assert_eq!(
            names("CL", Currency::CLP),
            ["flow", "mercadopago", "transfer"]
        );
        assert_eq!(names("MX", Currency::MXN), ["mercadopago", "transfer"]);
        assert_eq!(names("AR", Currency::ARS), ["mercadopago", "transfer"]);
        assert_eq!(names("BR", Currency::BRL), ["mercadopago", "transfer"]);
        assert_eq!(names("US", Currency::USD), ["paypal", "transfer"]);
        assert_eq!(names("CL", Currency::USD), ["paypal", "transfer"]);
        assert_eq!(names("ES", Currency::EUR), ["paypal", "transfer"]);
        let choice = GatewayChoice::for_shop(&chile(), Currency::CLP);
        assert!(!choice.from_shop);
    }

    #[test]
    fn shop_preference_wins_normalised_with_transfer_last() {
        let mut shop = chile();
        shop.gateways = vec![
            "Transfer".into(),
            " MercadoPago ".into(),
            "mercadopago".into(),
            "paypal".into(),
        ];
        let choice = GatewayChoice::for_shop(&shop, Currency::CLP);
        assert!(choice.from_shop);
        assert_eq!(choice.gateways, ["mercadopago", "paypal", "transfer"]);
    }

    #[tokio::test]
    async fn first_gateway_serves_when_healthy() {
        let s = setup();
        let (link, attempts) = s.router.route(&chile(), &clp_request("o1")).await.unwrap();
        assert_eq!(link.gateway, "flow");
        assert!(attempts.is_empty());
        assert_eq!(
            (s.flow.calls(), s.mp.calls(), s.transfer.calls()),
            (1, 0, 0)
        );
    }

    #[tokio::test]
    async fn transient_failure_falls_back_and_is_reported() {
        let s = setup();
        s.flow.fail(Some(PaymentErrorKind::Transient));
        let (link, attempts) = s.router.route(&chile(), &clp_request("o1")).await.unwrap();
        assert_eq!(link.gateway, "mercadopago");
        assert_eq!(attempts.len(), 1);
        assert_eq!(attempts[0].gateway, "flow");
        assert_eq!(attempts[0].kind, PaymentErrorKind::Transient);
    }

    #[tokio::test]
    async fn open_breaker_skips_the_gateway_until_the_cool_down_ends() {
        let s = setup();
        s.flow.fail(Some(PaymentErrorKind::Transient));
        for i in 0..2 {
            let link = s
                .router
                .create_link(&chile(), &clp_request(&format!("o{i}")))
                .await
                .unwrap();
            assert_eq!(link.gateway, "mercadopago");
        }
        assert_eq!(s.flow.calls(), 2);
        assert_eq!(s.router.breaker_state("flow"), Some(BreakerState::Open));

        // Open: Flow is not called at all, and the attempt says why.
        let (link, attempts) = s.router.route(&chile(), &clp_request("o3")).await.unwrap();
        assert_eq!(link.gateway, "mercadopago");
        assert_eq!(
            s.flow.calls(),
            2,
            "an open breaker must not call the gateway"
        );
        assert_eq!(attempts[0].gateway, "flow");
        assert!(attempts[0].message.contains("breaker open"));

        // Flow recovers, but the breaker still holds it off until the cool-down ends.
        s.flow.fail(None);
        s.clock.advance(Duration::from_secs(59));
        let link = s
            .router
            .create_link(&chile(), &clp_request("o4"))
            .await
            .unwrap();
        assert_eq!(link.gateway, "mercadopago");
        assert_eq!(s.flow.calls(), 2);

        s.clock.advance(Duration::from_secs(2));
        let link = s
            .router
            .create_link(&chile(), &clp_request("o5"))
            .await
            .unwrap();
        assert_eq!(
            link.gateway, "flow",
            "after the cool-down Flow is tried again"
        );
        assert_eq!(s.flow.calls(), 3);
        assert_eq!(s.router.breaker_state("flow"), Some(BreakerState::Closed));
    }

    #[tokio::test]
    async fn failed_trial_reopens_the_breaker() {
        let s = setup();
        s.flow.fail(Some(PaymentErrorKind::Transient));
        for i in 0..2 {
            s.router
                .create_link(&chile(), &clp_request(&format!("o{i}")))
                .await
                .unwrap();
        }
        s.clock.advance(Duration::from_secs(61));
        let link = s
            .router
            .create_link(&chile(), &clp_request("o3"))
            .await
            .unwrap();
        assert_eq!(link.gateway, "mercadopago");
        assert_eq!(s.flow.calls(), 3, "one trial call after the cool-down");
        assert_eq!(s.router.breaker_state("flow"), Some(BreakerState::Open));
    }

    #[tokio::test]
    async fn rejection_falls_through_is_reported_and_does_not_trip_the_breaker() {
        let s = setup();
        s.flow.fail(Some(PaymentErrorKind::Rejected));
        for i in 0..5 {
            let (link, attempts) = s
                .router
                .route(&chile(), &clp_request(&format!("o{i}")))
                .await
                .unwrap();
            assert_eq!(link.gateway, "mercadopago");
            assert_eq!(attempts[0].kind, PaymentErrorKind::Rejected);
        }
        assert_eq!(s.flow.calls(), 5);
        assert_eq!(s.router.breaker_state("flow"), Some(BreakerState::Closed));
    }

    #[tokio::test]
    async fn transfer_is_the_floor_and_every_attempt_is_listed() {
        let s = setup();
        s.flow.fail(Some(PaymentErrorKind::Transient));
        s.mp.fail(Some(PaymentErrorKind::Auth));
        let link = s
            .router
            .create_link(&chile(), &clp_request("o1"))
            .await
            .unwrap();
        assert_eq!(link.gateway, "transfer");

        s.transfer.fail(Some(PaymentErrorKind::Transient));
        let mut shop = chile();
        shop.gateways = vec!["paypal".into(), "flow".into(), "mercadopago".into()];
        let err = s
            .router
            .create_link(&shop, &clp_request("o2"))
            .await
            .unwrap_err();
        let seen: Vec<(&str, PaymentErrorKind)> = err
            .attempts
            .iter()
            .map(|a| (a.gateway.as_str(), a.kind))
            .collect();
        assert_eq!(
            seen,
            [
                ("paypal", PaymentErrorKind::Unsupported),
                ("flow", PaymentErrorKind::Transient),
                ("mercadopago", PaymentErrorKind::Auth),
                ("transfer", PaymentErrorKind::Transient),
            ]
        );
        assert!(err.is_transient());
        let text = err.to_string();
        assert!(
            text.contains("o2") && text.contains("paypal") && text.contains("transfer"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn unsupported_currency_is_skipped_without_a_call() {
        let s = setup();
        let mut shop = chile();
        shop.gateways = vec!["flow".into(), "mercadopago".into()];
        let req = PaymentRequest::new("o1", "s1", Money::new(1000, Currency::USD));
        let (link, attempts) = s.router.route(&shop, &req).await.unwrap();
        assert_eq!(link.gateway, "transfer");
        assert_eq!((s.flow.calls(), s.mp.calls()), (0, 0));
        assert_eq!(attempts.len(), 2);
        assert!(
            attempts
                .iter()
                .all(|a| a.kind == PaymentErrorKind::Unsupported)
        );
    }

    #[tokio::test]
    async fn without_transfer_registered_the_error_is_clear() {
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        let router = PaymentRouter::new(clock);
        let err = router
            .create_link(&chile(), &clp_request("o1"))
            .await
            .unwrap_err();
        let names: Vec<&str> = err.attempts.iter().map(|a| a.gateway.as_str()).collect();
        assert_eq!(names, ["flow", "mercadopago"]);
        assert!(!err.is_transient());
    }

    #[test]
    fn gateways_are_found_by_name() {
        let s = setup();
        assert_eq!(s.router.gateway("Flow").unwrap().name(), "flow");
        assert!(s.router.gateway("paypal").is_none());
        assert_eq!(s.router.names(), ["flow", "mercadopago", "transfer"]);
    }
}
