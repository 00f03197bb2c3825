//! [`AccountStore`] on `tenants` and `accounts`.

use meta_graph::publisher::store::{
    Account, AccountStore, ApprovalSettings, GovernanceSettings, Platform, Tenant,
};
use meta_graph::store::{StoreError, StoreFuture};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::convert::{i64_to_u32, i64_to_u64, u64_to_i64};
use crate::error::{PgStoreError, Result};

const TENANT_COLUMNS: &str = "id, name, kill_switch, created_at";
const ACCOUNT_COLUMNS: &str = "id, tenant_id, platform, meta_id, name, connection_id, timezone, \
     daily_cap, min_gap_secs, quiet_start_minute, quiet_end_minute, auto_approve, \
     allow_self_approval, kill_switch, created_at";

fn tenant_from_row(row: &PgRow) -> Result<Tenant> {
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        kill_switch: row.try_get("kill_switch")?,
        created_at: row.try_get("created_at")?,
    })
}

fn minute(field: &str, v: Option<i32>) -> Result<Option<u16>> {
    v.map(|m| {
        u16::try_from(m)
            .map_err(|_| PgStoreError::corrupt(format!("{field} is out of range ({m})")))
    })
    .transpose()
}

fn account_from_row(row: &PgRow) -> Result<Account> {
    let platform: String = row.try_get("platform")?;
    Ok(Account {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        platform: Platform::parse(&platform)
            .map_err(|_| PgStoreError::corrupt(format!("unknown platform `{platform}`")))?,
        meta_id: row.try_get("meta_id")?,
        name: row.try_get("name")?,
        connection_id: row.try_get("connection_id")?,
        timezone: row.try_get("timezone")?,
        governance: GovernanceSettings {
            daily_cap: i64_to_u32("daily_cap", row.try_get("daily_cap")?)?,
            min_gap_secs: i64_to_u64("min_gap_secs", row.try_get("min_gap_secs")?)?,
            quiet_start_minute: minute("quiet_start_minute", row.try_get("quiet_start_minute")?)?,
            quiet_end_minute: minute("quiet_end_minute", row.try_get("quiet_end_minute")?)?,
        },
        approval: ApprovalSettings {
            auto_approve: row.try_get("auto_approve")?,
            allow_self_approval: row.try_get("allow_self_approval")?,
        },
        kill_switch: row.try_get("kill_switch")?,
        created_at: row.try_get("created_at")?,
    })
}

impl PgStore {
    async fn put_tenant_row(&self, t: &Tenant) -> Result<()> {
        // `created_at` is kept from the first insert, like the in-memory store.
        sqlx::query(
            "INSERT INTO tenants (id, name, kill_switch, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kill_switch = EXCLUDED.kill_switch",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.kill_switch)
        .bind(t.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn get_tenant_row(&self, id: &str) -> Result<Option<Tenant>> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    async fn list_tenant_rows(&self) -> Result<Vec<Tenant>> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY id COLLATE \"C\"");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(tenant_from_row).collect()
    }

    async fn set_kill_switch(&self, table: Table, id: &str, on: bool) -> Result<bool> {
        let sql = match table {
            Table::Tenants => "UPDATE tenants SET kill_switch = $2 WHERE id = $1",
            Table::Accounts => "UPDATE accounts SET kill_switch = $2 WHERE id = $1",
        };
        let done = sqlx::query(sql)
            .bind(id)
            .bind(on)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_account_row(&self, a: &Account) -> Result<()> {
        let g = &a.governance;
        // An upsert by id; a different account with the same (tenant, platform,
        // meta_id) hits the unique constraint, which maps to Conflict.
        sqlx::query(
            "INSERT INTO accounts (id, tenant_id, platform, meta_id, name, connection_id, timezone,
                                   daily_cap, min_gap_secs, quiet_start_minute, quiet_end_minute,
                                   auto_approve, allow_self_approval, kill_switch, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (id) DO UPDATE SET
                 tenant_id = EXCLUDED.tenant_id, platform = EXCLUDED.platform,
                 meta_id = EXCLUDED.meta_id, name = EXCLUDED.name,
                 connection_id = EXCLUDED.connection_id, timezone = EXCLUDED.timezone,
                 daily_cap = EXCLUDED.daily_cap, min_gap_secs = EXCLUDED.min_gap_secs,
                 quiet_start_minute = EXCLUDED.quiet_start_minute,
                 quiet_end_minute = EXCLUDED.quiet_end_minute,
                 auto_approve = EXCLUDED.auto_approve,
                 allow_self_approval = EXCLUDED.allow_self_approval,
                 kill_switch = EXCLUDED.kill_switch",
        )
        .bind(&a.id)
        .bind(&a.tenant_id)
        .bind(a.platform.as_str())
        .bind(&a.meta_id)
        .bind(&a.name)
        .bind(&a.connection_id)
        .bind(&a.timezone)
        .bind(i64::from(g.daily_cap))
        .bind(u64_to_i64("min_gap_secs", g.min_gap_secs)?)
        .bind(g.quiet_start_minute.map(i32::from))
        .bind(g.quiet_end_minute.map(i32::from))
        .bind(a.approval.auto_approve)
        .bind(a.approval.allow_self_approval)
        .bind(a.kill_switch)
        .bind(a.created_at)
        .execute(self.pool())
        .await
        .map_err(|e| {
            let e = PgStoreError::from(e);
            if e.is_conflict() {
                PgStoreError::new(
                    e.class(),
                    format!(
                        "tenant {} already has {} account {}",
                        a.tenant_id, a.platform, a.meta_id
                    ),
                )
            } else {
                e
            }
        })?;
        Ok(())
    }

    async fn get_account_row(&self, id: &str) -> Result<Option<Account>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn list_account_rows(&self, tenant_id: Option<&str>) -> Result<Vec<Account>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts
             WHERE ($1::text IS NULL OR tenant_id = $1)
             ORDER BY id COLLATE \"C\""
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(tenant_id)
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(account_from_row).collect()
    }
}

/// Which table a kill switch lives in (the SQL is fixed per table, never built from
/// input).
#[derive(Debug, Clone, Copy)]
enum Table {
    Tenants,
    Accounts,
}

impl AccountStore for PgStore {
    fn put_tenant<'a>(&'a self, tenant: &'a Tenant) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.put_tenant_row(tenant).await?) })
    }

    fn get_tenant<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Tenant>> {
        Box::pin(async move { Ok(self.get_tenant_row(id).await?) })
    }

    fn list_tenants(&self) -> StoreFuture<'_, Vec<Tenant>> {
        Box::pin(async move { Ok(self.list_tenant_rows().await?) })
    }

    fn set_tenant_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if self.set_kill_switch(Table::Tenants, id, on).await? {
                Ok(())
            } else {
                Err(StoreError::NotFound(format!("tenant {id}")))
            }
        })
    }

    fn put_account<'a>(&'a self, account: &'a Account) -> StoreFuture<'a, ()> {
        Box::pin(async move { Ok(self.put_account_row(account).await?) })
    }

    fn get_account<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Account>> {
        Box::pin(async move { Ok(self.get_account_row(id).await?) })
    }

    fn list_accounts<'a>(&'a self, tenant_id: Option<&'a str>) -> StoreFuture<'a, Vec<Account>> {
        Box::pin(async move { Ok(self.list_account_rows(tenant_id).await?) })
    }

    fn set_account_kill_switch<'a>(&'a self, id: &'a str, on: bool) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if self.set_kill_switch(Table::Accounts, id, on).await? {
                Ok(())
            } else {
                Err(StoreError::NotFound(format!("account {id}")))
            }
        })
    }
}
