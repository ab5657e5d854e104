#![no_main]
//! Any byte string as a MANIFEST, and as one VersionEdit: decoding and replay must never panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rockrescue::manifest::replay(data, |_, _| {});
    let _ = rockrescue::manifest::decode_edit(data);
});
