//! The sandbox's mutable world: objects keyed by id, edges, tokens, meters, faults, the log.
//!
//! All of it sits in one [`State`] behind one mutex. Handlers are synchronous and never
//! hold the lock across an `.await`, so one lock is simple and fast enough for a fake.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fastrand::Rng;

use crate::config::SandboxConfig;
use crate::faults::FaultEngine;
use crate::fixtures::{self, Fixtures, Seeded};
use crate::tokens::{DATA_ACCESS_SECS, LONG_LIVED_SECS, TokenInfo, TokenKind};
use crate::usage::Usage;

/// One request the sandbox saw. Tokens and query strings are never recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// HTTP method (upper case); for batch items, the item's method.
    pub method: String,
    /// The path without the query, as sent (`/v26.0/123/feed`); batch items get a leading `/`.
    pub path: String,
    /// Whether a write took effect (a post created or deleted, a login code consumed...).
    pub applied: bool,
    /// The status sent; `None` when the connection was dropped or the batch slot was `null`.
    pub status: Option<u16>,
    /// Whether this was an item inside a batch request.
    pub in_batch: bool,
}

/// The fixture user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// A Facebook Page.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) category: &'static str,
    pub(crate) category_id: &'static str,
    /// Its never-expiring token.
    pub(crate) access_token: String,
    pub(crate) ig_user_id: Option<String>,
    pub(crate) fan_count: u64,
}

/// A post in a Page feed.
#[derive(Debug, Clone)]
pub(crate) struct Post {
    pub(crate) id: String,
    pub(crate) page_id: String,
    /// Creation order; the pagination key.
    pub(crate) seq: u64,
    pub(crate) message: Option<String>,
    pub(crate) link: Option<String>,
    pub(crate) created_time: u64,
    pub(crate) published: bool,
    pub(crate) scheduled_publish_time: Option<u64>,
}

impl Post {
    /// Published, or scheduled and due on the sandbox clock.
    pub(crate) fn visible(&self, now: u64) -> bool {
        self.published || self.scheduled_publish_time.is_some_and(|t| t <= now)
    }
}

/// An Instagram business account linked to a Page.
#[derive(Debug, Clone)]
pub(crate) struct IgUser {
    pub(crate) id: String,
    pub(crate) username: String,
}

/// An ad account.
#[derive(Debug, Clone)]
pub(crate) struct AdAccount {
    pub(crate) account_id: String,
    pub(crate) name: String,
    pub(crate) currency: &'static str,
}

/// A campaign.
#[derive(Debug, Clone)]
pub(crate) struct Campaign {
    pub(crate) id: String,
    pub(crate) account_id: String,
    pub(crate) seq: u64,
    pub(crate) name: String,
    pub(crate) status: &'static str,
    pub(crate) objective: &'static str,
}

/// Every node the Graph knows, keyed by id in [`State::objects`].
#[derive(Debug, Clone)]
pub(crate) enum Object {
    User(User),
    Page(Page),
    Post(Post),
    IgUser(IgUser),
    AdAccount(AdAccount),
    Campaign(Campaign),
    Business(crate::routes::business::Business),
    IgContainer(crate::routes::instagram::IgContainer),
    IgMedia(crate::routes::instagram::IgMedia),
    Photo(crate::routes::pages::Photo),
    Video(crate::routes::pages::Video),
    Comment(crate::routes::comments::CommentNode),
    LiveVideo(crate::routes::live::LiveVideoNode),
}

/// A login code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(crate) struct LoginCode {
    pub(crate) redirect_uri: String,
    pub(crate) used: bool,
}

/// The mutable world.
#[derive(Debug)]
pub(crate) struct State {
    /// Added to the real clock (see `SandboxControl::advance_clock`).
    pub(crate) clock_offset: Duration,
    pub(crate) objects: HashMap<String, Object>,
    /// Edge lists keyed `"<id>/<edge>"`, ids newest first (`feed`, `campaigns`, `accounts`).
    pub(crate) edges: HashMap<String, Vec<String>>,
    pub(crate) tokens: HashMap<String, TokenInfo>,
    pub(crate) login_codes: HashMap<String, LoginCode>,
    /// Page tokens minted from short-lived user tokens, keyed (user token, page id).
    pub(crate) derived_page_tokens: HashMap<(String, String), String>,
    pub(crate) usage: Usage,
    pub(crate) faults: FaultEngine,
    pub(crate) log: Vec<RecordedRequest>,
    /// Ids and tokens minted at run time.
    pub(crate) rng: Rng,
    /// Trace and request ids (kept apart so they never shift minted ids).
    pub(crate) trace_rng: Rng,
    pub(crate) next_seq: u64,
    minted: HashSet<String>,
    /// Instagram Login tokens and revoked tokens.
    pub(crate) iglogin: crate::routes::iglogin::IgLoginState,
    /// Instagram publishing history (quota window).
    pub(crate) instagram: crate::routes::instagram::IgState,
    /// Page publishing: video upload sessions.
    pub(crate) pages: crate::routes::pages::PagesState,
    /// Comments and live videos (people who commented, IG media with comments).
    pub(crate) comments: crate::routes::comments::CommentsState,
    /// Messenger: inbound windows, private replies, sent messages.
    pub(crate) messenger: crate::routes::messenger::MessengerState,
}

