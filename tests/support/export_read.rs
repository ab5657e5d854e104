//! Reading an export back (CSV, SQL, JSON lines, as `tidb export` and `br export` write them)
//! and comparing it with a generator's expected tables, cell for cell.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use rockrescue::export::tidb::{TidbExportReport, TidbFormat};

use crate::tikv_expected::{show, Cell, Table};

/// Read back our CSV: header, then fields (quoted with backslash escapes, bare numbers, `\N`).
fn parse_csv(b: &[u8]) -> (Vec<String>, Vec<Vec<Cell>>) {
    let mut rows: Vec<Vec<Cell>> = Vec::new();
    let mut row: Vec<Cell> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let cell: Cell = if b[i] == b'"' {
            let mut v = Vec::new();
            i += 1;
            loop {
                match b[i] {
                    b'\\' => {
                        v.push(match b[i + 1] {
                            b'0' => 0,
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b'Z' => 0x1a,
                            b't' => b'\t',
                            c => c,
                        });
                        i += 2;
                    }
                    b'"' => {
                        i += 1;
                        break;
                    }
                    c => {
                        v.push(c);
                        i += 1;
                    }
                }
            }
            Some(v)
        } else {
            let s = i;
            while i < b.len() && b[i] != b',' && b[i] != b'\n' {
                i += 1;
            }
            if &b[s..i] == b"\\N" {
                None
            } else {
                Some(b[s..i].to_vec())
            }
        };
        row.push(cell);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b'\n') => {
                i += 1;
                rows.push(std::mem::take(&mut row));
            }
            None => {}
            Some(c) => panic!("unexpected byte {c} after a CSV field at {i}"),
        }
    }
    let header = rows.remove(0);
    (
        header
            .into_iter()
            .map(|c| String::from_utf8(c.unwrap()).unwrap())
            .collect(),
        rows,
    )
}

/// Read back our SQL data file: `INSERT INTO t VALUES (..),(..);` with numbers, NULL, quoted
/// strings (backslash escapes) and x'hex'.
fn parse_sql(b: &[u8]) -> Vec<Vec<Cell>> {
    let mut rows = Vec::new();
    let text = b;
    let mut i = 0;
    while let Some(p) = find(&text[i..], b"VALUES\n") {
        i += p + 7;
        loop {
            assert_eq!(text[i], b'(', "at {i}");
            i += 1;
            let mut row = Vec::new();
            loop {
                let cell: Cell;
                if text[i] == b'\'' {
                    let mut v = Vec::new();
                    i += 1;
                    loop {
                        match text[i] {
                            b'\\' => {
                                v.push(match text[i + 1] {
                                    b'0' => 0,
                                    b'n' => b'\n',
                                    b'r' => b'\r',
                                    b'Z' => 0x1a,
                                    c => c,
                                });
                                i += 2;
                            }
                            b'\'' => {
                                i += 1;
                                break;
                            }
                            c => {
                                v.push(c);
                                i += 1;
                            }
                        }
                    }
                    cell = Some(v);
                } else if text[i..].starts_with(b"x'") {
                    let e = i + 2 + find(&text[i + 2..], b"'").unwrap();
                    cell = Some(hex::decode(&text[i + 2..e]).unwrap());
                    i = e + 1;
                } else {
                    let s = i;
                    while text[i] != b',' && text[i] != b')' {
                        i += 1;
                    }
                    cell = if &text[s..i] == b"NULL" {
                        None
                    } else {
                        Some(text[s..i].to_vec())
                    };
                }
                row.push(cell);
                if text[i] == b',' {
                    i += 1;
                } else {
                    assert_eq!(text[i], b')');
                    i += 1;
                    break;
                }
            }
            rows.push(row);
            if text[i..].starts_with(b",\n") {
                i += 2;
            } else {
                break;
            }
        }
    }
    rows
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// A JSONL value back to the text MySQL prints, given the expected text (floats compare by value).
fn jsonl_cell(v: &serde_json::Value, want: &Cell) -> Cell {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.as_bytes().to_vec()),
        serde_json::Value::Object(o) if o.len() == 1 && o.contains_key("hex") => {
            Some(hex::decode(o["hex"].as_str().unwrap()).unwrap())
        }
        serde_json::Value::Number(n) => {
            let ours = n.to_string();
            // Integers print the same; a float prints as the expected text when it has the
            // same value.
            if let (Some(w), Some(f)) = (want, n.as_f64()) {
                if std::str::from_utf8(w)
                    .ok()
                    .and_then(|w| w.parse::<f64>().ok())
                    .is_some_and(|x| x == f || (x as f32) == (f as f32))
                    && !ours.chars().all(|c| c.is_ascii_digit() || c == '-')
                {
                    return Some(w.clone());
                }
            }
            Some(ours.into_bytes())
        }
        // Embedded JSON: compare as text the way MySQL prints it is not possible here; compare
        // structurally against the expected text.
        other => {
            if let Some(w) = want {
                if serde_json::from_slice::<serde_json::Value>(w).ok().as_ref() == Some(other) {
                    return Some(w.clone());
                }
            }
            Some(other.to_string().into_bytes())
        }
    }
}

