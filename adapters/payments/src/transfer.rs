//! Bank transfer: no provider. The "link" carries instructions — bank, account,
//! holder, RUT/CLABE, amount and a reference code derived from the order id for the
//! buyer to write in the transfer's comment — and the seller confirms the payment by
//! hand when it shows up in the bank statement.
//!
//! There is no webhook ([`PaymentGateway::verify_webhook`] is
//! [`PaymentErrorKind::Unsupported`]). [`TransferGateway::confirm`] records a
//! confirmation **in memory only**, so that [`PaymentGateway::status`] reports it in
//! this process; the commerce engine records the confirmation durably and is the
//! source of truth after a restart.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use meta_commerce::payments::{
    PaymentError, PaymentErrorKind, PaymentFuture, PaymentGateway, PaymentLink,
    PaymentNotification, PaymentRequest, PaymentState, PaymentStatus, WebhookRequest,
};
use meta_commerce::{Currency, Money};
use sha2::{Digest, Sha256};

/// The gateway's name in links, statuses and shop preferences.
pub const NAME: &str = "transfer";

/// Where buyers transfer to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BankAccount {
    /// Bank name (`Banco de Chile`).
    pub bank: String,
    /// Account number and type (`Cuenta corriente 00-123-45678-09`).
    pub account: String,
    /// Account holder's name.
    pub holder: String,
    /// What the identifier below is: `RUT` in Chile, `CLABE` in Mexico, `CBU` in Argentina.
    pub identifier_label: String,
    /// The holder's RUT, or the account's CLABE/CBU.
    pub identifier: String,
}

impl BankAccount {
    /// An account.
    #[must_use]
    pub fn new(
        bank: impl Into<String>,
        account: impl Into<String>,
        holder: impl Into<String>,
        identifier_label: impl Into<String>,
        identifier: impl Into<String>,
    ) -> Self {
        BankAccount {
            bank: bank.into(),
            account: account.into(),
            holder: holder.into(),
            identifier_label: identifier_label.into(),
            identifier: identifier.into(),
        }
    }
}

/// Bank transfer settings.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TransferConfig {
    /// The account.
    pub account: BankAccount,
    /// A page with the instructions, used as the link's URL (empty when `None`).
    pub info_url: Option<String>,
    /// Currencies the account receives (empty: any).
    pub currencies: Vec<Currency>,
}

impl TransferConfig {
    /// Settings for `account`, any currency, no info page.
    #[must_use]
    pub fn new(account: BankAccount) -> Self {
        TransferConfig {
            account,
            info_url: None,
            currencies: Vec::new(),
        }
    }
}

#[derive(Debug, Default)]
struct Book {
    /// reference code → (order id, expected amount)
    expected: HashMap<String, (String, Money)>,
    /// order id → amount the seller saw arrive
    confirmed: HashMap<String, Money>,
}

/// The bank transfer gateway.
#[derive(Debug)]
pub struct TransferGateway {
    config: TransferConfig,
    book: Mutex<Book>,
}

/// The reference code for `order_id`: `TRF-` and eight hex digits of its SHA-256.
/// Short enough to type into a bank's comment field, stable across calls and restarts.
#[must_use]
pub fn reference_code(order_id: &str) -> String {
    let digest = Sha256::digest(order_id.as_bytes());
    format!("TRF-{}", hex::encode_upper(&digest[..4]))
}

