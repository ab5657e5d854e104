#![no_main]
//! Any byte string as the tail of a file: footer decoding must never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rockrescue::sst::footer::decode(data);
});
