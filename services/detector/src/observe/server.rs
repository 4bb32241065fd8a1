//! The HTTP endpoint: `GET /metrics` (Prometheus text format), `/healthz`
//! (200 while the process runs) and `/readyz` (200 when ready, else 503
//! with the reason).
//!
//! Built on hyper 1 (HTTP/1.1 only) with hyper-util's tokio glue: the HTTP
//! implementation that axum, reqwest and tonic build on, kept alongside
//! tokio, and small when only its server half is compiled. Three fixed
//! paths need no router, so axum and tower would add build time for
//! nothing. Metrics come from `prometheus-client`, the Prometheus
//! organisation's Rust client.

use super::metrics::CONTENT_TYPE;
use super::Instruments;
use anyhow::Context as _;
use bytes::Bytes;
use clap::Args;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

/// Where the endpoint listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    Off,
    At(SocketAddr),
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.eq_ignore_ascii_case("off") {
            return Ok(Listen::Off);
        }
        text.parse()
            .map(Listen::At)
            .map_err(|_| format!("`{text}` is neither `off` nor an address such as 127.0.0.1:9464"))
    }
}

/// Settings of the metrics and health endpoint.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Metrics")]
pub struct MetricsArgs {
    /// Address of the metrics and health endpoint (`/metrics`, `/healthz`,
    /// `/readyz`), or `off`. Port 0 picks a free port; the bound address is
    /// logged.
    #[arg(long, env = "NVM_METRICS_LISTEN", default_value = "127.0.0.1:9464")]
    pub metrics_listen: Listen,
    /// Once the endpoint listens, write its bound address to this file (for
    /// scripts and tests that listen on port 0).
    #[arg(long, env = "NVM_METRICS_LISTEN_FILE")]
    pub metrics_listen_file: Option<PathBuf>,
    /// How often librdkafka reports the statistics behind the lag, broker
    /// and producer queue metrics and the broker check of `/readyz`, ms;
    /// 0 turns them off.
    #[arg(
        long,
        env = "NVM_KAFKA_STATISTICS_INTERVAL_MS",
        default_value_t = DEFAULT_STATISTICS_INTERVAL_MS
    )]
    pub kafka_statistics_interval_ms: u64,
}

/// Lag figures a few seconds old are fresh enough for a dashboard and for
/// alerting on, and parsing the statistics JSON costs next to nothing at
/// this pace.
pub const DEFAULT_STATISTICS_INTERVAL_MS: u64 = 5_000;

/// A slow or idle client cannot hold a connection longer than this.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Binds the endpoint (unless it is off), logs and optionally writes the
/// bound address, and serves it on the current runtime until the runtime
/// shuts down. Returns the bound address.
///
/// # Errors
/// The address cannot be bound, or the address file cannot be written.
pub async fn start(
    args: &MetricsArgs,
    instruments: Instruments,
) -> anyhow::Result<Option<SocketAddr>> {
    let Listen::At(address) = args.metrics_listen else {
        info!("metrics endpoint off");
        return Ok(None);
    };
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("binding the metrics endpoint to {address}"))?;
    let bound = listener
        .local_addr()
        .context("reading the metrics endpoint's address")?;
    if let Some(path) = &args.metrics_listen_file {
        write_address(path, bound)
            .with_context(|| format!("writing the metrics address to {}", path.display()))?;
    }
    info!(address = %bound, "serving metrics and health");
    tokio::spawn(accept(listener, instruments));
    Ok(Some(bound))
}

/// Writes then renames, so a reader never sees a partial address.
fn write_address(path: &Path, address: SocketAddr) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, format!("{address}\n"))?;
    std::fs::rename(&partial, path)
}

/// Accepts connections forever; each is served on its own task.
async fn accept(listener: TcpListener, instruments: Instruments) {
    let mut last_warning: Option<Instant> = None;
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve(stream, instruments.clone()));
            }
            Err(e) => {
                // Out of file descriptors, typically: back off, warn now and then.
                if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(10)) {
                    warn!(error = %e, "metrics endpoint cannot accept connections");
                    last_warning = Some(Instant::now());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn serve(stream: tokio::net::TcpStream, instruments: Instruments) {
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let response = respond(&instruments, request.method(), request.uri().path());
        async move { Ok::<_, Infallible>(response) }
    });
    let served = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service)
        .await;
    if let Err(e) = served {
        debug!(error = %e, "metrics endpoint connection ended with an error");
    }
}

/// Answers one request.
fn respond(instruments: &Instruments, method: &Method, path: &str) -> Response<Full<Bytes>> {
    if method != Method::GET && method != Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n".into());
    }
    match path {
        "/metrics" => {
            let metrics = &instruments.metrics;
            metrics.set_health(&instruments.health.snapshot());
            let mut response = text(StatusCode::OK, metrics.encode());
            response.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_static(CONTENT_TYPE),
            );
            response
        }
        "/healthz" => text(StatusCode::OK, "ok\n".into()),
        "/readyz" => match instruments.health.readiness() {
            Ok(()) => text(StatusCode::OK, "ready\n".into()),
            Err(reason) => text(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {reason}\n"),
            ),
        },
        _ => text(
            StatusCode::NOT_FOUND,
            "not found; try /metrics, /healthz or /readyz\n".into(),
        ),
    }
}

fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt as _;
    use std::future::Future as _;

    fn body(response: Response<Full<Bytes>>) -> String {
        let bytes = futures_free_collect(response.into_body());
        String::from_utf8(bytes).unwrap()
    }

    /// A `Full` body is ready at once; no runtime needed to read it.
    fn futures_free_collect(body: Full<Bytes>) -> Vec<u8> {
        let mut future = std::pin::pin!(body.collect());
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(Ok(collected)) => collected.to_bytes().to_vec(),
            _ => panic!("a full body is ready at once"),
        }
    }

    #[test]
    fn parses_listen_addresses_and_off() {
        assert_eq!("off".parse(), Ok(Listen::Off));
        assert_eq!(
            "127.0.0.1:0".parse(),
            Ok(Listen::At("127.0.0.1:0".parse().unwrap()))
        );
        assert!("localhost".parse::<Listen>().is_err());
    }

    #[test]
    fn readyz_says_why_it_is_not_ready_until_restored() {
        let instruments = Instruments::new();
        let ready = || respond(&instruments, &Method::GET, "/readyz");
        assert_eq!(ready().status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body(ready()), "not ready: no partitions assigned\n");

        instruments.health.assigned(&[("in".into(), 0)], 1);
        assert_eq!(
            body(ready()),
            "not ready: restoring state of 1 partition(s)\n"
        );
        instruments.health.restore_finished(1);
        assert_eq!(ready().status(), StatusCode::OK);
    }

    #[test]
    fn serves_metrics_health_and_nothing_else() {
        let instruments = Instruments::new();
        let metrics = respond(&instruments, &Method::GET, "/metrics");
        assert_eq!(metrics.status(), StatusCode::OK);
        assert_eq!(metrics.headers()["content-type"], CONTENT_TYPE);
        assert!(body(metrics).contains("nvm_ready 0"));
        let healthz = respond(&instruments, &Method::GET, "/healthz");
        assert_eq!(healthz.status(), StatusCode::OK);
        let other = respond(&instruments, &Method::GET, "/");
        assert_eq!(other.status(), StatusCode::NOT_FOUND);
        let post = respond(&instruments, &Method::POST, "/metrics");
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    }
}
