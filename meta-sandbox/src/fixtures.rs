//! Seeded fixtures: the app, the user, their Pages, ad accounts and the content behind them.
//!
//! Everything here is a pure function of the seed, so two sandboxes with the same seed
//! hand out the same ids, tokens and post texts.

use std::collections::HashSet;

use fastrand::Rng;

use crate::config::SandboxConfig;

/// The credentials and ids a test needs to talk to the sandbox.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fixtures {
    /// The app id (digits).
    pub app_id: String,
    /// The app secret (32 lowercase hex chars): key of `appsecret_proof`.
    pub app_secret: String,
    /// The fixture user's id.
    pub user_id: String,
    /// The fixture user's name.
    pub user_name: String,
    /// A long-lived user token (expires 60 days after the sandbox started, on its clock).
    pub user_token: String,
    /// The Pages the user manages, in `/me/accounts` order.
    pub pages: Vec<PageFixture>,
    /// The ad accounts the user can manage.
    pub ad_accounts: Vec<AdAccountFixture>,
    /// A valid, single-use Facebook Login code for [`Fixtures::redirect_uri`].
    pub oauth_code: String,
    /// The redirect URI the login code was issued for.
    pub redirect_uri: String,
    /// A Page (not listed in `/me/accounts`) whose `/feed` repeats its `after` cursor
    /// forever after the second page, reproducing a Meta bug.
    pub loop_page_id: String,
    /// A business portfolio the fixture user administers, with owned and client Pages.
    pub business: BusinessFixture,
    /// Instagram Login (graph.instagram.com) credentials.
    pub ig_login: IgLoginFixture,
}

impl std::fmt::Debug for Fixtures {
    // Secrets stay out of logs even in tests.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixtures")
            .field("app_id", &self.app_id)
            .field("app_secret", &"[redacted]")
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .field("user_token", &"[redacted]")
            .field("pages", &self.pages)
            .field("ad_accounts", &self.ad_accounts)
            .field("oauth_code", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("loop_page_id", &self.loop_page_id)
            .field("business", &self.business)
            .field("ig_login", &self.ig_login)
            .finish()
    }
}

/// One Page the fixture user manages.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageFixture {
    /// Page id.
    pub id: String,
    /// Page name.
    pub name: String,
    /// A Page token that never expires (as from `/me/accounts` with a long-lived user token).
    pub access_token: String,
    /// The Instagram business account linked to the Page.
    pub ig_user_id: String,
}

impl std::fmt::Debug for PageFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageFixture")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("access_token", &"[redacted]")
            .field("ig_user_id", &self.ig_user_id)
            .finish()
    }
}

/// One ad account the fixture user can manage.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdAccountFixture {
    /// `act_<digits>`, the form used in paths.
    pub id: String,
    /// The bare digits.
    pub account_id: String,
    /// Account name.
    pub name: String,
}

/// The fixture business portfolio (Business Manager).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BusinessFixture {
    /// Business id.
    pub id: String,
    /// Business name.
    pub name: String,
    /// Pages it owns (`/{id}/owned_pages`): every fixture Page but the last.
    pub owned_page_ids: Vec<String>,
    /// Client Pages it has access to (`/{id}/client_pages`): the last fixture Page
    /// (none when there is only one Page).
    pub client_page_ids: Vec<String>,
}

/// Instagram Login credentials for the Instagram account of the first fixture Page.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IgLoginFixture {
    /// The Instagram professional account the token acts for.
    pub ig_user_id: String,
    /// A short-lived Instagram user token (`IGAA…`), valid one hour of sandbox time from
    /// start; exchange it with `ig_exchange_token`. `SandboxControl::new_ig_login_token`
    /// issues more.
    pub access_token: String,
}

impl std::fmt::Debug for IgLoginFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IgLoginFixture")
            .field("ig_user_id", &self.ig_user_id)
            .field("access_token", &"[redacted]")
            .finish()
    }
}

/// A seeded post, before it becomes a state object.
#[derive(Debug, Clone)]
pub(crate) struct SeedPost {
    pub(crate) id: String,
    pub(crate) message: String,
    pub(crate) created_time: u64,
}

/// A seeded campaign.
#[derive(Debug, Clone)]
pub(crate) struct SeedCampaign {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) objective: &'static str,
}

/// Fixtures plus the content the state is built from.
#[derive(Debug, Clone)]
pub(crate) struct Seeded {
    pub(crate) fixtures: Fixtures,
    pub(crate) loop_page_name: String,
    /// One feed per Page of `fixtures.pages`, then the loop Page's; oldest first.
    pub(crate) feeds: Vec<Vec<SeedPost>>,
    /// One list per ad account.
    pub(crate) campaigns: Vec<Vec<SeedCampaign>>,
}

