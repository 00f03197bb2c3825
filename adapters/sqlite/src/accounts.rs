//! [`AccountStore`]: tenants and their Meta accounts in `tenants` and `accounts`.

use meta_graph::publisher::store::{
    Account, AccountStore, ApprovalSettings, GovernanceSettings, Platform, Tenant,
};
use meta_graph::store::StoreFuture;
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::convert::{i64_to_u64, u64_to_i64};
use crate::error::{SqliteError, db};

macro_rules! select_accounts {
    ($tail:literal) => {
        concat!(
            "SELECT id, tenant_id, platform, meta_id, name, connection_id, timezone, ",
            "daily_cap, min_gap_secs, quiet_start_minute, quiet_end_minute, auto_approve, ",
            "allow_self_approval, kill_switch, created_at FROM accounts ",
            $tail
        )
    };
}

fn tenant_from_row(r: &SqliteRow) -> Result<Tenant, SqliteError> {
    let e = || db("read tenant");
    Ok(Tenant {
        id: r.try_get("id").map_err(e())?,
        name: r.try_get("name").map_err(e())?,
        kill_switch: r.try_get("kill_switch").map_err(e())?,
        created_at: r.try_get("created_at").map_err(e())?,
    })
}

fn minute(field: &'static str, v: Option<i64>) -> Result<Option<u16>, SqliteError> {
    v.map(|v| {
        u16::try_from(v).map_err(|_| SqliteError::invalid(field, format!("stored value {v}")))
    })
    .transpose()
}

fn account_from_row(r: &SqliteRow) -> Result<Account, SqliteError> {
    let e = || db("read account");
    let platform: String = r.try_get("platform").map_err(e())?;
    let daily_cap: i64 = r.try_get("daily_cap").map_err(e())?;
    Ok(Account {
        id: r.try_get("id").map_err(e())?,
        tenant_id: r.try_get("tenant_id").map_err(e())?,
        platform: Platform::parse(&platform)
            .map_err(|err| SqliteError::invalid("platform", err.to_string()))?,
        meta_id: r.try_get("meta_id").map_err(e())?,
        name: r.try_get("name").map_err(e())?,
        connection_id: r.try_get("connection_id").map_err(e())?,
        timezone: r.try_get("timezone").map_err(e())?,
        governance: GovernanceSettings {
            daily_cap: u32::try_from(daily_cap).map_err(|_| {
                SqliteError::invalid("daily_cap", format!("stored value {daily_cap}"))
            })?,
            min_gap_secs: i64_to_u64("min_gap_secs", r.try_get("min_gap_secs").map_err(e())?)?,
            quiet_start_minute: minute(
                "quiet_start_minute",
                r.try_get("quiet_start_minute").map_err(e())?,
            )?,
            quiet_end_minute: minute(
                "quiet_end_minute",
                r.try_get("quiet_end_minute").map_err(e())?,
            )?,
        },
        approval: ApprovalSettings {
            auto_approve: r.try_get("auto_approve").map_err(e())?,
            allow_self_approval: r.try_get("allow_self_approval").map_err(e())?,
        },
        kill_switch: r.try_get("kill_switch").map_err(e())?,
        created_at: r.try_get("created_at").map_err(e())?,
    })
}

impl SqliteStore {
    async fn put_tenant_row(&self, t: &Tenant) -> Result<(), SqliteError> {
        let _turn = self.write_lock().await;
        // An upsert by id; `created_at` is kept from the first insert.
        sqlx::query(
            "INSERT INTO tenants (id, name, kill_switch, created_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, \
             kill_switch = excluded.kill_switch",
        )
        .bind(&t.id)
        .bind(&t.name)
        .bind(t.kill_switch)
        .bind(t.created_at)
        .execute(self.pool())
        .await
        .map_err(db("put tenant"))?;
        Ok(())
    }

