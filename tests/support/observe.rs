//! A client for the detector's metrics and health endpoint: plain HTTP/1.1
//! over a `TcpStream`, and a reader of the Prometheus text format.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Where a detector serves `/metrics`, `/healthz` and `/readyz`.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint(pub SocketAddr);

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: String,
}

impl Endpoint {
    /// Waits until the detector has written its bound address to `file`
    /// (`--metrics-listen-file`), then reads it.
    pub fn from_file(file: &Path, timeout: Duration) -> Endpoint {
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(file).unwrap_or_default();
            if let Ok(address) = text.trim().parse() {
                return Endpoint(address);
            }
            assert!(
                started.elapsed() < timeout,
                "no metrics address in {} after {timeout:?}",
                file.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path`, one connection per request.
    pub fn get(&self, path: &str) -> Response {
        let mut stream = TcpStream::connect_timeout(&self.0, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.0));
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("setting a read timeout");
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.0
        );
        stream
            .write_all(request.as_bytes())
            .expect("sending a request");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("reading a response");
        parse_response(&raw)
    }

    /// Scrapes `/metrics`.
    pub fn scrape(&self) -> Scrape {
        let response = self.get("/metrics");
        assert_eq!(response.status, 200, "{}", response.body);
        Scrape::parse(&response.body)
    }

    /// Scrapes until `done` holds or `timeout` passes (then fails the test
    /// with the last scrape).
    pub fn wait_for(
        &self,
        timeout: Duration,
        what: &str,
        done: impl Fn(&Scrape) -> bool,
    ) -> Scrape {
        let started = Instant::now();
        loop {
            let scrape = self.scrape();
            if done(&scrape) {
                return scrape;
            }
            assert!(
                started.elapsed() < timeout,
                "{what}: not within {timeout:?}; last scrape:\n{}",
                scrape.text
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The responses here have a `Content-Length` and end with the connection.
fn parse_response(raw: &str) -> Response {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {raw:?}"));
    Response {
        status,
        body: body.to_owned(),
    }
}

/// One scrape of `/metrics`.
#[derive(Debug, Clone)]
pub struct Scrape {
    pub text: String,
    samples: Vec<(String, f64)>,
}

impl Scrape {
    /// Reads the samples of the Prometheus text format.
    pub fn parse(text: &str) -> Scrape {
        let samples = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let (series, value) = l.rsplit_once(' ')?;
                Some((series.to_owned(), value.parse().ok()?))
            })
            .collect();
        Scrape {
            text: text.to_owned(),
            samples,
        }
    }

    /// The value of one series, spelled as exposed (`name{label="v"}`).
    pub fn get(&self, series: &str) -> Option<f64> {
        self.samples
            .iter()
            .find(|(s, _)| s == series)
            .map(|(_, v)| *v)
    }

    /// The sum over every series of a metric, whatever its labels; 0 when
    /// it has none.
    pub fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(s, _)| s.split('{').next() == Some(name))
            .map(|(_, v)| v)
            .sum()
    }

    /// The series of a metric.
    pub fn series(&self, name: &str) -> Vec<&str> {
        self.samples
            .iter()
            .filter(|(s, _)| s.split('{').next() == Some(name))
            .map(|(s, _)| s.as_str())
            .collect()
    }
}