/// The newest seeded post is at most this old: 2026-03-01T00:00:00Z.
const FEED_END: u64 = 1_772_323_200;

const PAGE_NAMES: &[&str] = &[
    "Sandbox Coffee Roasters",
    "Harbor Street Bikes",
    "Luma Ceramics Studio",
    "Northwind Outdoor Gear",
    "Pixel & Pine Bakery",
    "Tidal Yoga Collective",
    "Copper Kettle Books",
    "Orchard Lane Florist",
];
const FIRST_NAMES: &[&str] = &["Alex", "Sam", "Jordan", "Robin", "Maria", "Kenji", "Ana"];
const LAST_NAMES: &[&str] = &["Rivera", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva"];
const OPENERS: &[&str] = &[
    "New this week:",
    "Weekend special:",
    "Behind the scenes:",
    "Customer favourite:",
    "Just in:",
    "Reminder:",
    "Thank you!",
    "Sneak peek:",
];
const SUBJECTS: &[&str] = &[
    "our spring collection",
    "the morning crew",
    "a limited batch",
    "the workshop",
    "fresh arrivals",
    "our community night",
    "the new menu",
    "handmade gifts",
];
const CLOSERS: &[&str] = &[
    "Come say hi.",
    "Link in bio.",
    "Open until 7 pm.",
    "Only while stocks last.",
    "Tag a friend!",
    "See you Saturday.",
    "Tell us what you think below.",
];
const OBJECTIVES: &[&str] = &[
    "OUTCOME_SALES",
    "OUTCOME_TRAFFIC",
    "OUTCOME_AWARENESS",
    "OUTCOME_ENGAGEMENT",
    "OUTCOME_LEADS",
    "OUTCOME_APP_PROMOTION",
];
const CAMPAIGNS_PER_ACCOUNT: usize = 30;

/// `len` decimal digits, the first non-zero.
pub(crate) fn digits(rng: &mut Rng, len: usize) -> String {
    let mut s = String::with_capacity(len);
    s.push(char::from(b'1' + rng.u8(0..9)));
    for _ in 1..len {
        s.push(char::from(b'0' + rng.u8(0..10)));
    }
    s
}

/// A token shaped like Meta's: `EAAB` and a long alphanumeric tail.
pub(crate) fn token(rng: &mut Rng) -> String {
    let mut s = String::from("EAAB");
    s.extend(std::iter::repeat_with(|| rng.alphanumeric()).take(156));
    s
}

/// A short opaque id, such as `fbtrace_id` values.
pub(crate) fn short_id(rng: &mut Rng, len: usize) -> String {
    std::iter::repeat_with(|| rng.alphanumeric())
        .take(len)
        .collect()
}

fn pick<'a>(rng: &mut Rng, list: &[&'a str]) -> &'a str {
    list.get(rng.usize(0..list.len()))
        .copied()
        .unwrap_or_default()
}

/// Draws ids that are unique within one sandbox.
struct Ids<'r> {
    rng: &'r mut Rng,
    seen: HashSet<String>,
}

impl Ids<'_> {
    fn next(&mut self, prefix: &str, len: usize) -> String {
        loop {
            let id = format!("{prefix}{}", digits(self.rng, len));
            if self.seen.insert(id.clone()) {
                return id;
            }
        }
    }
}

