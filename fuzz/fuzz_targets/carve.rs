#![no_main]
//! Any byte string as a damaged table or fragment: the carver, with and without hints, must never
//! panic, and every block it accepts must lie inside the input.
use libfuzzer_sys::fuzz_target;
use rockrescue::codec::checksum::ChecksumType;
use rockrescue::sst::carve::{carve, CarveHints};

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    for hints in [
        CarveHints::default(),
        CarveHints {
            checksum: Some(ChecksumType::None),
            ..CarveHints::default()
        },
        CarveHints {
            checksum: Some(ChecksumType::Crc32c),
            base_context: Some(0),
            ..CarveHints::default()
        },
    ] {
        let out = carve(data, 0, len, &hints);
        for b in &out.blocks {
            assert!(b.handle.offset + b.handle.size + 5 <= len);
        }
    }
});