/// The current unix time plus an offset, in milliseconds.
pub(crate) fn clock_ms(offset: Duration) -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    u64::try_from((real + offset).as_millis()).unwrap_or(u64::MAX)
}

impl State {
    /// The sandbox clock, unix seconds.
    pub(crate) fn now(&self) -> u64 {
        self.now_ms() / 1000
    }

    /// The sandbox clock, unix milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        clock_ms(self.clock_offset)
    }

    /// A fresh id with `len` digits after `prefix`, unique in this sandbox.
    pub(crate) fn mint_id(&mut self, prefix: &str, len: usize) -> String {
        loop {
            let id = format!("{prefix}{}", fixtures::digits(&mut self.rng, len));
            if !self.objects.contains_key(&id) && self.minted.insert(id.clone()) {
                return id;
            }
        }
    }

    /// A fresh token, registered with `info`.
    pub(crate) fn mint_token(&mut self, info: TokenInfo) -> String {
        loop {
            let t = fixtures::token(&mut self.rng);
            if !self.tokens.contains_key(&t) {
                self.tokens.insert(t.clone(), info);
                return t;
            }
        }
    }

    /// A fresh single-use login code for `redirect_uri`.
    pub(crate) fn mint_login_code(&mut self, redirect_uri: &str) -> String {
        let code = format!("AQ{}", fixtures::short_id(&mut self.rng, 118));
        self.login_codes.insert(
            code.clone(),
            LoginCode {
                redirect_uri: redirect_uri.to_owned(),
                used: false,
            },
        );
        code
    }

    /// A `fbtrace_id`-like id.
    pub(crate) fn trace_id(&mut self) -> String {
        fixtures::short_id(&mut self.trace_rng, 11)
    }

    /// An `x-fb-request-id`-like id.
    pub(crate) fn request_id(&mut self) -> String {
        format!("A{}", fixtures::short_id(&mut self.trace_rng, 23))
    }

    pub(crate) fn page(&self, id: &str) -> Option<&Page> {
        match self.objects.get(id) {
            Some(Object::Page(p)) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn post(&self, id: &str) -> Option<&Post> {
        match self.objects.get(id) {
            Some(Object::Post(p)) => Some(p),
            _ => None,
        }
    }

    pub(crate) fn edge(&self, id: &str, edge: &str) -> &[String] {
        self.edges
            .get(&format!("{id}/{edge}"))
            .map_or(&[], Vec::as_slice)
    }

    pub(crate) fn edge_mut(&mut self, id: &str, edge: &str) -> &mut Vec<String> {
        self.edges.entry(format!("{id}/{edge}")).or_default()
    }

    /// Builds the world from the seeded fixtures.
    pub(crate) fn new(config: &SandboxConfig, seeded: &Seeded) -> Self {
        let f = &seeded.fixtures;
        let mut st = State {
            clock_offset: Duration::ZERO,
            objects: HashMap::new(),
            edges: HashMap::new(),
            tokens: HashMap::new(),
            login_codes: HashMap::new(),
            derived_page_tokens: HashMap::new(),
            usage: Usage::default(),
            faults: FaultEngine::new(config.faults.clone(), config.seed),
            log: Vec::new(),
            rng: Rng::with_seed(config.seed ^ 0x0123_4567_89AB_CDEF),
            trace_rng: Rng::with_seed(config.seed.rotate_left(17) ^ 0x7EAC_E000),
            next_seq: 1,
            minted: HashSet::new(),
            iglogin: Default::default(),
            instagram: Default::default(),
            pages: Default::default(),
            comments: Default::default(),
            messenger: Default::default(),
        };
        let now = st.now();
        st.objects.insert(
            f.user_id.clone(),
            Object::User(User {
                id: f.user_id.clone(),
                name: f.user_name.clone(),
            }),
        );
        st.tokens.insert(
            f.user_token.clone(),
            TokenInfo {
                kind: TokenKind::User,
                user_id: f.user_id.clone(),
                page_id: None,
                issued_at: now,
                expires_at: Some(now + LONG_LIVED_SECS),
                data_access_expires_at: now + DATA_ACCESS_SECS,
            },
        );
        st.login_codes.insert(
            f.oauth_code.clone(),
            LoginCode {
                redirect_uri: f.redirect_uri.clone(),
                used: false,
            },
        );
        const CATEGORIES: &[(&str, &str)] = &[
            ("Coffee Shop", "1665"),
            ("Bicycle Shop", "2226"),
            ("Art Studio", "1600"),
            ("Outdoor & Sporting Goods Company", "2244"),
            ("Bakery", "1601"),
        ];
        let mut page_ids: Vec<(String, String, Option<String>, String)> = f
            .pages
            .iter()
            .map(|p| {
                (
                    p.id.clone(),
                    p.name.clone(),
                    Some(p.ig_user_id.clone()),
                    p.access_token.clone(),
                )
            })
            .collect();
        // The loop Page gets a token too, minted from the run-time RNG.
        let loop_token = st.mint_token(TokenInfo {
            kind: TokenKind::Page,
            user_id: f.user_id.clone(),
            page_id: Some(f.loop_page_id.clone()),
            issued_at: now,
            expires_at: None,
            data_access_expires_at: now + DATA_ACCESS_SECS,
        });
        page_ids.push((
            f.loop_page_id.clone(),
            seeded.loop_page_name.clone(),
            None,
            loop_token,
        ));
        for (i, ((id, name, ig, token), feed)) in
            page_ids.into_iter().zip(&seeded.feeds).enumerate()
        {
            let (category, category_id) = CATEGORIES[i % CATEGORIES.len()];
            if let Some(ig) = &ig {
                let username = name
                    .to_ascii_lowercase()
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "");
                st.objects.insert(
                    ig.clone(),
                    Object::IgUser(IgUser {
                        id: ig.clone(),
                        username,
                    }),
                );
            }
            st.tokens.entry(token.clone()).or_insert_with(|| TokenInfo {
                kind: TokenKind::Page,
                user_id: f.user_id.clone(),
                page_id: Some(id.clone()),
                issued_at: now,
                expires_at: None,
                data_access_expires_at: now + DATA_ACCESS_SECS,
            });
            let mut post_ids = Vec::with_capacity(feed.len());
            for p in feed {
                let seq = st.next_seq;
                st.next_seq += 1;
                st.objects.insert(
                    p.id.clone(),
                    Object::Post(Post {
                        id: p.id.clone(),
                        page_id: id.clone(),
                        seq,
                        message: Some(p.message.clone()),
                        link: None,
                        created_time: p.created_time,
                        published: true,
                        scheduled_publish_time: None,
                    }),
                );
                post_ids.push(p.id.clone());
            }
            post_ids.reverse();
            *st.edge_mut(&id, "feed") = post_ids;
            st.objects.insert(
                id.clone(),
                Object::Page(Page {
                    id: id.clone(),
                    name,
                    category,
                    category_id,
                    access_token: token,
                    ig_user_id: ig,
                    fan_count: 1000 + 137 * u64::try_from(i).unwrap_or(0),
                }),
            );
        }
        let accounts: Vec<String> = f.pages.iter().map(|p| p.id.clone()).collect();
        *st.edge_mut(&f.user_id, "accounts") = accounts;
        for (acct, campaigns) in f.ad_accounts.iter().zip(&seeded.campaigns) {
            st.objects.insert(
                acct.id.clone(),
                Object::AdAccount(AdAccount {
                    account_id: acct.account_id.clone(),
                    name: acct.name.clone(),
                    currency: if acct.name.contains("EUR") {
                        "EUR"
                    } else {
                        "USD"
                    },
                }),
            );
            let mut ids = Vec::with_capacity(campaigns.len());
            for (n, c) in campaigns.iter().enumerate() {
                st.objects.insert(
                    c.id.clone(),
                    Object::Campaign(Campaign {
                        id: c.id.clone(),
                        account_id: acct.account_id.clone(),
                        seq: u64::try_from(n).unwrap_or(0) + 1,
                        name: c.name.clone(),
                        status: c.status,
                        objective: c.objective,
                    }),
                );
                ids.push(c.id.clone());
            }
            ids.reverse();
            *st.edge_mut(&acct.id, "campaigns") = ids;
        }
        crate::routes::comments::seed(&mut st, config, seeded);
        crate::routes::business::seed(&mut st, f);
        crate::routes::iglogin::seed(&mut st, f, now);
        st
    }
}

/// What the server and every control handle share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    pub(crate) fixtures: Fixtures,
    pub(crate) base_url: String,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(config: SandboxConfig, seeded: &Seeded, base_url: String) -> Self {
        let state = State::new(&config, seeded);
        Self {
            config,
            fixtures: seeded.fixtures.clone(),
            base_url,
            state: Mutex::new(state),
        }
    }

    /// Locks the state. A panic elsewhere cannot leave it half-written in a way that
    /// matters to a fake, so a poisoned lock is simply taken over.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
