//! A small client over reqwest, returning status, headers and parsed JSON.

use meta_sandbox::{Sandbox, SandboxConfig};
use reqwest::header::HeaderMap;
use serde_json::Value;

pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) json: Value,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }

    pub(crate) fn header_json(&self, name: &str) -> Value {
        serde_json::from_str(
            &self
                .header(name)
                .unwrap_or_else(|| panic!("no {name} header")),
        )
        .unwrap()
    }

    pub(crate) fn error_code(&self) -> i64 {
        self.json["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not an error: {}", self.json))
    }

    pub(crate) fn subcode(&self) -> Option<i64> {
        self.json["error"]["error_subcode"].as_i64()
    }
}

pub(crate) fn http() -> reqwest::Client {
    // reqwest is built with rustls-no-provider: a provider must exist even for http://.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().unwrap()
}

pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) base: String,
}

impl Client {
    pub(crate) fn new(sandbox: &Sandbox) -> Self {
        Self {
            http: http(),
            base: sandbox.base_url().to_owned(),
        }
    }

    async fn finish(resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            headers,
            json,
        }
    }

    /// GET `path` (which may carry a query) with extra query pairs.
    pub(crate) async fn get(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .unwrap();
        Self::finish(resp).await
    }

    /// GET an absolute URL (a `paging.next` link).
    pub(crate) async fn get_url(&self, url: &str) -> Resp {
        Self::finish(self.http.get(url).send().await.unwrap()).await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        Self::finish(resp).await
    }

    pub(crate) async fn try_post(
        &self,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Result<reqwest::Response> {
        self.http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
    }

    pub(crate) async fn delete(&self, path: &str, query: &[(&str, &str)]) -> Resp {
        let resp = self
            .http
            .delete(format!("{}{path}", self.base))
            .query(query)
            .send()
            .await
            .unwrap();
        Self::finish(resp).await
    }
}

pub(crate) async fn start() -> (Sandbox, Client) {
    start_with(SandboxConfig::default()).await
}

pub(crate) async fn start_with(config: SandboxConfig) -> (Sandbox, Client) {
    let sandbox = Sandbox::start_with(config).await.unwrap();
    let client = Client::new(&sandbox);
    (sandbox, client)
}
