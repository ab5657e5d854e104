//! `../shared/fixtures/`: files written by real TiKV, BR and TiDB, read in place (never copied into
//! the repository). Absent, a test skips with a message, unless `ROCKRESCUE_REQUIRE_FIXTURES` is set
//! (CI sets it), when it fails.

use std::path::PathBuf;

/// The fixture at `rel` below `../shared/fixtures`, or `None` (after saying so) when the folder is
/// absent and not required.
pub fn fixture(rel: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures");
    let p = root.join(rel);
    if p.exists() {
        return Some(p);
    }
    let required =
        std::env::var_os("ROCKRESCUE_REQUIRE_FIXTURES").is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "ROCKRESCUE_REQUIRE_FIXTURES is set but {} is missing",
        p.display()
    );
    eprintln!(
        "skipped: {} is absent (the shared fixtures of real TiKV/BR files; set \
         ROCKRESCUE_REQUIRE_FIXTURES=1 to fail instead)",
        p.display()
    );
    None
}
