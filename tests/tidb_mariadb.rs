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
    let Some(srv) = mariadb::Server::start() else {
        return;
    };
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
    let _ = std::fs::remove_dir_all(out.path().join(".tmp"));
    srv.load_dumpling_dir(out.path());
    let mut errors = Vec::new();
    for (name, want) in expected_dir("merged") {
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

#[test]
fn sql_loads_into_mariadb() {
    load_and_compare(TidbFormat::Sql);
}

#[test]
fn csv_loads_into_mariadb() {
    load_and_compare(TidbFormat::Csv);
}
