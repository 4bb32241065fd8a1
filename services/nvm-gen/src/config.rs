//! What a run generates. Defaults produce the bundled data set's shape;
//! each default comes from a named function that says why it is what it is.

use std::fmt;

/// Which wire encodings to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Encoding {
    /// Key=value syslog lines (`nvzFlow_v9`).
    Kv,
    /// Flat JSON objects (`nvzFlow_v11`).
    Json,
    /// Each record picks one of the two with even odds.
    Mixed,
}

/// Parameters of one generation run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Flow records to write, late ones included, malformed lines not.
    pub count: u64,
    pub seed: u64,
    pub hosts: usize,
    pub start_secs: u64,
    pub duration_secs: u64,
    pub encoding: Encoding,
    /// Records of cached flows written after everything else.
    pub late: u64,
    /// Broken lines injected at random positions.
    pub malformed: u64,
    /// Rclone sessions; `None` scales with `count` (see
    /// [`crate::rclone::default_sessions`]).
    pub rclone_sessions: Option<usize>,
}

/// Enough for every rclone session template while keeping rclone under 1 %
/// of records, and small enough to commit.
pub fn default_count() -> u64 {
    6000
}

/// The date the project's examples use, so the data reads as the same day.
pub fn default_seed() -> u64 {
    20_260_714
}

/// A mid-sized office.
pub fn default_hosts() -> usize {
    200
}

/// 2026-07-14T08:00:00Z: the morning of the JSON example record.
pub fn default_start_secs() -> u64 {
    1_784_016_000
}

/// Three hours: enough for hourly windows to close and for sessions in
/// different hours, including one that straddles an hour boundary.
pub fn default_duration_secs() -> u64 {
    3 * 3600
}

/// A handful of cached records, two of them from an rclone session.
pub fn default_late() -> u64 {
    6
}

impl Default for Config {
    fn default() -> Self {
        Config {
            count: default_count(),
            seed: default_seed(),
            hosts: default_hosts(),
            start_secs: default_start_secs(),
            duration_secs: default_duration_secs(),
            encoding: Encoding::Mixed,
            late: default_late(),
            malformed: 0,
            rclone_sessions: None,
        }
    }
}

/// A configuration that cannot produce a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    NoHosts,
    NoDuration,
    TooManyLate { late: u64, count: u64 },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoHosts => write!(f, "--hosts must be at least 1"),
            ConfigError::NoDuration => write!(f, "--duration-secs must be at least 1"),
            ConfigError::TooManyLate { late, count } => {
                write!(f, "--late {late} exceeds --count {count}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Checks fields against each other.
    ///
    /// # Errors
    ///
    /// When there are no hosts, no time span, or more late records than
    /// records.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.hosts == 0 {
            return Err(ConfigError::NoHosts);
        }
        if self.duration_secs == 0 {
            return Err(ConfigError::NoDuration);
        }
        if self.late > self.count {
            return Err(ConfigError::TooManyLate {
                late: self.late,
                count: self.count,
            });
        }
        Ok(())
    }

    pub fn start_ms(&self) -> u64 {
        self.start_secs * 1000
    }

    pub fn duration_ms(&self) -> u64 {
        self.duration_secs * 1000
    }
}
