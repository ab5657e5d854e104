#![no_main]
//! Any byte string as a BR `backupmeta`, plain and behind an AES-256-CTR key (format-specs/br.md):
//! decoding must never panic, and a decoded message must be plausible (names a cluster or a
//! version), so garbage is never passed off as a backup.
use libfuzzer_sys::fuzz_target;
use rockrescue::br::meta::{decode_backupmeta, Crypter};

fuzz_target!(|data: &[u8]| {
    let key = Crypter::new(vec![0x42; 32]).unwrap();
    for crypter in [None, Some(&key)] {
        if let Ok((m, _)) = decode_backupmeta(data, crypter) {
            assert!(m.cluster_id != 0 || m.end_version != 0 || !m.cluster_version.is_empty());
        }
    }
});
