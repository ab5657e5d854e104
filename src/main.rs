//! The `rockrescue` binary: a thin command-line layer over the library.

mod cli;

/// The merges hand every key from the threads that decode tables to the threads that write: with
/// glibc's allocator a third of the time went into malloc and free across threads (perf, on the
/// 10 M-row `tidb export` benchmark). mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
