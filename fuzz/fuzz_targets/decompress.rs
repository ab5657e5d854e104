#![no_main]
//! Any payload through every codec and flavor, with a small output limit.
use libfuzzer_sys::fuzz_target;
use rockrescue::codec::compress::{decompress, Compression, Flavor};

fuzz_target!(|data: &[u8]| {
    if data.is_empty() {
        return;
    }
    let (sel, payload) = data.split_at(1);
    let flavor = match sel[0] & 3 {
        0 => Flavor::RocksDb { size_prefixed: true },
        1 => Flavor::RocksDb { size_prefixed: false },
        _ => Flavor::LevelDb,
    };
    let c = Compression::from_byte(sel[0] >> 2, flavor);
    if let Ok(out) = decompress(c, payload, flavor, &[], 1 << 20) {
        assert!(out.len() <= 1 << 20);
    }
});
