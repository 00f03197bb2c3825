//! Flow (flow.cl), Chile: `POST payment/create` returns a checkout URL and a token;
//! the buyer pays at `url?token=…`; Flow then POSTs `token=…` (a form, unsigned) to
//! our `urlConfirmation`, and we ask `GET payment/getStatus` what happened.
//!
//! Every call is signed: the parameters sorted by name, concatenated as
//! `name` + `value` with no separators, HMAC-SHA256 with the merchant's secret key,
//! lowercase hex, sent as the `s` parameter ([`sign`]).
//!
//! The confirmation carries no signature, so [`PaymentGateway::verify_webhook`]
//! only checks its shape: the token means nothing until `getStatus` — a signed
//! call to Flow — confirms it, which is what the pipeline does next.
//!
//! Flow has no idempotency header: links created through one gateway value are
//! remembered in memory by idempotency key, so asking again returns the same link;
//! after a restart a second Flow order for the same `commerceOrder` may be created
//! (only one of them can be paid for the order version the engine accepts).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::{Method, header};
use meta_commerce::Currency;
use meta_commerce::payments::{
    PaymentError, PaymentErrorKind, PaymentFuture, PaymentGateway, PaymentLink,
    PaymentNotification, PaymentRequest, PaymentState, PaymentStatus, WebhookRequest,
};
use meta_core::clock::Clock;
use meta_core::transport::Transport;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::Value;

use crate::signing::hmac_hex;
use crate::wire::{self, Wire};

/// The gateway's name in links, statuses and shop preferences.
pub const NAME: &str = "flow";
/// Flow's production API.
pub const DEFAULT_BASE_URL: &str = "https://www.flow.cl/api";
/// Flow's sandbox API.
pub const SANDBOX_BASE_URL: &str = "https://sandbox.flow.cl/api";

/// How many links the in-memory idempotency memory keeps.
const REMEMBERED_LINKS: usize = 4096;

/// Flow settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FlowConfig {
    /// API base URL including `/api` (default [`DEFAULT_BASE_URL`]).
    pub base_url: String,
    /// The merchant's API key (not secret: it travels in every request).
    pub api_key: String,
    /// The merchant's secret key (signs every request; never sent).
    pub secret_key: SecretString,
    /// `urlConfirmation`, unless the request names its own notification URL.
    pub confirmation_url: Option<String>,
    /// `urlReturn`, unless the request names its own return URL.
    pub return_url: Option<String>,
    /// The payer e-mail Flow requires (the port does not carry buyers' e-mails;
    /// Flow lets the payer change it at checkout).
    pub payer_email: String,
    /// Currencies (default CLP).
    pub currencies: Vec<Currency>,
    /// Total time for one API call (default 20 s).
    pub timeout: Duration,
}

impl FlowConfig {
    /// Settings with the defaults above.
    #[must_use]
    pub fn new(
        api_key: impl Into<String>,
        secret_key: SecretString,
        payer_email: impl Into<String>,
    ) -> Self {
        FlowConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: api_key.into(),
            secret_key,
            confirmation_url: None,
            return_url: None,
            payer_email: payer_email.into(),
            currencies: vec![Currency::CLP],
            timeout: wire::DEFAULT_TIMEOUT,
        }
    }

    /// Sets the API base URL.
    #[must_use]
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets the default `urlConfirmation` and `urlReturn`.
    #[must_use]
    pub fn with_urls(
        mut self,
        confirmation: impl Into<String>,
        return_to: impl Into<String>,
    ) -> Self {
        self.confirmation_url = Some(confirmation.into());
        self.return_url = Some(return_to.into());
        self
    }
}

#[derive(Debug, Default)]
struct Remembered {
    links: HashMap<String, PaymentLink>,
    order: VecDeque<String>,
}

/// The Flow gateway.
pub struct FlowGateway {
    config: FlowConfig,
    clock: Arc<dyn Clock>,
    wire: Wire,
    remembered: Mutex<Remembered>,
}

impl fmt::Debug for FlowGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowGateway")
            .field("base_url", &self.config.base_url)
            .field("api_key", &self.config.api_key)
            .finish_non_exhaustive()
    }
}

/// Flow's signature of `params`: sort by name, concatenate `name` + `value`, then
/// lowercase hex of HMAC-SHA256 with the secret key. `s` itself must not be included.
#[must_use]
pub fn sign(secret_key: &SecretString, params: &[(&str, &str)]) -> String {
    hmac_hex(secret_key, string_to_sign(params).as_bytes())
}

