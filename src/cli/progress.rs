//! Progress on a terminal for the long commands: bytes read of the total with rate and ETA, and in
//! the same line the keys (or, for `tidb export`, the rows) written with their rate: tables are
//! read as they are merged. Nothing is drawn when stderr is not a terminal.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use rockrescue::lsm::salvage::{bytes_to_read, ProgressHook, SalvageProgress};

/// A bar over the bytes of one or more database directories.
pub struct SalvageBar {
    bar: ProgressBar,
    keys: Arc<AtomicU64>,
    exporting: Arc<AtomicBool>,
    export_started: std::sync::OnceLock<std::time::Instant>,
}

/// A bar for salvaging `dirs` (kv RocksDB directories), or `None` when stderr is not a terminal.
pub fn salvage_bar(dirs: &[&Path]) -> Option<SalvageBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = dirs.iter().map(|d| bytes_to_read(d)).sum();
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} read \
             ({bytes_per_sec}, ETA {eta}) {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(SalvageBar {
        bar,
        keys: Arc::new(AtomicU64::new(0)),
        exporting: Arc::new(AtomicBool::new(false)),
        export_started: std::sync::OnceLock::new(),
    })
}

impl SalvageBar {
    /// The hook to hand to the salvage.
    pub fn hook(&self) -> ProgressHook {
        let bar = self.bar.clone();
        let keys = self.keys.clone();
        let exporting = self.exporting.clone();
        let started = std::time::Instant::now();
        ProgressHook(Arc::new(move |p| match p {
            SalvageProgress::Read(n) => bar.inc(n),
            // Tables are read as they are merged: the bar stays on the bytes read, the keys
            // written go in its message (the rows instead, once `tidb export` reports them).
            SalvageProgress::Keys(n) => {
                let k = keys.fetch_add(n, Ordering::Relaxed) + n;
                if !exporting.load(Ordering::Relaxed) {
                    let secs = started.elapsed().as_secs_f64().max(0.001);
                    bar.set_message(format!("{k} keys written ({:.0}/s)", k as f64 / secs));
                }
            }
        }))
    }

    /// The export phase of `tidb export`: keys merged and rows written, with the row rate.
    pub fn rows(&self, keys: u64, rows: u64) {
        let started = *self.export_started.get_or_init(std::time::Instant::now);
        self.exporting.store(true, Ordering::Relaxed);
        let secs = started.elapsed().as_secs_f64().max(0.001);
        self.bar.set_message(format!(
            "{keys} keys merged, {rows} rows ({:.0} rows/s)",
            rows as f64 / secs
        ));
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
