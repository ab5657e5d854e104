//! oracle-dump: prints every entry of an SST file, as read by real RocksDB
//! 11.8.1, in rockrescue's JSONL dump contract:
//!   {"key":"<hex>","seq":N,"type":"<t>","value":"<hex>"}
//! Point entries in file order, then range tombstones (value = end key).
//!
//! Usage: oracle-dump FILE.sst            JSONL on stdout
//!        oracle-dump --props FILE.sst    table properties (name=value lines)
use std::io::Write;
use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (props, files): (bool, Vec<&String>) = match args.first().map(|s| s.as_str()) {
        Some("--props") => (true, args[1..].iter().collect()),
        _ => (false, args.iter().collect()),
    };
    if files.is_empty() {
        eprintln!("usage: oracle-dump [--props] FILE.sst...");
        std::process::exit(2);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for f in files {
        let p = Path::new(f);
        let r = if props {
            rockrescue_oracle::properties(p).map(|(_, t)| t + "\n")
        } else {
            rockrescue_oracle::dump_jsonl(p)
        };
        match r {
            Ok(s) => out.write_all(s.as_bytes()).unwrap(),
            Err(e) => {
                out.flush().ok();
                eprintln!("oracle-dump: {f}: {e}");
                std::process::exit(1);
            }
        }
    }
    out.flush().unwrap();
}
