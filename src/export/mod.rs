//! Output formats. `dump` renders table entries as the JSONL contract or as human text.

pub mod br;
pub mod dump;
pub mod plan;
pub mod regions;
pub mod sqlschema;
pub mod tidb;
pub mod wal;
