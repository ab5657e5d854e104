//! Every corpus table, written by real RocksDB (or LevelDB), must dump exactly as RocksDB read it
//! (the `.expected.jsonl` beside it was produced by RocksDB, never by rockrescue) and must pass a
//! deep audit.

mod common;

use rockrescue::export::dump::dump_file_jsonl;
use rockrescue::sst::verify::{verify_path, Status};

#[test]
fn every_corpus_table_dumps_exactly_as_rocksdb_reads_it() {
    let mut failures = Vec::new();
    let tables = common::corpus_tables();
    for (sst, expected) in &tables {
        let want = std::fs::read_to_string(expected).unwrap();
        match dump_file_jsonl(sst) {
            Err(e) => failures.push(format!("{}: {e}", sst.display())),
            Ok(got) => {
                // Tables without checksums mark every entry unverified; RocksDB has no such mark.
                let got = got.replace(",\"unverified\":true", "");
                if got != want {
                    let g: Vec<&str> = got.lines().collect();
                    let w: Vec<&str> = want.lines().collect();
                    let first = g
                        .iter()
                        .zip(w.iter())
                        .position(|(a, b)| a != b)
                        .unwrap_or(g.len().min(w.len()));
                    failures.push(format!(
                        "{}: {} entries vs {} expected; first difference at entry {first}:\n  got  {}\n  want {}",
                        sst.display(),
                        g.len(),
                        w.len(),
                        g.get(first).unwrap_or(&"<none>"),
                        w.get(first).unwrap_or(&"<none>")
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} tables differ:\n{}",
        failures.len(),
        tables.len(),
        failures.join("\n")
    );
}

#[test]
fn every_corpus_table_passes_a_deep_audit() {
    let mut failures = Vec::new();
    for (sst, _) in common::corpus_tables() {
        let v = verify_path(&sst, true);
        // A table written without checksums is read whole but proven by nothing: unverified.
        let want = if v.file.checksum_type == Some(rockrescue::codec::checksum::ChecksumType::None)
        {
            Status::Unverified
        } else {
            Status::Ok
        };
        if v.file.status != want {
            failures.push(format!(
                "{}: {:?} {:#?}",
                sst.display(),
                v.file.status,
                v.issues
            ));
        }
        let stats = v.stats.expect("deep audit has stats");
        // A note is fine when it explains a known writer quirk; a skipped check is not.
        let skipped: Vec<_> = stats
            .notes
            .iter()
            .filter(|n| n.contains("not verified") || n.contains("not compared"))
            .collect();
        if !skipped.is_empty() {
            failures.push(format!("{}: checks skipped: {skipped:?}", sst.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `sst layout` accounts for every byte of every healthy corpus table: blocks with their trailers,
/// the footer, and gaps, which in files written by RocksDB are only block_align zero padding.
#[test]
fn layout_covers_every_byte() {
    use rockrescue::sst::table::BlockKind;
    for (sst, _) in common::corpus_tables() {
        let bytes = std::fs::read(&sst).unwrap();
        let t = rockrescue::sst::Table::open(&bytes, &sst).unwrap();
        let checks = rockrescue::sst::verify::check_blocks(&t);
        let mut pos = 0u64;
        let mut gaps = 0;
        for c in &checks {
            assert!(
                c.offset <= pos,
                "{}: hole before {}",
                sst.display(),
                c.offset
            );
            let end = match c.kind {
                BlockKind::Footer | BlockKind::Gap => c.offset + c.size,
                _ => c.offset + c.size + 5,
            };
            if c.kind == BlockKind::Gap {
                gaps += 1;
                assert_eq!(c.name, "zero padding", "{}", sst.display());
            }
            pos = pos.max(end);
        }
        assert_eq!(pos, bytes.len() as u64, "{}", sst.display());
        let aligned = sst.to_string_lossy().contains("block-align");
        assert_eq!(gaps > 0, aligned, "{}: {gaps} gaps", sst.display());
    }
}
