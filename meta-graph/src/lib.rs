//! # meta-graph
//!
//! Pages, Instagram, Messenger, comments, live video, insights, OAuth and the token
//! lifecycle, and typed webhook events, on top of [`meta_core`]. (Crate docs are
//! completed when the issue lands.)

pub mod comments;
pub mod error;
pub mod fields;
pub mod generated;
pub mod insights;
pub mod instagram;
pub mod lifecycle;
pub mod live;
pub mod messenger;
pub mod oauth;
pub mod pages;
pub mod serde_util;
pub mod webhooks;

pub use error::{ContainerFailure, Error, InvalidInput, PolicyRule, PolicyViolation, Result};

/// Adds the meta-graph areas to a [`meta_core::Client`]:
/// `client.pages()`, `client.instagram()`, `client.comments()`, `client.live_videos()`,
/// `client.messenger()`, `client.insights()`. Each returns a cheap handle holding a
/// clone of the client, so per-tenant clients (`Client::with_access_token`) work the
/// same way.
pub trait GraphExt {
    /// Facebook Page publishing.
    fn pages(&self) -> pages::Pages;
    /// Instagram content publishing.
    fn instagram(&self) -> instagram::Instagram;
    /// Comments on Page posts, Instagram media and live videos.
    fn comments(&self) -> comments::Comments;
    /// Live videos.
    fn live_videos(&self) -> live::LiveVideos;
    /// Messenger and Instagram messaging.
    fn messenger(&self) -> messenger::Messenger;
    /// Page, post and Instagram insights.
    fn insights(&self) -> insights::Insights;
}

impl GraphExt for meta_core::Client {
    fn pages(&self) -> pages::Pages {
        pages::Pages::new(self.clone())
    }
    fn instagram(&self) -> instagram::Instagram {
        instagram::Instagram::new(self.clone())
    }
    fn comments(&self) -> comments::Comments {
        comments::Comments::new(self.clone())
    }
    fn live_videos(&self) -> live::LiveVideos {
        live::LiveVideos::new(self.clone())
    }
    fn messenger(&self) -> messenger::Messenger {
        messenger::Messenger::new(self.clone())
    }
    fn insights(&self) -> insights::Insights {
        insights::Insights::new(self.clone())
    }
}
