//! Fixtures shared by the benchmarks: realistic Graph payloads built in code so the
//! benches need no files.

use serde::Deserialize;

/// A Page post as returned by `/{page-id}/feed?fields=id,message,created_time,from`.
#[derive(Debug, Clone, Deserialize)]
pub struct Post {
    /// `<page>_<post>`.
    pub id: String,
    /// Text.
    pub message: Option<String>,
    /// ISO-8601 time.
    pub created_time: Option<String>,
    /// Author.
    pub from: Option<From>,
}

/// The `from` object.
#[derive(Debug, Clone, Deserialize)]
pub struct From {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// A JSON page of `n` posts with Meta's paging object.
#[must_use]
pub fn feed_page(n: usize) -> Vec<u8> {
    let data: Vec<serde_json::Value> = (0..n)
        .map(|i| {
            serde_json::json!({
                "id": format!("1789012345_{}", 9_000_000 + i),
                "message": format!("Post {i}: ¡Llegaron las poleras nuevas! Talla S, M y L en rojo, azul y negro. Comenta para reservar 🛍️"),
                "created_time": "2026-11-20T18:04:05+0000",
                "from": {"id": "1789012345", "name": "Tienda Demo"}
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "data": data,
        "paging": {"cursors": {"before": "QVFIUmJfZAk1", "after": "QVFIUnRfZAk9"},
                   "next": "https://graph.facebook.com/v26.0/1789012345/feed?limit=100&after=QVFIUnRfZAk9"}
    }))
    .unwrap_or_default()
}

/// A realistic set of usage headers (all five).
#[must_use]
pub fn usage_headers() -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    let pairs = [
        (
            "x-app-usage",
            r#"{"call_count":28,"total_time":25,"total_cputime":25}"#,
        ),
        (
            "x-page-usage",
            r#"{"call_count":3,"total_time":1,"total_cputime":1}"#,
        ),
        (
            "x-ad-account-usage",
            r#"{"acc_id_util_pct":9.67,"reset_time_duration":100,"ads_api_access_tier":"standard_access"}"#,
        ),
        (
            "x-business-use-case-usage",
            r#"{"112130216863063":[{"type":"pages","call_count":1,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}],"66782684":[{"type":"ads_management","call_count":95,"total_cputime":20,"total_time":20,"estimated_time_to_regain_access":19,"ads_api_access_tier":"development_access"},{"type":"ads_insights","call_count":3,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":0}]}"#,
        ),
        (
            "x-fb-ads-insights-throttle",
            r#"{"app_id_util_pct":0.5,"acc_id_util_pct":1.25,"ads_api_access_tier":"standard_access"}"#,
        ),
    ];
    for (k, v) in pairs {
        if let Ok(v) = http::HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    }
    h
}

/// A real-shaped BUC throttle error body.
pub const THROTTLE_BODY: &[u8] = br#"{"error":{"message":"(#80004) There have been too many calls to this ad-account. Wait a bit and try again.","type":"OAuthException","code":80004,"error_subcode":2446079,"is_transient":false,"error_user_title":"Too many calls","error_user_msg":"Please wait","error_data":"{\"blame_field_specs\":[[\"daily_budget\"]]}","fbtrace_id":"AbCdEfGhIjK"}}"#;