/// The text [`sign`] signs.
#[must_use]
pub fn string_to_sign(params: &[(&str, &str)]) -> String {
    let mut sorted: Vec<&(&str, &str)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut text = String::new();
    for (k, v) in sorted {
        text.push_str(k);
        text.push_str(v);
    }
    text
}

/// Flow's numeric payment status as our state.
#[must_use]
pub fn map_status(status: i64) -> Option<PaymentState> {
    Some(match status {
        1 => PaymentState::Pending,
        2 => PaymentState::Approved,
        3 => PaymentState::Rejected,
        4 => PaymentState::Cancelled,
        _ => return None,
    })
}

impl FlowGateway {
    /// A gateway over meta-core's reqwest transport (rustls on ring).
    ///
    /// # Errors
    /// [`PaymentErrorKind::Unsupported`] if the HTTP client cannot be set up.
    pub fn new(config: FlowConfig, clock: Arc<dyn Clock>) -> Result<Self, PaymentError> {
        let transport = wire::default_transport(NAME)?;
        Ok(Self::with_transport(config, clock, transport))
    }

    /// A gateway over any [`Transport`].
    #[must_use]
    pub fn with_transport(
        config: FlowConfig,
        clock: Arc<dyn Clock>,
        transport: Arc<dyn Transport>,
    ) -> Self {
        let wire = Wire::new(NAME, &config.base_url, transport, config.timeout);
        FlowGateway {
            config,
            clock,
            wire,
            remembered: Mutex::new(Remembered::default()),
        }
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, Remembered> {
        // Plain maps: a panic elsewhere cannot leave them half-updated.
        self.remembered
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn remember(&self, key: &str, link: &PaymentLink) {
        let mut r = self.remembered();
        if r.links.insert(key.to_owned(), link.clone()).is_none() {
            r.order.push_back(key.to_owned());
        }
        while r.order.len() > REMEMBERED_LINKS {
            if let Some(old) = r.order.pop_front() {
                r.links.remove(&old);
            }
        }
    }

    /// `params` plus their signature `s`, form-encoded.
    fn signed(&self, params: &[(&str, &str)]) -> String {
        let s = sign(&self.config.secret_key, params);
        wire::form(params.iter().copied().chain([("s", s.as_str())]))
    }

    async fn create(&self, request: &PaymentRequest) -> Result<PaymentLink, PaymentError> {
        if let Some(link) = self.remembered().links.get(&request.idempotency_key) {
            return Ok(link.clone());
        }
        if !self.supports(request.amount.currency) {
            return Err(self.wire.err(
                PaymentErrorKind::Unsupported,
                format!("currency {} not enabled", request.amount.currency),
            ));
        }
        let confirmation = request
            .notification_url
            .as_deref()
            .or(self.config.confirmation_url.as_deref())
            .ok_or_else(|| {
                self.wire.err(
                    PaymentErrorKind::Unsupported,
                    "no urlConfirmation configured",
                )
            })?;
        let return_to = request
            .return_url
            .as_deref()
            .or(self.config.return_url.as_deref())
            .ok_or_else(|| {
                self.wire
                    .err(PaymentErrorKind::Unsupported, "no urlReturn configured")
            })?;
        let subject = if request.description.is_empty() {
            format!("Pedido {}", request.order_id)
        } else {
            request.description.clone()
        };
        let amount = request.amount.decimal_string();
        let timeout = match request.expires_at {
            Some(at) => {
                let left = at
                    .duration_since(self.clock.now())
                    .map_err(|_| {
                        self.wire.err(
                            PaymentErrorKind::Rejected,
                            "the link would already be expired",
                        )
                    })?
                    .as_secs();
                Some(left.max(1).to_string())
            }
            None => None,
        };
        let mut params: Vec<(&str, &str)> = vec![
            ("apiKey", &self.config.api_key),
            ("commerceOrder", &request.order_id),
            ("subject", &subject),
            ("currency", request.amount.currency.as_str()),
            ("amount", &amount),
            ("email", &self.config.payer_email),
            ("urlConfirmation", confirmation),
            ("urlReturn", return_to),
        ];
        if let Some(t) = &timeout {
            params.push(("timeout", t));
        }
        let req = self
            .wire
            .request(Method::POST, &self.wire.url("/payment/create"))?
            .header(header::CONTENT_TYPE, wire::form_type());
        let answer = self
            .wire
            .send(
                self.wire.finish(req, self.signed(&params))?,
                "payment/create",
            )
            .await?;
        let created: Created = self.wire.json(&answer.body, "payment/create")?;
        if created.url.is_empty() || created.token.is_empty() {
            return Err(self.wire.err(
                PaymentErrorKind::Malformed,
                "payment/create without url or token",
            ));
        }
        let url = format!("{}?token={}", created.url, created.token);
        let mut link = PaymentLink::new(NAME, url, created.token);
        if timeout.is_some() {
            link.expires_at = request.expires_at;
        }
        self.remember(&request.idempotency_key, &link);
        Ok(link)
    }

    async fn fetch_status(&self, token: &str) -> Result<PaymentStatus, PaymentError> {
        check_token(token).map_err(|m| self.wire.err(PaymentErrorKind::Malformed, m))?;
        let params = [("apiKey", self.config.api_key.as_str()), ("token", token)];
        let url = format!(
            "{}?{}",
            self.wire.url("/payment/getStatus"),
            self.signed(&params)
        );
        let req = self.wire.request(Method::GET, &url)?;
        let answer = self
            .wire
            .send(self.wire.finish(req, Vec::new())?, "payment/getStatus")
            .await?;
        let st: StatusAnswer = self.wire.json(&answer.body, "payment/getStatus")?;
        let state = map_status(st.status).ok_or_else(|| {
            self.wire.err(
                PaymentErrorKind::Malformed,
                format!("unknown Flow status {}", st.status),
            )
        })?;
        let amount = match (&st.amount, st.currency.as_deref()) {
            (Some(v), Some(c)) => {
                let currency = Currency::parse(c)
                    .map_err(|_| self.wire.err(PaymentErrorKind::Malformed, "bad currency"))?;
                Some(
                    wire::money_from_json(v, currency)
                        .ok_or_else(|| self.wire.err(PaymentErrorKind::Malformed, "bad amount"))?,
                )
            }
            _ => None,
        };
        let provider_ref = match &st.flow_order {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => token.to_owned(),
        };
        Ok(PaymentStatus::new(
            NAME,
            st.commerce_order,
            provider_ref,
            state,
            amount,
            st.status.to_string(),
        ))
    }
}

fn check_token(token: &str) -> Result<(), &'static str> {
    if token.is_empty() || token.len() > 128 || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Err("bad Flow token")
    } else {
        Ok(())
    }
}

