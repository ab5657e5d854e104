#![no_main]
//! Any byte string as a TiKV key or MVCC value, or a TiDB key, row or cell: never a panic.
use libfuzzer_sys::fuzz_target;
use rockrescue::tidb::{datum, key, row, value};
use rockrescue::tikv::mvcc;

fuzz_target!(|data: &[u8]| {
    let _ = mvcc::parse_write(data);
    let _ = mvcc::parse_lock(data);
    let _ = mvcc::parse_data_key(data, true);
    let _ = mvcc::parse_data_key(data, false);
    let _ = key::parse(data);
    if let Ok(r) = row::parse_v2(data) {
        for id in r.ids.iter().chain(&r.null_ids) {
            let _ = r.cell(*id);
        }
    }
    let _ = datum::decode_row_v1(data);
    let _ = datum::decode_one(data);
    let _ = value::json(data);
    let _ = value::decimal(data);
    let _ = value::int(data);
    let _ = value::float(data);
    if data.len() >= 9 {
        let p = u64::from_le_bytes(data[..8].try_into().unwrap());
        let _ = value::packed_time(p, data[8] % 8, false);
        let _ = value::duration(p as i64, data[8] % 8);
    }
});
