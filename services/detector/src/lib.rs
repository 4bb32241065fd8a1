//! Splunk-style detections over Cisco NVM flow records, as a stream.
//!
//! The data flows one way through small rooms: [`decode`] turns bytes into
//! a normalised [`record::Record`]; [`rule`] compiles security-content
//! detections through [`spl`] into plans; [`window`] folds matching records
//! into per-partition, per-group windows; [`alert`] renders what is due.
//! [`scan`] runs that engine over files, and [`kafka`] is the only async,
//! Kafka-aware part; [`observe`] is what it reports about itself (metrics,
//! readiness) and the HTTP endpoint that serves them.

pub mod alert;
pub mod cli;
pub mod config;
pub mod decode;
pub mod engine;
pub mod kafka;
pub mod lint;
pub mod observe;
pub mod record;
pub mod rule;
pub mod scan;
pub mod secret;
pub mod spl;
pub mod stats;
pub mod telemetry;
pub mod window;
