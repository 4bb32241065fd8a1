//! The benchmark suite of `nvm-detector`.
//!
//! `ops/bench.sh` is the one command: it builds, makes sure the local
//! broker runs, and calls `nvm-bench suite`, which measures the engine
//! offline ([`offline`]), the broker's own ceiling ([`kafka`]), the detector
//! end to end and its latency ([`detector`], [`latency`]), a Kafka Streams
//! peer of the same rule ([`peer`]) and window state ([`state`]), then
//! writes [`report::Results`]. The criterion micro-benchmarks of the hot
//! paths live in `benches/benches/`.

pub mod alloc;
pub mod corpus;
pub mod detector;
pub mod kafka;
pub mod latency;
pub mod machine;
pub mod offline;
pub mod peer;
pub mod report;
pub mod state;
pub mod suite;
pub mod sys;
