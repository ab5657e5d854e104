//! TiKV's data layout in its kv RocksDB: key codecs, MVCC write and lock records. TiDB rows and
//! schemas build on this. See format-specs/tikv.md.

pub mod backup;
pub mod codec;
pub mod mvcc;
pub mod region;
pub mod store;
