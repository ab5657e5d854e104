#![no_main]
//! Any byte string as a blob file (BlobDB or Titan) and as a blob index: never a panic.
use libfuzzer_sys::fuzz_target;
use rockrescue::blob;

fuzz_target!(|data: &[u8]| {
    let _ = blob::decode_index(data);
    if data.len() > 4 {
        let off = data[0] as u64 * 7;
        let size = data[1] as u64 * 3;
        let key = &data[2..4];
        let _ = blob::read_value(data, key, off, size, data[4] % 8);
        let _ = blob::read_titan_value(data, key, off, size);
    }
});
