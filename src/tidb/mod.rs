//! TiDB's data inside TiKV: keys (records, indexes, meta). Rows and schemas come next.

pub mod backup;
pub mod catalog;
pub mod datum;
pub mod decode;
pub mod gc;
pub mod key;
pub mod row;
pub mod schema;
pub mod value;
