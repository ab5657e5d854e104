//! Block-based tables (RocksDB SST files and LevelDB tables): footer, blocks, index, properties,
//! and the table reader built from them. See format-specs/sst.md.

pub mod block;
pub mod carve;
pub mod footer;
pub mod format;
pub mod handle;
pub mod index;
pub mod leveldb_filter;
pub mod properties;
pub mod salvage;
pub mod table;
pub mod verify;

pub use table::Table;
