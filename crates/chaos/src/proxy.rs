//! The fault proxy: an HTTP forward proxy (`HTTP_PROXY` for the `signin` processes, `reqwest::Proxy`
//! for the in-process app) between the clients and dev/idp and the demo API. Each request is, at random:
//! delayed, answered 500/502/503 or 429 without reaching the server, or its connection dropped before
//! it is forwarded. With `drop_answers` (the regime with kills), a token request's answer may also be
//! dropped *after* the provider answered: like a kill, that loses the only copy of a rotated refresh
//! token, and the proxy records when, so such a loss is explained.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{body::Incoming, Request, Response};
use hyper_util::rt::TokioIo;

use crate::{ledger::now_ms, rng::Rng};

/// Fault rates of the proxy.
#[derive(Clone, Copy, Debug)]
pub struct Faults {
    /// A delay of up to `max_delay_ms` before forwarding.
    pub delay: f64,
    /// The largest delay.
    pub max_delay_ms: u64,
    /// 500/502/503 without forwarding.
    pub server_error: f64,
    /// 429 without forwarding.
    pub too_many: f64,
    /// The connection dropped before forwarding.
    pub drop_before: f64,
    /// A token request's answer dropped after the provider answered.
    pub drop_answer: f64,
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct ProxyStats {
    /// Requests forwarded or refused.
    pub requests: AtomicU64,
    /// Faults injected (of every kind).
    pub faults: AtomicU64,
    /// Token answers dropped after the provider answered: (request start, drop), ms since the epoch.
    pub dropped_answers: Mutex<Vec<(u64, u64)>>,
}

/// A running proxy.
pub struct FaultProxy {
    /// `http://127.0.0.1:<port>`
    pub url: String,
    /// What it did.
    pub stats: Arc<ProxyStats>,
    faults: Arc<Mutex<Faults>>,
    task: tokio::task::JoinHandle<()>,
}

struct Shared {
    client: reqwest::Client,
    faults: Arc<Mutex<Faults>>,
    stats: Arc<ProxyStats>,
    rng: Mutex<Rng>,
}

impl FaultProxy {
    /// Starts a proxy on a free port with these fault rates.
    pub async fn start(faults: Faults, rng: Rng) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let faults = Arc::new(Mutex::new(faults));
        let stats = Arc::new(ProxyStats::default());
        let shared = Arc::new(Shared {
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .map_err(std::io::Error::other)?,
            faults: faults.clone(),
            stats: stats.clone(),
            rng: Mutex::new(rng),
        });
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = shared.clone();
                        async move { shared.handle(request).await }
                    });
                    // A service error closes the connection without an answer: a dropped connection.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            url,
            stats,
            faults,
            task,
        })
    }

    /// Changes the fault rates.
    pub fn set_faults(&self, faults: Faults) {
        if let Ok(mut current) = self.faults.lock() {
            *current = faults;
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Why the proxy closed a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by the fault proxy")
    }
}

impl std::error::Error for Dropped {}

enum Plan {
    Forward { delay_ms: u64, drop_answer: bool },
    Answer(u16),
    Drop,
}

const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
];

impl Shared {
    fn plan(&self, is_token: bool) -> Plan {
        let faults = self.faults.lock().map(|f| *f).unwrap_or(CALM);
        let Ok(mut rng) = self.rng.lock() else {
            return Plan::Drop;
        };
        if rng.chance(faults.server_error) {
            return Plan::Answer([500, 502, 503][rng.below(3) as usize]);
        }
        if rng.chance(faults.too_many) {
            return Plan::Answer(429);
        }
        if rng.chance(faults.drop_before) {
            return Plan::Drop;
        }
        let delay_ms = if rng.chance(faults.delay) {
            rng.below(faults.max_delay_ms + 1)
        } else {
            0
        };
        Plan::Forward {
            delay_ms,
            drop_answer: is_token && rng.chance(faults.drop_answer),
        }
    }

    async fn handle(
        &self,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::io::Error> {
        let started = now_ms();
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let is_token = request.uri().path().ends_with("/v1/token");
        let plan = self.plan(is_token);
        if !matches!(
            plan,
            Plan::Forward {
                delay_ms: 0,
                drop_answer: false
            }
        ) {
            self.stats.faults.fetch_add(1, Ordering::Relaxed);
        }
        let (delay_ms, drop_answer) = match plan {
            Plan::Answer(status) => {
                let mut response = Response::new(Full::new(Bytes::from_static(
                    b"{\"error\":\"temporarily_unavailable\"}",
                )));
                *response.status_mut() =
                    hyper::StatusCode::from_u16(status).map_err(std::io::Error::other)?;
                response.headers_mut().insert(
                    hyper::header::CONTENT_TYPE,
                    hyper::header::HeaderValue::from_static("application/json"),
                );
                if status == 429 {
                    response.headers_mut().insert(
                        hyper::header::RETRY_AFTER,
                        hyper::header::HeaderValue::from_static("1"),
                    );
                }
                return Ok(response);
            }
            Plan::Drop => return Err(std::io::Error::other(Dropped)),
            Plan::Forward {
                delay_ms,
                drop_answer,
            } => (delay_ms, drop_answer),
        };
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let (parts, body) = request.into_parts();
        let body = body
            .collect()
            .await
            .map_err(std::io::Error::other)?
            .to_bytes();
        let url = parts.uri.to_string();
        if !url.starts_with("http://127.0.0.1:") {
            return Err(std::io::Error::other(format!(
                "the fault proxy forwards only to 127.0.0.1, not {url}"
            )));
        }
        let mut forward = self.client.request(parts.method, url).body(body);
        for (name, value) in &parts.headers {
            if !HOP_BY_HOP.contains(&name.as_str()) && name != hyper::header::HOST {
                forward = forward.header(name, value);
            }
        }
        let answer = forward.send().await.map_err(std::io::Error::other)?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let bytes = answer.bytes().await.map_err(std::io::Error::other)?;
        if drop_answer {
            if let Ok(mut dropped) = self.stats.dropped_answers.lock() {
                dropped.push((started, now_ms()));
            }
            return Err(std::io::Error::other(Dropped));
        }
        let mut response = Response::new(Full::new(bytes));
        *response.status_mut() = status;
        for (name, value) in &headers {
            if !HOP_BY_HOP.contains(&name.as_str()) && name != hyper::header::CONTENT_LENGTH {
                response.headers_mut().append(name, value.clone());
            }
        }
        Ok(response)
    }
}

/// No faults at all (set-up and tear-down).
pub const CALM: Faults = Faults {
    delay: 0.0,
    max_delay_ms: 0,
    server_error: 0.0,
    too_many: 0.0,
    drop_before: 0.0,
    drop_answer: 0.0,
};
