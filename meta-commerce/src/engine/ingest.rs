//! Ingest: a signed Meta webhook into the durable inbox.
//!
//! signature (over the raw bytes, before parsing) → typed event → for each comment on
//! a known live: an inbox row keyed by the comment id (a redelivery or a duplicate in
//! the same delivery is a no-op) → return. The Page's own comments are stored as
//! `Skipped` (never replied to: no reply loops). Messenger messages from buyers are
//! recorded in the messaging guard (they open the 24-hour window) and checked for
//! opt-out words and data-deletion requests.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use meta_graph::store::from_ms;
use meta_graph::webhooks::{Change, CommentVerb, MessagingKind, WebhookEvent};
use serde::Serialize;

use super::{Engine, EngineError};
use crate::controls;
use crate::store::{InboxComment, InboxStatus, Shop};

/// What an ingest recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IngestReport {
    /// New comments written to the inbox as pending.
    pub new_comments: usize,
    /// Comments already in the inbox (redeliveries, duplicates).
    pub duplicates: usize,
    /// Comments stored as skipped (the Page's own).
    pub skipped: usize,
    /// Changes that are not comments on a known live (other posts, edits, removals).
    pub ignored: usize,
    /// Buyer messages recorded (24-hour window).
    pub messages: usize,
    /// Opt-outs and data-deletion requests handled.
    pub controls: usize,
}

impl Engine {
    /// Verifies `X-Hub-Signature-256` over the raw body, parses it and records it.
    /// Returns once the inbox write is durable, so an HTTP adapter can acknowledge.
    ///
    /// # Errors
    /// [`EngineError::Signature`] (missing or forged: nothing stored),
    /// [`EngineError::Parse`] (not a webhook envelope), [`EngineError::Config`] (no
    /// app secret configured), the store's error (answer 5xx so Meta redelivers).
    pub async fn ingest_webhook(
        &self,
        raw_body: &[u8],
        signature: Option<&str>,
    ) -> Result<IngestReport, EngineError> {
        let verifier = self.verifier.as_ref().ok_or_else(|| {
            EngineError::Config("no Meta app secret: cannot verify webhooks".into())
        })?;
        let sig = signature
            .ok_or_else(|| EngineError::Signature("missing X-Hub-Signature-256".into()))?;
        verifier
            .verify(raw_body, sig)
            .map_err(|e| EngineError::Signature(e.to_string()))?;
        let event =
            meta_graph::webhooks::parse(raw_body).map_err(|e| EngineError::Parse(e.to_string()))?;
        self.ingest_event(&event).await
    }

    /// Records an already verified and parsed event.
    ///
    /// # Errors
    /// The store's error.
    pub async fn ingest_event(&self, event: &WebhookEvent) -> Result<IngestReport, EngineError> {
        let now = self.now_ms();
        let mut report = IngestReport::default();
        let mut rows: Vec<InboxComment> = Vec::new();
        let mut shops: HashMap<String, Option<Shop>> = HashMap::new();
        for change in event.changes() {
            let Change::FeedComment(c) = change else {
                report.ignored += 1;
                continue;
            };
            // Edits and removals do not change a reservation: a buyer who edits "2" into
            // "3" must comment again (documented; the edit is visible to the seller).
            if c.verb != CommentVerb::Add {
                report.ignored += 1;
                continue;
            }
            let Some(live) = self.live_for_post(c.post_id.as_str()).await? else {
                report.ignored += 1;
                continue;
            };
            let shop = match shops.get(&live.shop_id) {
                Some(s) => s.clone(),
                None => {
                    let s = self.store.shop(&live.shop_id).await?;
                    shops.insert(live.shop_id.clone(), s.clone());
                    s
                }
            };
            let Some(shop) = shop else {
                report.ignored += 1;
                continue;
            };
            let (buyer_id, buyer_name) = match &c.from {
                Some(a) => (a.id.as_str().to_owned(), a.name.clone()),
                None => (String::new(), None),
            };
            let (status, detail) = if buyer_id.is_empty() {
                (
                    InboxStatus::Rejected,
                    Some("the comment has no author".to_owned()),
                )
            } else if buyer_id == shop.page_id {
                (
                    InboxStatus::Skipped,
                    Some("the Page's own comment".to_owned()),
                )
            } else if c.is_reply() {
                // Replies under other comments are conversation, not orders (and
                // include our own replies' threads).
                (
                    InboxStatus::Skipped,
                    Some("a reply to another comment".to_owned()),
                )
            } else {
                (InboxStatus::Pending, None)
            };
            rows.push(InboxComment {
                comment_id: c.comment_id.as_str().to_owned(),
                shop_id: shop.id.clone(),
                live_id: live.id.clone(),
                post_id: c.post_id.as_str().to_owned(),
                buyer_id,
                buyer_name,
                text: c.message.clone().unwrap_or_default(),
                created_time_ms: c.created_time.map_or(now, |t| t.unix_millis()),
                received_at_ms: now,
                status,
                detail,
            });
        }
        if !rows.is_empty() {
            let inserted = self.store.insert_inbox(&rows).await?;
            for (row, new) in rows.iter().zip(inserted) {
                match (new, row.status) {
                    (false, _) => report.duplicates += 1,
                    (true, InboxStatus::Pending) => report.new_comments += 1,
                    (true, _) => report.skipped += 1,
                }
            }
        }
        for m in event.messaging() {
            let MessagingKind::Message(msg) = &m.kind else {
                continue;
            };
            let (Some(sender), Some(page)) = (&m.sender_id, &m.recipient_id) else {
                continue;
            };
            report.messages += 1;
            let at = m.timestamp.map_or(now, |t| t.unix_millis());
            if let Some(guard) = &self.guard
                && let Err(e) = guard.record_inbound(page, sender, from_ms(at)).await
            {
                tracing::warn!(error = %e, "could not record an inbound message");
            }
            let text = msg.text.as_deref().unwrap_or("");
            if controls::is_data_deletion_request(text) || controls::is_opt_out(text) {
                let shops_of_page = self.shops_of_page(page).await?;
                for shop in shops_of_page {
                    if controls::is_data_deletion_request(text) {
                        self.forget_buyer(&shop.id, sender).await?;
                    } else {
                        self.opt_out(&shop.id, sender, "opt-out message").await?;
                    }
                    report.controls += 1;
                }
            }
        }
        let n = report.new_comments as u64;
        self.stats.ingested.fetch_add(n, Ordering::Relaxed);
        self.stats
            .duplicates
            .fetch_add(report.duplicates as u64, Ordering::Relaxed);
        if n > 0 {
            self.notify.notify_one();
        }
        Ok(report)
    }

    async fn shops_of_page(&self, page_id: &str) -> Result<Vec<Shop>, EngineError> {
        Ok(self
            .store
            .shops()
            .await?
            .into_iter()
            .filter(|s| s.page_id == page_id)
            .collect())
    }
}
