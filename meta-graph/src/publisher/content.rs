//! What a post says and shows, per platform, as plain data stored in
//! [`PostRecord::payload`](super::store::PostRecord::payload), and its validation
//! against the platform's limits **before anything is stored** — reusing the Pages and
//! Instagram validators of this crate.

use serde::{Deserialize, Serialize};

use crate::error::InvalidInput;
use crate::instagram::{MAX_CAROUSEL_ITEMS, MIN_CAROUSEL_ITEMS, validate_caption};
use crate::pages::{FeedPost, MAX_MESSAGE_CHARS, PhotoSource, PhotoUpload};
use crate::publisher::store::{Platform, PostKind};

/// Most photos in one Facebook multi-photo post accepted here (Meta's composer limit).
pub const MAX_FB_PHOTOS: usize = 10;

/// One carousel item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CarouselMedia {
    /// A public URL.
    pub url: String,
    /// A video (else an image).
    #[serde(default)]
    pub video: bool,
}

/// The content of one post for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Content {
    /// A Page feed post with text.
    FbText {
        /// The text.
        message: String,
    },
    /// A Page feed post sharing a link.
    FbLink {
        /// The link (http or https).
        link: String,
        /// Text above it.
        #[serde(default)]
        message: Option<String>,
    },
    /// One photo on a Page (uploaded unpublished, then attached to a feed post).
    FbPhoto {
        /// A public image URL.
        url: String,
        /// The text.
        #[serde(default)]
        message: Option<String>,
    },
    /// Several photos in one feed post.
    FbMultiPhoto {
        /// Public image URLs, 2–10.
        urls: Vec<String>,
        /// The text.
        #[serde(default)]
        message: Option<String>,
    },
    /// A Page video Meta fetches from a URL.
    FbVideo {
        /// A public video URL.
        url: String,
        /// The title.
        #[serde(default)]
        title: Option<String>,
        /// The description.
        #[serde(default)]
        description: Option<String>,
    },
    /// An Instagram feed image.
    IgImage {
        /// A public JPEG URL.
        url: String,
        /// The caption.
        #[serde(default)]
        caption: Option<String>,
    },
    /// An Instagram reel.
    IgReel {
        /// A public video URL.
        url: String,
        /// The caption.
        #[serde(default)]
        caption: Option<String>,
        /// Also show it in the feed.
        #[serde(default)]
        share_to_feed: bool,
    },
    /// An Instagram story.
    IgStory {
        /// A public image or video URL.
        url: String,
        /// A video story (else an image).
        #[serde(default)]
        video: bool,
    },
    /// An Instagram carousel of 2–10 items.
    IgCarousel {
        /// The items.
        items: Vec<CarouselMedia>,
        /// The caption.
        #[serde(default)]
        caption: Option<String>,
    },
}

impl Content {
    /// The post kind.
    #[must_use]
    pub fn kind(&self) -> PostKind {
        match self {
            Content::FbText { .. } => PostKind::FbText,
            Content::FbLink { .. } => PostKind::FbLink,
            Content::FbPhoto { .. } => PostKind::FbPhoto,
            Content::FbMultiPhoto { .. } => PostKind::FbMultiPhoto,
            Content::FbVideo { .. } => PostKind::FbVideo,
            Content::IgImage { .. } => PostKind::IgImage,
            Content::IgReel { .. } => PostKind::IgReel,
            Content::IgStory { .. } => PostKind::IgStory,
            Content::IgCarousel { .. } => PostKind::IgCarousel,
        }
    }

    /// The platform it publishes on.
    #[must_use]
    pub fn platform(&self) -> Platform {
        self.kind().platform()
    }

