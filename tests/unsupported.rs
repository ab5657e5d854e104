//! Recognised-but-unsupported features are reported as such, never as damage and never by a panic.

mod common;

use rockrescue::export::dump::{dump_table, DumpFormat};
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
            verdict.status,
            Status::Unsupported,
            "{byte:#x}: {:?}",
            verdict.issues
        );
        assert!(verdict.issues.iter().all(|i| i.offset == first.offset));
        let t = Table::open(&v, &path).unwrap();
        let mut errs = Vec::new();
        let stats = dump_table(&t, DumpFormat::Jsonl, &mut std::io::sink(), &mut |e| {
            errs.push(e)
        })
        .unwrap();
        assert_eq!(stats.blocks_ok, blocks - 1);
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().contains("unsupported"), "{}", errs[0]);
    }
}

#[test]
fn plain_table_files_are_unsupported() {
    let mut v = vec![0u8; 4096];
    v[4088..].copy_from_slice(&rockrescue::sst::footer::PLAIN_MAGIC.to_le_bytes());
    let p = std::path::Path::new("plain.sst");
    let verdict = verify_bytes(&v, p, false);
    assert_eq!(verdict.status, Status::Unsupported);
    assert_eq!(verdict.issues[0].offset, 4088);
}