    async fn get_tenant_row(&self, id: &str) -> Result<Option<Tenant>, SqliteError> {
        let row = sqlx::query("SELECT id, name, kill_switch, created_at FROM tenants WHERE id = ?")
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db("get tenant"))?;
        row.as_ref().map(tenant_from_row).transpose()
    }

    async fn list_tenant_rows(&self) -> Result<Vec<Tenant>, SqliteError> {
        let rows = sqlx::query("SELECT id, name, kill_switch, created_at FROM tenants ORDER BY id")
            .fetch_all(self.pool())
            .await
            .map_err(db("list tenants"))?;
        rows.iter().map(tenant_from_row).collect()
    }

    async fn set_kill_switch(
        &self,
        sql: &'static str,
        what: &'static str,
        id: &str,
        on: bool,
    ) -> Result<(), meta_graph::store::StoreError> {
        let _turn = self.write_lock().await;
        let done = sqlx::query(sql)
            .bind(on)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(db("set kill switch"))?;
        if done.rows_affected() == 0 {
            return Err(meta_graph::store::StoreError::NotFound(format!(
                "{what} {id}"
            )));
        }
        Ok(())
    }

    async fn put_account_row(&self, a: &Account) -> Result<(), SqliteError> {
        let g = &a.governance;
        let min_gap = u64_to_i64("min_gap_secs", g.min_gap_secs)?;
        let _turn = self.write_lock().await;
        // An upsert by id. The UNIQUE (tenant_id, platform, meta_id) index still fires
        // for another id with the same triple: a unique violation, i.e. Conflict.
        sqlx::query(
            "INSERT INTO accounts (id, tenant_id, platform, meta_id, name, connection_id, \
             timezone, daily_cap, min_gap_secs, quiet_start_minute, quiet_end_minute, \
             auto_approve, allow_self_approval, kill_switch, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, \
             platform = excluded.platform, meta_id = excluded.meta_id, name = excluded.name, \
             connection_id = excluded.connection_id, timezone = excluded.timezone, \
             daily_cap = excluded.daily_cap, min_gap_secs = excluded.min_gap_secs, \
             quiet_start_minute = excluded.quiet_start_minute, \
             quiet_end_minute = excluded.quiet_end_minute, \
             auto_approve = excluded.auto_approve, \
             allow_self_approval = excluded.allow_self_approval, \
             kill_switch = excluded.kill_switch",
        )
        .bind(&a.id)
        .bind(&a.tenant_id)
        .bind(a.platform.as_str())
        .bind(&a.meta_id)
        .bind(&a.name)
        .bind(&a.connection_id)
        .bind(&a.timezone)
        .bind(i64::from(g.daily_cap))
        .bind(min_gap)
        .bind(g.quiet_start_minute.map(i64::from))
        .bind(g.quiet_end_minute.map(i64::from))
        .bind(a.approval.auto_approve)
        .bind(a.approval.allow_self_approval)
        .bind(a.kill_switch)
        .bind(a.created_at)
        .execute(self.pool())
        .await
        .map_err(db("put account"))?;
        Ok(())
    }

    async fn get_account_row(&self, id: &str) -> Result<Option<Account>, SqliteError> {
        let row = sqlx::query(select_accounts!("WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(db("get account"))?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn list_account_rows(
        &self,
        tenant_id: Option<&str>,
    ) -> Result<Vec<Account>, SqliteError> {
        let rows = sqlx::query(select_accounts!(
            "WHERE (?1 IS NULL OR tenant_id = ?1) ORDER BY id"
        ))
        .bind(tenant_id)
        .fetch_all(self.pool())
        .await
        .map_err(db("list accounts"))?;
        rows.iter().map(account_from_row).collect()
    }
}

impl AccountStore for SqliteStore {
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
        Box::pin(self.set_kill_switch(
            "UPDATE tenants SET kill_switch = ? WHERE id = ?",
            "tenant",
            id,
            on,
        ))
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
        Box::pin(self.set_kill_switch(
            "UPDATE accounts SET kill_switch = ? WHERE id = ?",
            "account",
            id,
            on,
        ))
    }
}