    /// The payload stored in the post record.
    #[must_use]
    pub fn to_payload(&self) -> serde_json::Value {
        // Serializing plain strings, bools and vectors cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Reads a stored payload back.
    ///
    /// # Errors
    /// [`InvalidInput`] on field `payload` when the JSON is not a content.
    pub fn from_payload(payload: &serde_json::Value) -> Result<Content, InvalidInput> {
        serde_json::from_value(payload.clone())
            .map_err(|e| InvalidInput::new("payload", format!("not a post content: {e}")))
    }

    /// Checks the content against the platform's limits, with `now_unix` as the time
    /// (the Pages validators take it for scheduling rules; the publisher schedules itself,
    /// so no Meta-side schedule is set).
    ///
    /// # Errors
    /// [`InvalidInput`] naming the field and the rule: an empty or over-long message
    /// (Facebook: 63,206 characters), a caption over 2,200 characters or with more than
    /// 30 hashtags or 20 mentions, a carousel outside 2–10 items, a URL that is not an
    /// absolute http(s) URL.
    pub fn validate(&self, now_unix: u64) -> Result<(), InvalidInput> {
        match self {
            Content::FbText { message } => FeedPost {
                message: Some(message.clone()),
                ..FeedPost::default()
            }
            .validate(now_unix),
            Content::FbLink { link, message } => FeedPost {
                message: message.clone(),
                link: Some(link.clone()),
                ..FeedPost::default()
            }
            .validate(now_unix),
            Content::FbPhoto { url, message } => {
                check_fb_message(message.as_deref())?;
                PhotoUpload::new(PhotoSource::url(url.clone()))
                    .validate(now_unix)
                    .map_err(|e| InvalidInput::new("url", e.reason()))
            }
            Content::FbMultiPhoto { urls, message } => {
                check_fb_message(message.as_deref())?;
                if urls.len() < 2 || urls.len() > MAX_FB_PHOTOS {
                    return Err(InvalidInput::new(
                        "urls",
                        format!(
                            "a multi-photo post needs 2–{MAX_FB_PHOTOS} photos, got {}",
                            urls.len()
                        ),
                    ));
                }
                for (i, url) in urls.iter().enumerate() {
                    PhotoUpload::new(PhotoSource::url(url.clone()))
                        .validate(now_unix)
                        .map_err(|e| InvalidInput::new(format!("urls[{i}]"), e.reason()))?;
                }
                Ok(())
            }
            Content::FbVideo {
                url,
                title,
                description,
            } => {
                check_url("url", url)?;
                check_fb_message(title.as_deref())?;
                check_fb_message(description.as_deref())
            }
            Content::IgImage { url, caption } | Content::IgReel { url, caption, .. } => {
                check_url("url", url)?;
                check_caption(caption.as_deref())
            }
            Content::IgStory { url, .. } => check_url("url", url),
            Content::IgCarousel { items, caption } => {
                if items.len() < MIN_CAROUSEL_ITEMS || items.len() > MAX_CAROUSEL_ITEMS {
                    return Err(InvalidInput::new(
                        "items",
                        format!(
                            "a carousel needs {MIN_CAROUSEL_ITEMS}–{MAX_CAROUSEL_ITEMS} items, got {}",
                            items.len()
                        ),
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    check_url(&format!("items[{i}].url"), &item.url)?;
                }
                check_caption(caption.as_deref())
            }
        }
    }
}

fn check_fb_message(message: Option<&str>) -> Result<(), InvalidInput> {
    if let Some(m) = message {
        let n = m.chars().count();
        if n > MAX_MESSAGE_CHARS {
            return Err(InvalidInput::new(
                "message",
                format!("{n} characters; Facebook allows {MAX_MESSAGE_CHARS}"),
            ));
        }
    }
    Ok(())
}

fn check_caption(caption: Option<&str>) -> Result<(), InvalidInput> {
    caption.map_or(Ok(()), validate_caption)
}

fn check_url(field: &str, value: &str) -> Result<(), InvalidInput> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(InvalidInput::new(
            field,
            format!("{value:?} is not an absolute http(s) URL"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_740_830_400;

    #[test]
    fn payload_round_trip_and_kinds() {
        let all = [
            Content::FbText {
                message: "hola".into(),
            },
            Content::FbLink {
                link: "https://example.com".into(),
                message: None,
            },
            Content::FbPhoto {
                url: "https://example.com/a.jpg".into(),
                message: Some("a".into()),
            },
            Content::FbMultiPhoto {
                urls: vec![
                    "https://example.com/a.jpg".into(),
                    "https://example.com/b.jpg".into(),
                ],
                message: None,
            },
            Content::FbVideo {
                url: "https://example.com/v.mp4".into(),
                title: None,
                description: None,
            },
            Content::IgImage {
                url: "https://example.com/a.jpg".into(),
                caption: Some("#uno".into()),
            },
            Content::IgReel {
                url: "https://example.com/r.mp4".into(),
                caption: None,
                share_to_feed: true,
            },
            Content::IgStory {
                url: "https://example.com/s.jpg".into(),
                video: false,
            },
            Content::IgCarousel {
                items: vec![
                    CarouselMedia {
                        url: "https://example.com/1.jpg".into(),
                        video: false,
                    },
                    CarouselMedia {
                        url: "https://example.com/2.mp4".into(),
                        video: true,
                    },
                ],
                caption: None,
            },
        ];
        for (c, kind) in all.iter().zip(PostKind::ALL) {
            assert_eq!(c.kind(), *kind);
            assert_eq!(Content::from_payload(&c.to_payload()).unwrap(), *c);
            c.validate(NOW).unwrap();
        }
    }

    #[test]
    fn platform_limits() {
        let long = "a".repeat(2201);
        let e = Content::IgImage {
            url: "https://example.com/a.jpg".into(),
            caption: Some(long),
        }
        .validate(NOW)
        .unwrap_err();
        assert_eq!(e.field(), "caption");
        let tags: String = (0..31).map(|i| format!("#t{i} ")).collect();
        assert!(
            Content::IgReel {
                url: "https://example.com/a.mp4".into(),
                caption: Some(tags),
                share_to_feed: false
            }
            .validate(NOW)
            .is_err()
        );
        let item = CarouselMedia {
            url: "https://example.com/1.jpg".into(),
            video: false,
        };
        for n in [0_usize, 1, 11] {
            let e = Content::IgCarousel {
                items: vec![item.clone(); n],
                caption: None,
            }
            .validate(NOW)
            .unwrap_err();
            assert_eq!(e.field(), "items", "{n} items");
        }
        for n in [2_usize, 10] {
            Content::IgCarousel {
                items: vec![item.clone(); n],
                caption: None,
            }
            .validate(NOW)
            .unwrap();
        }
        let e = Content::FbText {
            message: "x".repeat(MAX_MESSAGE_CHARS + 1),
        }
        .validate(NOW)
        .unwrap_err();
        assert_eq!(e.field(), "message");
        assert!(
            Content::FbText {
                message: "   ".into()
            }
            .validate(NOW)
            .is_err()
        );
        let e = Content::IgStory {
            url: "ftp://example.com/a.jpg".into(),
            video: false,
        }
        .validate(NOW)
        .unwrap_err();
        assert_eq!(e.field(), "url");
        let e = Content::FbLink {
            link: "not a url".into(),
            message: None,
        }
        .validate(NOW)
        .unwrap_err();
        assert_eq!(e.field(), "link");
    }
}
