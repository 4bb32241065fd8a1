//! The Kafka-aware shell: the only async code, and the only code that
//! knows rdkafka. Everything it decides is delegated to the engine.

pub mod client;
pub mod connect;
pub mod output;
pub mod replay;
pub mod security;
pub mod statistics;
pub mod stream;
pub mod tail;
pub mod topics;
