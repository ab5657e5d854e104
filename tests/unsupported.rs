//! Recognised-but-unsupported features are reported as such, never as damage and never by a panic.

mod common;

use rockrescue::export::dump::{salvage_dump, DumpFormat};
use rockrescue::sst::salvage::{DamageError, Salvage};
use rockrescue::sst::verify::{verify_bytes, Status};
use rockrescue::sst::Table;

#[test]
fn xpress_and_custom_compression_are_unsupported_not_damaged() {
    // A table without checksums or compression, so the type byte can be changed freely.
    let path = common::corpus_file("fv7-nochecksum-none-4k.sst");
    let clean = std::fs::read(&path).unwrap();
    let t = Table::open(&clean, &path).unwrap();
    let first = t.data_blocks[0].handle;
    let blocks = t.data_blocks.len() as u64;
    drop(t);
    for byte in [0x06u8, 0x81] {
        let mut v = clean.clone();
        v[(first.offset + first.size) as usize] = byte;
        let verdict = verify_bytes(&v, &path, true);
        assert_eq!(
            verdict.file.status,
            Status::Unsupported,
            "{byte:#x}: {:?}",
            verdict.issues
        );
        assert!(verdict.issues.iter().all(|i| i.offset == first.offset));
        let plan = Salvage::plan(&v, &path);
        let report = salvage_dump(&plan, DumpFormat::Jsonl, &mut std::io::sink()).unwrap();
        let data_ok = plan.units.len() as u64 - report.damaged.len() as u64;
        assert_eq!(data_ok, blocks - 1);
        assert_eq!(report.damaged.len(), 1);
        assert!(
            matches!(report.damaged[0].error, DamageError::Unsupported { .. }),
            "{:?}",
            report.damaged[0]
        );
    }
}

#[test]
fn plain_table_files_are_unsupported() {
    let mut v = vec![0u8; 4096];
    v[4088..].copy_from_slice(&rockrescue::sst::footer::PLAIN_MAGIC.to_le_bytes());
    let p = std::path::Path::new("plain.sst");
    let verdict = verify_bytes(&v, p, false);
    assert_eq!(verdict.file.status, Status::Unsupported);
    assert_eq!(verdict.issues[0].offset, 4088);
}