impl PaymentGateway for FlowGateway {
    fn name(&self) -> &str {
        NAME
    }

    fn supports(&self, currency: Currency) -> bool {
        self.config.currencies.contains(&currency)
    }

    fn create_link<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a, PaymentLink> {
        Box::pin(self.create(request))
    }

    fn verify_webhook<'a>(
        &'a self,
        request: WebhookRequest<'a>,
    ) -> PaymentFuture<'a, PaymentNotification> {
        let token = form_urlencoded::parse(request.body)
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned());
        let result = match token {
            None => Err(self
                .wire
                .err(PaymentErrorKind::Malformed, "confirmation without token")),
            Some(t) => match check_token(&t) {
                Ok(()) => Ok(PaymentNotification::new(NAME, t, "confirmation")),
                Err(m) => Err(self.wire.err(PaymentErrorKind::Malformed, m)),
            },
        };
        Box::pin(async move { result })
    }

    fn status<'a>(
        &'a self,
        notification: &'a PaymentNotification,
    ) -> PaymentFuture<'a, PaymentStatus> {
        Box::pin(self.fetch_status(&notification.reference))
    }
}

#[derive(Debug, Deserialize)]
struct Created {
    url: String,
    token: String,
}

#[derive(Debug, Deserialize)]
struct StatusAnswer {
    #[serde(rename = "flowOrder")]
    flow_order: Option<Value>,
    #[serde(rename = "commerceOrder")]
    commerce_order: String,
    status: i64,
    currency: Option<String>,
    amount: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_to_sign_sorts_by_name_and_concatenates() {
        assert_eq!(
            string_to_sign(&[
                ("token", "AJ089FF5467367"),
                ("apiKey", "KEY"),
                ("amount", "5000")
            ]),
            "amount5000apiKeyKEYtokenAJ089FF5467367"
        );
    }

    #[test]
    fn statuses_map() {
        assert_eq!(map_status(1), Some(PaymentState::Pending));
        assert_eq!(map_status(2), Some(PaymentState::Approved));
        assert_eq!(map_status(3), Some(PaymentState::Rejected));
        assert_eq!(map_status(4), Some(PaymentState::Cancelled));
        assert_eq!(map_status(9), None);
    }

    #[test]
    fn tokens_are_checked() {
        assert!(check_token("AJ089FF5467367").is_ok());
        assert!(check_token("").is_err());
        assert!(check_token("../x").is_err());
    }
}
