//! Logging setup: one place, so every command logs alike.

use clap::{Args, ValueEnum};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tracing_subscriber::EnvFilter;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, coloured on a terminal.
    Human,
    /// One JSON object per event, for log shippers.
    Json,
}

/// Log settings, common to every command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Log")]
pub struct LogArgs {
    /// Log output on stderr.
    #[arg(long, env = "NVM_LOG_FORMAT", value_enum, default_value_t = LogFormat::Human, global = true)]
    pub log_format: LogFormat,
    /// Log filter, `tracing` directives such as `info` or
    /// `info,nvm_detector::kafka=debug`; `RUST_LOG` is used when this is unset.
    #[arg(long, env = "NVM_LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
}

/// Installs the global subscriber; an invalid filter falls back to `info`
/// with a warning.
pub fn init_logging(args: &LogArgs) {
    let (filter, bad) = match &args.log_level {
        Some(directives) => match EnvFilter::try_new(directives) {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new("info"), Some(e.to_string())),
        },
        None => (
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
            None,
        ),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match args.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Human => builder.try_init(),
    };
    if let Some(reason) = bad {
        tracing::warn!(reason, "invalid --log-level; logging at info");
    }
}

/// Lets a repeating message through at most once per period per key, and
/// says how many were held back in between.
#[derive(Debug)]
pub struct RateLimit {
    period: Duration,
    seen: Mutex<HashMap<String, (Instant, u64)>>,
}

impl RateLimit {
    pub fn new(period: Duration) -> Self {
        RateLimit {
            period,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(suppressed)` when a message with this key may be logged now,
    /// with the count of those suppressed since the last one.
    pub fn allow(&self, key: &str) -> Option<u64> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        match seen.get_mut(key) {
            Some((last, suppressed)) if now.duration_since(*last) < self.period => {
                *suppressed += 1;
                None
            }
            Some((last, suppressed)) => {
                let held = *suppressed;
                *last = now;
                *suppressed = 0;
                Some(held)
            }
            None => {
                if seen.len() >= 1024 {
                    seen.clear();
                }
                seen.insert(key.to_owned(), (now, 0));
                Some(0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_holds_back_repeats_and_counts_them() {
        let limit = RateLimit::new(Duration::from_millis(50));
        assert_eq!(limit.allow("a"), Some(0));
        assert_eq!(limit.allow("a"), None);
        assert_eq!(limit.allow("a"), None);
        assert_eq!(limit.allow("b"), Some(0), "keys are independent");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(limit.allow("a"), Some(2));
    }
}
