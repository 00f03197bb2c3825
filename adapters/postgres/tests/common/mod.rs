//! Test harness: a real PostgreSQL from `META_TEST_DATABASE_URL`, one fresh schema per
//! store (random name), dropped afterwards — so tests run in parallel without seeing
//! each other, and leave the database as they found it.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::{Arc, Mutex};

use meta_store_postgres::{PgStore, PgStoreOptions};
use sqlx::postgres::PgPoolOptions;

/// The one line printed when the database is not configured.
pub const SKIP_LINE: &str = "skipped: META_TEST_DATABASE_URL is not set (PostgreSQL tests)";

/// The test database URL, or `None` after printing [`SKIP_LINE`].
pub fn database_url() -> Option<String> {
    match std::env::var("META_TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            println!("{SKIP_LINE}");
            None
        }
    }
}

/// A schema name no other test uses.
pub fn random_schema() -> String {
    format!("meta_test_{:016x}", fastrand::u64(..))
}

/// Schemas created by one test, dropped by [`Schemas::drop_all`].
#[derive(Debug, Clone)]
pub struct Schemas {
    url: String,
    names: Arc<Mutex<Vec<String>>>,
}

impl Schemas {
    pub fn new(url: &str) -> Self {
        Schemas {
            url: url.to_owned(),
            names: Arc::default(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// A store on a brand-new schema (migrated), remembered for clean-up.
    pub async fn fresh_store(&self) -> PgStore {
        let schema = random_schema();
        self.names.lock().unwrap().push(schema.clone());
        self.store_on(&schema).await
    }

    /// Another store (another pool: another "instance") on `schema`.
    pub async fn store_on(&self, schema: &str) -> PgStore {
        {
            let mut names = self.names.lock().unwrap();
            if !names.iter().any(|n| n == schema) {
                names.push(schema.to_owned());
            }
        }
        PgStoreOptions::new(self.url.clone())
            .schema(schema)
            .max_connections(4)
            .connect()
            .await
            .expect("connect to META_TEST_DATABASE_URL")
    }

    /// Drops every schema this test created.
    pub async fn drop_all(&self) {
        let names: Vec<String> = std::mem::take(&mut *self.names.lock().unwrap());
        if names.is_empty() {
            return;
        }
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&self.url)
            .await
            .expect("admin connection");
        for n in names {
            // Names come from `random_schema` or the test itself: [a-z0-9_] only.
            let sql = format!("DROP SCHEMA IF EXISTS \"{n}\" CASCADE");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                .execute(&admin)
                .await
                .expect("drop schema");
        }
        admin.close().await;
    }
}

/// Runs `body` with a [`Schemas`], then drops the schemas whether `body` passed or
/// panicked (re-raising the panic afterwards). Returns without running anything,
/// after printing [`SKIP_LINE`], when no database is configured.
pub async fn with_database<F, Fut>(body: F)
where
    F: FnOnce(Schemas) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(url) = database_url() else { return };
    let schemas = Schemas::new(&url);
    let outcome = tokio::spawn(body(schemas.clone())).await;
    schemas.drop_all().await;
    if let Err(e) = outcome {
        if e.is_panic() {
            std::panic::resume_unwind(e.into_panic());
        }
        panic!("test task failed: {e}");
    }
}
