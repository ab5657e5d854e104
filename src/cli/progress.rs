//! Progress on a terminal for the long commands: bytes read of the total with rate and ETA, then
//! keys written with their rate. Nothing is drawn when stderr is not a terminal.

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
    writing: Arc<AtomicBool>,
    exporting: AtomicBool,
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
            "{spinner} [{elapsed_precise}] reading {wide_bar} {bytes}/{total_bytes} \
             ({bytes_per_sec}, ETA {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    Some(SalvageBar {
        bar,
        keys: Arc::new(AtomicU64::new(0)),
        writing: Arc::new(AtomicBool::new(false)),
        exporting: AtomicBool::new(false),
        export_started: std::sync::OnceLock::new(),
    })
}

impl SalvageBar {
    /// The hook to hand to the salvage.
    pub fn hook(&self) -> ProgressHook {
        let bar = self.bar.clone();
        let keys = self.keys.clone();
        let writing = self.writing.clone();
        let started = std::time::Instant::now();
        ProgressHook(Arc::new(move |p| match p {
            SalvageProgress::Read(n) => bar.inc(n),
            SalvageProgress::Keys(n) => {
                let k = keys.fetch_add(n, Ordering::Relaxed) + n;
                if !writing.swap(true, Ordering::Relaxed) {
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{elapsed_precise}] merging and writing: {msg}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                }
                let secs = started.elapsed().as_secs_f64().max(0.001);
                bar.set_message(format!("{k} keys ({:.0} keys/s overall)", k as f64 / secs));
                bar.tick();
            }
        }))
    }

    /// The export phase of `tidb export`: keys merged and rows written, with the row rate.
    pub fn rows(&self, keys: u64, rows: u64) {
        let started = *self.export_started.get_or_init(std::time::Instant::now);
        if !self.exporting.swap(true, Ordering::Relaxed) {
            self.bar.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] exporting: {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
        }
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
