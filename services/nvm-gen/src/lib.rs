//! Generates realistic Cisco Network Visibility Module (NVM) flow records
//! with a fixed seed: a fleet of Windows, macOS and Linux endpoints with
//! their ordinary traffic, a few rclone exfiltration sessions and backup
//! jobs, cached flows that arrive hours late, and optional broken lines.
//!
//! [`Generator`] streams lines in memory (benchmarks use it directly);
//! [`write_all`] writes them with newlines. The same [`Config`] always
//! yields the same bytes.
//!
//! The pieces: [`fleet`] builds hosts and processes from [`catalog`];
//! [`traffic`] turns them into [`flow`]s; [`scenario`] orders their records
//! in time; [`rclone`] plans the sessions; [`encode`] writes key=value or
//! JSON; [`malformed`] writes the broken lines; [`summary`] describes a run.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod encode;
pub mod fleet;
pub mod flow;
pub mod generator;
pub mod malformed;
pub mod model;
pub mod net;
pub mod rclone;
pub mod rng;
pub mod scenario;
pub mod summary;
pub mod timefmt;
pub mod traffic;

pub use config::{Config, ConfigError, Encoding};
pub use generator::{write_all, Generator, LineKind};
pub use summary::Stats;
