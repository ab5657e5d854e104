//! The SQL and CSV that `tidb export` writes for the three-store fixture load into a real MariaDB
//! server without edits, and read back as the generator's expected rows (compared as multisets:
//! a table without a primary key has no order to ask for).

#[path = "support/mariadb.rs"]
mod mariadb;
#[path = "support/tikv_expected.rs"]
mod tikv_expected;

use rockrescue::export::tidb::{export, TidbExportOptions, TidbFormat};
use rockrescue::tikv::region::MergeMode;
use tikv_expected::{expected_dir, show, stores, Cell};

fn load_and_compare(format: TidbFormat) {
    let out = tempfile::tempdir().unwrap();
    let opts = TidbExportOptions {
        format,
        portable_collations: true,
        // The generator's `merged` expectation is the key-level merge (its planted same-ts
        // conflict resolves to the first store listed).
        merge: Some(MergeMode::Keys),
        ..TidbExportOptions::default()
    };
    let dirs = stores(&["store1", "store2", "store3"]);
    export(
        &dirs,
        Some(out.path()),
        &out.path().join(".tmp"),
        &opts,
        &|_| {},
    )
    .unwrap();
    load_dir_and_compare(out.path(), &expected_dir("merged"), format);
}

/// Load a Dumpling-layout directory into a fresh MariaDB and compare every expected table.
fn load_dir_and_compare(
    out: &std::path::Path,
    expected: &std::collections::BTreeMap<String, tikv_expected::Table>,
    format: TidbFormat,
) {
    let Some(srv) = mariadb::Server::start() else {
        return;
    };
    let _ = std::fs::remove_dir_all(out.join(".tmp"));
    srv.load_dumpling_dir(out);
    let mut errors = Vec::new();
    for (name, want) in expected {
        let cols: Vec<String> = want.columns.iter().map(|c| mariadb::ident(c)).collect();
        let sql = format!(
            "SELECT {} FROM {}.{}",
            cols.join(", "),
            mariadb::ident(&want.db),
            mariadb::ident(&want.table)
        );
        let mut got: Vec<Vec<Cell>> = srv.rows(&sql);
        let mut exp = want.rows.clone();
        got.sort();
        exp.sort();
        if got.len() != exp.len() {
            errors.push(format!(
                "{format:?} {name}: {} rows loaded, want {}",
                got.len(),
                exp.len()
            ));
        }
        for (g, w) in got.iter().zip(&exp) {
            for (j, (gc, wc)) in g.iter().zip(w).enumerate() {
                if gc != wc {
                    errors.push(format!(
                        "{format:?} {name} column {}: {} want {}",
                        want.columns[j],
                        show(gc),
                        show(wc)
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        let n = errors.len();
        errors.truncate(40);
        panic!("{n} differences:\n{}", errors.join("\n"));
    }
}

/// A table exported from a BR backup (corpus/br, `gen-tikv --br`) loads the same way.
#[test]
fn br_export_loads_into_mariadb() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/br");
    let b = rockrescue::br::meta::open(&dir.join("v2"), None).unwrap();
    for format in [TidbFormat::Sql, TidbFormat::Csv] {
        let out = tempfile::tempdir().unwrap();
        let opts = TidbExportOptions {
            format,
            portable_collations: true,
            ..TidbExportOptions::default()
        };
        rockrescue::export::br::export_txn(
            &b,
            None,
            Some(out.path()),
            &out.path().join(".tmp"),
            &opts,
            &|_| {},
        )
        .unwrap();
        load_dir_and_compare(
            out.path(),
            &tikv_expected::expected_dir_at(&dir, ""),
            format,
        );
    }
}

#[test]
fn sql_loads_into_mariadb() {
    load_and_compare(TidbFormat::Sql);
}

#[test]
fn csv_loads_into_mariadb() {
    load_and_compare(TidbFormat::Csv);
}