/// Our export of every table, read back, keyed `db.table`.
pub fn read_back(
    out: &Path,
    rep: &TidbExportReport,
    format: TidbFormat,
    want: &BTreeMap<String, Table>,
) -> BTreeMap<String, Table> {
    let mut got = BTreeMap::new();
    for t in &rep.tables {
        let key = format!("{}.{}", t.db, t.table);
        let mut columns = Vec::new();
        let mut rows = Vec::new();
        for f in &t.files {
            let b = std::fs::read(out.join(f)).unwrap();
            match format {
                TidbFormat::Csv => {
                    let (h, r) = parse_csv(&b);
                    columns = h;
                    rows.extend(r);
                }
                TidbFormat::Sql => rows.extend(parse_sql(&b)),
                TidbFormat::Jsonl => {
                    for line in b.split(|c| *c == b'\n').filter(|l| !l.is_empty()) {
                        let v: serde_json::Map<String, serde_json::Value> =
                            serde_json::from_slice(line).unwrap();
                        // (serde_json maps are sorted: take the columns' order from the
                        // expectation and every value by name.)
                        let wt = want.get(&key);
                        let names: Vec<String> = wt.map(|w| w.columns.clone()).unwrap_or_default();
                        assert_eq!(v.len(), names.len(), "{key}: JSONL keys {:?}", v.keys());
                        columns = names.clone();
                        let wrow = wt.and_then(|w| w.rows.get(rows.len()).cloned());
                        let row: Vec<Cell> = names
                            .iter()
                            .enumerate()
                            .map(|(i, n)| {
                                let x =
                                    v.get(n).unwrap_or_else(|| panic!("{key}: no {n} in JSONL"));
                                let w = wrow.as_ref().and_then(|r| r.get(i).cloned()).flatten();
                                jsonl_cell(x, &w)
                            })
                            .collect();
                        rows.push(row);
                    }
                }
            }
        }
        if format == TidbFormat::Sql || columns.is_empty() {
            columns = want
                .get(&key)
                .map(|w| w.columns.clone())
                .unwrap_or_default();
        }
        got.insert(
            key,
            Table {
                db: t.db.clone(),
                table: t.table.clone(),
                columns,
                rows,
            },
        );
    }
    got
}

pub fn compare(scenario: &str, got: &BTreeMap<String, Table>, want: &BTreeMap<String, Table>) {
    let mut errors = Vec::new();
    for (name, w) in want {
        let Some(g) = got.get(name) else {
            errors.push(format!("{scenario}: table {name} not exported"));
            continue;
        };
        if g.columns != w.columns {
            errors.push(format!(
                "{scenario}: {name}: columns {:?}, want {:?}",
                g.columns, w.columns
            ));
            continue;
        }
        if g.rows.len() != w.rows.len() {
            errors.push(format!(
                "{scenario}: {name}: {} rows, want {}",
                g.rows.len(),
                w.rows.len()
            ));
        }
        for (i, (gr, wr)) in g.rows.iter().zip(&w.rows).enumerate() {
            for (j, (gc, wc)) in gr.iter().zip(wr).enumerate() {
                if gc != wc {
                    errors.push(format!(
                        "{scenario}: {name} row {i} column {}: {} want {}",
                        w.columns.get(j).map_or("?", |s| s.as_str()),
                        show(gc),
                        show(wc)
                    ));
                }
            }
        }
    }
    for name in got.keys() {
        if !want.contains_key(name) {
            errors.push(format!(
                "{scenario}: table {name} exported but not expected"
            ));
        }
    }
    if !errors.is_empty() {
        let n = errors.len();
        errors.truncate(60);
        panic!("{n} differences:\n{}", errors.join("\n"));
    }
}
