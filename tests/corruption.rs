//! Damage real RocksDB tables and check what is reported and what is still read.
//!
//! For every block of a table we flip one bit, then require that: the audit marks the file damaged
//! with an issue at that block's offset; the dump skips exactly that data block and returns every
//! entry of every other block unchanged. Truncations and zeroed pages must never panic.

mod common;

use std::path::Path;

use rockrescue::export::dump::{render_entry, render_point, salvage_dump, DumpFormat};
use rockrescue::sst::salvage::Salvage;
use rockrescue::sst::table::BlockKind;
use rockrescue::sst::verify::{verify_bytes, Status};
use rockrescue::sst::Table;

/// The user keys of each data block of a clean table.
fn keys_per_block(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let t = Table::open(bytes, Path::new("clean")).unwrap();
    t.data_blocks
        .iter()
        .map(|d| {
            let c = t.read_data_block(d.handle).unwrap();
            let mut keys = Vec::new();
            t.visit_data_block(d.handle, &c, |e| keys.push(e.user_key.to_vec()))
                .unwrap();
            keys
        })
        .collect()
}

/// The JSONL lines of each data block of a clean table, in order, and of the range tombstones.
fn lines_per_block(bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<u8>) {
    let t = Table::open(bytes, Path::new("clean")).unwrap();
    let mut per = Vec::new();
    for d in &t.data_blocks {
        let c = t.read_data_block(d.handle).unwrap();
        let mut buf = Vec::new();
        t.visit_data_block(d.handle, &c, |e| {
            render_point(&mut buf, DumpFormat::Jsonl, &e)
        })
        .unwrap();
        per.push(buf);
    }
    let mut tail = Vec::new();
    for r in t.range_tombstones().unwrap() {
        render_entry(&mut tail, DumpFormat::Jsonl, &r.start, r.seq, 0x0f, &r.end);
    }
    (per, tail)
}

fn tables_with_checksums() -> Vec<std::path::PathBuf> {
    common::corpus_tables()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| {
            let b = std::fs::read(p).unwrap();
            let t = Table::open(&b, p).unwrap();
            t.footer.checksum_type != rockrescue::codec::checksum::ChecksumType::None
        })
        .collect()
}

#[test]
fn a_bit_flip_in_any_block_is_reported_at_that_block_and_only_that_data_is_lost() {
    let mut checked = 0;
    for path in tables_with_checksums() {
        let clean = std::fs::read(&path).unwrap();
        let (per_block, tail) = lines_per_block(&clean);
        let block_keys = keys_per_block(&clean);
        let bytewise = Table::open(&clean, &path).unwrap().comparator
            == rockrescue::ikey::UserComparator::Bytewise;
        let t = Table::open(&clean, &path).unwrap();
        let map: Vec<_> = t
            .block_map()
            .iter()
            .map(|b| (b.kind, b.handle, b.label.to_string()))
            .collect();
        let data_handles: Vec<_> = t.data_blocks.iter().map(|d| d.handle).collect();
        drop(t);
        for (kind, h, name) in map {
            if h.size == 0 {
                continue;
            }
            let mut bad = clean.clone();
            let at = (h.offset + h.size / 2) as usize;
            bad[at] ^= 0x10;
            let v = verify_bytes(&bad, &path, false);
            assert_ne!(
                v.file.status,
                Status::Ok,
                "{}: flip in {} {name} at {at} not detected",
                path.display(),
                kind.name()
            );
            if v.file.status == Status::Damaged {
                assert!(
                    v.issues.iter().any(|i| i.offset == h.offset),
                    "{}: flip in {} {name} reported elsewhere: {:?}",
                    path.display(),
                    kind.name(),
                    v.issues
                );
            }
            if kind == BlockKind::Data {
                let idx = data_handles
                    .iter()
                    .position(|x| *x == h)
                    .expect("data block is in the index");
                // The audit names the keys the block took with it: every one of them is inside.
                let issue = v.issues.iter().find(|i| i.offset == h.offset).unwrap();
                let lost = issue.lost_keys.as_ref().unwrap_or_else(|| {
                    panic!("{}: no lost keys for data block #{idx}", path.display())
                });
                assert!(
                    lost.exact,
                    "{}: neighbours are intact, the range should be exact",
                    path.display()
                );
                if bytewise {
                    let from = lost.from.as_ref().map(|h| hex::decode(h).unwrap());
                    let to = lost.to.as_ref().map(|h| hex::decode(h).unwrap());
                    for k in &block_keys[idx] {
                        assert!(
                            from.as_ref().is_none_or(|f| f <= k)
                                && to.as_ref().is_none_or(|t| k <= t),
                            "{}: key {k:?} of block #{idx} outside the reported range {lost:?}",
                            path.display()
                        );
                    }
                }
                let plan = Salvage::plan(&bad, &path);
                let mut out = Vec::new();
                let report = salvage_dump(&plan, DumpFormat::Jsonl, &mut out).unwrap();
                let errs: Vec<_> = report.damaged.iter().filter(|d| d.kind == "data").collect();
                let mut want = Vec::new();
                for (i, b) in per_block.iter().enumerate() {
                    if i != idx {
                        want.extend_from_slice(b);
                    }
                }
                want.extend_from_slice(&tail);
                assert_eq!(
                    report.damaged.len(),
                    1,
                    "{}: one damaged block expected: {:?}",
                    path.display(),
                    report.damaged
                );
                assert_eq!(errs.len(), 1, "{}: {:?}", path.display(), report.damaged);
                assert_eq!(errs[0].offset, h.offset);
                assert_eq!(errs[0].length, h.size + 5);
                assert!(
                    out == want,
                    "{}: dump after damage in data block #{idx} is not the other blocks' entries",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} corruption cases ran");
}

#[test]
fn truncated_zeroed_and_garbage_files_never_panic() {
    for path in tables_with_checksums().into_iter().take(12) {
        let clean = std::fs::read(&path).unwrap();
        let n = clean.len();
        let mut cuts: Vec<usize> = (0..n.min(64)).collect();
        cuts.extend((0..n).step_by((n / 97).max(1)));
        for cut in cuts {
            let v = verify_bytes(&clean[..cut], &path, true);
            assert_ne!(
                v.file.status,
                Status::Ok,
                "{} cut at {cut} reads as clean",
                path.display()
            );
        }
        // A zeroed 4 KiB page in the middle.
        let mut z = clean.clone();
        let mid = n / 2;
        for b in &mut z[mid.saturating_sub(2048)..(mid + 2048).min(n)] {
            *b = 0;
        }
        let v = verify_bytes(&z, &path, true);
        assert_ne!(
            v.file.status,
            Status::Ok,
            "{}: zeroed page not detected",
            path.display()
        );
        // Garbage appended: the footer is no longer at the end.
        let mut g = clean.clone();
        g.extend_from_slice(&[0xab; 100]);
        let v = verify_bytes(&g, &path, true);
        assert_eq!(
            v.file.status,
            Status::Unreadable,
            "{}: appended garbage",
            path.display()
        );
    }
}