pub(crate) fn seed(config: &SandboxConfig) -> Seeded {
    let mut rng = Rng::with_seed(config.seed);
    let app_id = digits(&mut rng, 15);
    let app_secret: String = std::iter::repeat_with(|| rng.digit(16)).take(32).collect();
    let user_name = format!(
        "{} {}",
        pick(&mut rng, FIRST_NAMES),
        pick(&mut rng, LAST_NAMES)
    );
    let user_token = token(&mut rng);
    let oauth_code = format!("AQ{}", short_id(&mut rng, 118));
    let mut content_rng = rng.fork();
    let mut ids = Ids {
        rng: &mut rng,
        seen: HashSet::from([app_id.clone()]),
    };
    let user_id = ids.next("", 15);

    let mut pages = Vec::with_capacity(config.pages);
    for i in 0..config.pages {
        let id = ids.next("1", 14);
        let ig_user_id = ids.next("17841", 12);
        let base = PAGE_NAMES
            .get(i % PAGE_NAMES.len())
            .copied()
            .unwrap_or("Page");
        let name = if i < PAGE_NAMES.len() {
            base.to_owned()
        } else {
            format!("{base} {}", i / PAGE_NAMES.len() + 1)
        };
        pages.push(PageFixture {
            id,
            name,
            access_token: token(ids.rng),
            ig_user_id,
        });
    }
    let loop_page_id = ids.next("1", 14);

    let mut ad_accounts = Vec::new();
    for name in ["Sandbox Ads (USD)", "Sandbox Ads (EUR)"] {
        let account_id = ids.next("", 15);
        ad_accounts.push(AdAccountFixture {
            id: format!("act_{account_id}"),
            account_id,
            name: name.to_owned(),
        });
    }

    let mut feeds = Vec::with_capacity(pages.len() + 1);
    for page_id in pages
        .iter()
        .map(|p| &p.id)
        .chain(std::iter::once(&loop_page_id))
    {
        // Walk back in time from FEED_END, so index 0 is the oldest after the reverse.
        let mut t = FEED_END - u64::from(content_rng.u32(0..86_400));
        let mut feed = Vec::with_capacity(config.posts_per_page);
        for _ in 0..config.posts_per_page {
            let message = format!(
                "{} {}. {}",
                pick(&mut content_rng, OPENERS),
                pick(&mut content_rng, SUBJECTS),
                pick(&mut content_rng, CLOSERS)
            );
            feed.push(SeedPost {
                id: ids.next(&format!("{page_id}_"), 15),
                message,
                created_time: t,
            });
            t = t.saturating_sub(u64::from(content_rng.u32(3 * 3600..9 * 3600)));
        }
        feed.reverse();
        feeds.push(feed);
    }

    let mut campaigns = Vec::with_capacity(ad_accounts.len());
    for _ in &ad_accounts {
        let mut list = Vec::with_capacity(CAMPAIGNS_PER_ACCOUNT);
        for n in 1..=CAMPAIGNS_PER_ACCOUNT {
            let objective = pick(&mut content_rng, OBJECTIVES);
            let status = if content_rng.u8(0..4) == 0 {
                "PAUSED"
            } else {
                "ACTIVE"
            };
            let theme = pick(&mut content_rng, SUBJECTS);
            list.push(SeedCampaign {
                id: ids.next("120", 15),
                name: format!("{theme} #{n}"),
                status,
                objective,
            });
        }
        campaigns.push(list);
    }

    // Drawn last, and Instagram Login from its own RNG, so every id and token above is
    // the same as before these fixtures existed.
    let business_id = ids.next("", 15);
    let split = pages.len().saturating_sub(1).max(1).min(pages.len());
    let business = BusinessFixture {
        id: business_id,
        name: "Sandbox Holdings".to_owned(),
        owned_page_ids: pages[..split].iter().map(|p| p.id.clone()).collect(),
        client_page_ids: pages[split..].iter().map(|p| p.id.clone()).collect(),
    };
    let mut ig_rng = Rng::with_seed(config.seed ^ 0x1615_10C1_0000_0001);
    let ig_login = IgLoginFixture {
        ig_user_id: pages
            .first()
            .map(|p| p.ig_user_id.clone())
            .unwrap_or_default(),
        access_token: format!("IGAA{}", short_id(&mut ig_rng, 150)),
    };

    Seeded {
        fixtures: Fixtures {
            app_id,
            app_secret,
            user_id,
            user_name,
            user_token,
            pages,
            ad_accounts,
            oauth_code,
            redirect_uri: "https://localhost/meta-sandbox/callback".to_owned(),
            loop_page_id,
            business,
            ig_login,
        },
        loop_page_name: "Sandbox Loop Page".to_owned(),
        feeds,
        campaigns,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_fixtures() {
        let a = seed(&SandboxConfig::default());
        let b = seed(&SandboxConfig::default());
        assert_eq!(a.fixtures, b.fixtures);
        assert_eq!(a.feeds[0][0].message, b.feeds[0][0].message);
        let c = seed(&SandboxConfig::default().seed(43));
        assert_ne!(a.fixtures.user_token, c.fixtures.user_token);
    }

    #[test]
    fn shapes_look_like_meta() {
        let s = seed(&SandboxConfig::default());
        let f = &s.fixtures;
        assert!(f.user_token.starts_with("EAAB"));
        assert!(f.user_token.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(f.app_secret.len(), 32);
        assert!(f.app_secret.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(f.pages.len(), 3);
        assert!(f.ad_accounts[0].id.starts_with("act_"));
        assert_eq!(s.feeds.len(), 4);
        assert_eq!(s.feeds[0].len(), 250);
        assert!(s.feeds[0][0].created_time < s.feeds[0][249].created_time);
        assert!(s.feeds[0][0].id.starts_with(&format!("{}_", f.pages[0].id)));
    }

    #[test]
    fn debug_redacts_secrets() {
        let s = seed(&SandboxConfig::default());
        let dbg = format!("{:?}", s.fixtures);
        assert!(!dbg.contains(&s.fixtures.user_token));
        assert!(!dbg.contains(&s.fixtures.app_secret));
    }
}
