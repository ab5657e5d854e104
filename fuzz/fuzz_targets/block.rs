#![no_main]
//! Any byte string as an uncompressed block, decoded as every block kind.
use libfuzzer_sys::fuzz_target;
use rockrescue::sst::format::{EntryFormat, EntryIter};
use rockrescue::sst::index::{decode_index_block, decode_metaindex, IndexFormat};
use rockrescue::sst::properties::Properties;

fuzz_target!(|data: &[u8]| {
    for fmt in [EntryFormat::Standard, EntryFormat::IndexDelta { first_key: false }, EntryFormat::IndexDelta { first_key: true }] {
        if let Ok(mut it) = EntryIter::new(data, fmt) {
            let mut n = 0usize;
            while let Some(e) = it.next() {
                if e.is_err() {
                    break;
                }
                n += 1;
                assert!(n <= data.len(), "more entries than bytes");
            }
        }
    }
    for (user_keys, delta_values, first_key) in [(false, false, false), (true, true, false), (false, true, true), (true, false, true)] {
        let _ = decode_index_block(data, IndexFormat { user_keys, delta_values, first_key });
    }
    let _ = decode_metaindex(data);
    let _ = Properties::parse(data);
});
