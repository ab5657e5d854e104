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
pub mod report;
pub mod salvage;
pub mod table;
pub mod verify;

pub use table::Table;

use std::path::{Path, PathBuf};

/// The table files named by `paths`: a directory is walked (symbolic links not followed) for
/// `*.sst` and `*.ldb`, sorted by path; anything else is taken as given (a file that cannot be
/// read then gets an `unreadable` verdict of its own).
pub fn find_tables<P: AsRef<Path>>(paths: &[P]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for p in paths {
        let p = p.as_ref();
        if p.is_dir() {
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(p)
                .follow_links(false)
                .into_iter()
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("sst" | "ldb")))
                .collect();
            found.sort();
            out.extend(found);
        } else {
            out.push(p.to_path_buf());
        }
    }
    out
}