impl TransferGateway {
    /// A gateway for `config`.
    #[must_use]
    pub fn new(config: TransferConfig) -> Self {
        TransferGateway {
            config,
            book: Mutex::new(Book::default()),
        }
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        // Plain maps: a panic elsewhere cannot leave them half-updated.
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn err(kind: PaymentErrorKind, message: impl Into<String>) -> PaymentError {
        PaymentError::new(NAME, kind, message)
    }

    /// The instructions shown to the buyer.
    #[must_use]
    pub fn instructions(&self, order_id: &str, amount: Money) -> String {
        let a = &self.config.account;
        let mut text = String::new();
        let _ = writeln!(text, "Transferencia bancaria");
        let _ = writeln!(text, "Banco: {}", a.bank);
        let _ = writeln!(text, "Cuenta: {}", a.account);
        let _ = writeln!(text, "Titular: {}", a.holder);
        let _ = writeln!(text, "{}: {}", a.identifier_label, a.identifier);
        let _ = writeln!(text, "Monto: {amount}");
        let _ = write!(
            text,
            "Referencia: {} (escríbela en el comentario de la transferencia)",
            reference_code(order_id)
        );
        text
    }

    /// Records that the seller saw `amount` arrive for `order_id` (replacing any
    /// earlier record, so confirming twice is harmless). In memory only: the engine
    /// stores the confirmation durably.
    ///
    /// # Errors
    /// [`PaymentErrorKind::Rejected`] for a non-positive amount, or a currency other
    /// than the one the link asked for.
    pub fn confirm(&self, order_id: &str, amount: Money) -> Result<PaymentStatus, PaymentError> {
        if amount.minor <= 0 {
            return Err(Self::err(
                PaymentErrorKind::Rejected,
                "amount must be positive",
            ));
        }
        let mut book = self.book();
        let code = reference_code(order_id);
        if let Some((_, expected)) = book.expected.get(&code)
            && expected.currency != amount.currency
        {
            return Err(Self::err(
                PaymentErrorKind::Rejected,
                format!(
                    "order {order_id} is charged in {}, not {}",
                    expected.currency, amount.currency
                ),
            ));
        }
        book.confirmed.insert(order_id.to_owned(), amount);
        Ok(Self::status_of(&book, order_id))
    }

    fn status_of(book: &Book, order_id: &str) -> PaymentStatus {
        let code = reference_code(order_id);
        let expected = book.expected.get(&code).map(|(_, m)| *m);
        let received = book.confirmed.get(order_id).copied();
        let state = match (received, expected) {
            // Less than asked for is not paid yet: the buyer may send the rest.
            (Some(got), Some(want)) if got.minor < want.minor => PaymentState::Pending,
            (Some(_), _) => PaymentState::Approved,
            (None, _) => PaymentState::Pending,
        };
        let raw = match state {
            PaymentState::Approved => "confirmed",
            _ if received.is_some() => "partial",
            _ => "awaiting_transfer",
        };
        PaymentStatus::new(NAME, order_id, code, state, received, raw)
    }
}

impl PaymentGateway for TransferGateway {
    fn name(&self) -> &str {
        NAME
    }

    fn supports(&self, currency: Currency) -> bool {
        self.config.currencies.is_empty() || self.config.currencies.contains(&currency)
    }

    fn create_link<'a>(&'a self, request: &'a PaymentRequest) -> PaymentFuture<'a, PaymentLink> {
        let result = if self.supports(request.amount.currency) {
            let code = reference_code(&request.order_id);
            self.book()
                .expected
                .insert(code.clone(), (request.order_id.clone(), request.amount));
            let mut link =
                PaymentLink::new(NAME, self.config.info_url.clone().unwrap_or_default(), code)
                    .with_instructions(self.instructions(&request.order_id, request.amount));
            link.expires_at = request.expires_at;
            Ok(link)
        } else {
            Err(Self::err(
                PaymentErrorKind::Unsupported,
                format!("the account does not receive {}", request.amount.currency),
            ))
        };
        Box::pin(async move { result })
    }

    fn verify_webhook<'a>(
        &'a self,
        _request: WebhookRequest<'a>,
    ) -> PaymentFuture<'a, PaymentNotification> {
        Box::pin(async {
            Err(Self::err(
                PaymentErrorKind::Unsupported,
                "bank transfers have no webhook: the seller confirms them",
            ))
        })
    }

    /// The reference may be the transfer code or the order id.
    fn status<'a>(
        &'a self,
        notification: &'a PaymentNotification,
    ) -> PaymentFuture<'a, PaymentStatus> {
        let book = self.book();
        let order_id = book
            .expected
            .get(&notification.reference)
            .map_or(notification.reference.as_str(), |(o, _)| o.as_str());
        let status = Self::status_of(&book, order_id);
        drop(book);
        Box::pin(async move { Ok(status) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_and_short() {
        let a = reference_code("ord-0192");
        assert_eq!(a, reference_code("ord-0192"));
        assert_ne!(a, reference_code("ord-0193"));
        assert_eq!(a.len(), 12);
        assert!(a.starts_with("TRF-"));
    }
}
