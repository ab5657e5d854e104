#![no_main]
//! Any byte string as a TiKV key or MVCC value, or a TiDB key, row or cell: never a panic.
use libfuzzer_sys::fuzz_target;
use rockrescue::tidb::decode::{decode_row, export_columns, RowHandle};
use rockrescue::tidb::schema::TableInfo;
use rockrescue::tidb::{datum, key, row, value};
use std::sync::OnceLock;

/// A table with a column of every type (ids 1..=24), clustered on (c_varchar, c_int).
fn table() -> &'static TableInfo {
    static T: OnceLock<TableInfo> = OnceLock::new();
    T.get_or_init(|| {
        let types: [(u8, u32, i64, i64, &str); 24] = [
            (1, 0, 4, 0, "binary"), (2, 32, 6, 0, "binary"), (9, 0, 9, 0, "binary"),
            (3, 0, 11, 0, "binary"), (8, 32, 20, 0, "binary"), (4, 0, 12, 0, "binary"),
            (5, 0, 22, 0, "binary"), (246, 0, 20, 4, "binary"), (254, 0, 10, 0, "utf8mb4"),
            (15, 0, 32, 0, "utf8mb4"), (252, 128, 65535, 0, "binary"), (254, 128, 8, 0, "binary"),
            (10, 0, 10, 0, "binary"), (12, 0, 26, 6, "binary"), (7, 0, 23, 3, "binary"),
            (11, 0, 15, 6, "binary"), (13, 32, 4, 0, "binary"), (247, 0, -1, 0, "utf8mb4"),
            (248, 0, -1, 0, "utf8mb4"), (16, 32, 10, 0, "binary"), (245, 128, -1, 0, "binary"),
            (225, 0, -1, 0, "binary"), (3, 0, 11, 0, "binary"), (15, 0, 32, 0, "utf8mb4"),
        ];
        let cols: Vec<String> = types
            .iter()
            .enumerate()
            .map(|(i, (tp, flag, flen, dec, cs))| {
                format!(
                    r#"{{"id":{},"name":{{"O":"c{i}","L":"c{i}"}},"offset":{i},"state":5,"origin_default":"7",
                    "type":{{"Tp":{tp},"Flag":{flag},"Flen":{flen},"Decimal":{dec},"Charset":"{cs}","Collate":"{cs}_bin","Elems":["a","b"]}}}}"#,
                    i + 1
                )
            })
            .collect();
        let json = format!(
            r#"{{"id":5,"is_common_handle":true,"cols":[{}],"index_info":[{{"id":1,"is_primary":true,
            "idx_cols":[{{"name":{{"O":"c9","L":"c9"}},"offset":9,"length":-1}},{{"name":{{"O":"c3","L":"c3"}},"offset":3,"length":-1}}]}}]}}"#,
            cols.join(",")
        );
        TableInfo::parse(json.as_bytes()).expect("fuzz table JSON")
    })
}
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
    // A whole row of every type, as v1/v2 row bytes, with an int and a clustered handle.
    let t = table();
    let cols = export_columns(t);
    let _ = decode_row(t, &cols, &RowHandle::Int(-1), data);
    let half = data.len() / 2;
    let _ = decode_row(t, &cols, &RowHandle::Common(&data[..half]), &data[half..]);
    if data.len() >= 9 {
        let p = u64::from_le_bytes(data[..8].try_into().unwrap());
        let _ = value::packed_time(p, data[8] % 8, false);
        let _ = value::duration(p as i64, data[8] % 8);
    }
});
