//! Self-test of the MariaDB harness (tests/support/mariadb.rs): a hand-made Dumpling directory
//! loads and reads back byte-exact; `rows` is exact for every byte and for NULL; errors and
//! LOAD DATA warnings fail loudly; the DDL of `export::sqlschema` loads into MariaDB.
//! Skips (with a message) when MariaDB is not installed, unless ROCKRESCUE_REQUIRE_MARIADB is set.

#[path = "support/mariadb.rs"]
mod mariadb;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use mariadb::{cell, Row, Server};
use rockrescue::export::sqlschema::{
    create_database_sql_with, create_table_sql_from_json, SchemaOptions,
};
use rockrescue::tidb::schema::DbInfo;

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).unwrap();
}

const ITEMS_SCHEMA: &str = "/*!40101 SET NAMES binary*/;
CREATE TABLE `items` (
  `id` bigint(20) NOT NULL,
  `price` decimal(10,2) DEFAULT NULL,
  `qty` int(10) unsigned DEFAULT NULL,
  `made` datetime(6) DEFAULT NULL,
  `seen` timestamp(3) NULL DEFAULT NULL,
  `dur` time(2) DEFAULT NULL,
  `kind` enum('a','b''c') DEFAULT NULL,
  `tags` set('x','y','z') DEFAULT NULL,
  `flags` bit(10) DEFAULT NULL,
  `doc` json DEFAULT NULL,
  `data` blob DEFAULT NULL,
  `name` varchar(20) DEFAULT NULL,
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
";

const EVENTS_SCHEMA: &str = "/*!40101 SET NAMES binary*/;
CREATE TABLE `events` (
  `id` int(11) NOT NULL,
  `at` datetime(6) DEFAULT NULL,
  `ts` timestamp NULL DEFAULT NULL,
  `amount` decimal(20,6) DEFAULT NULL,
  `state` enum('new','done') NOT NULL,
  `perm` set('r','w','x') DEFAULT NULL,
  `mask` bit(3) DEFAULT NULL,
  `attrs` json DEFAULT NULL,
  `payload` longblob,
  `note` text,
  `t` time DEFAULT NULL,
  `f` double DEFAULT NULL,
  PRIMARY KEY (`id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
";

/// The bytes 00 ff '"' '\\' '\n' that every blob below holds in some spelling.
const NASTY: &[u8] = b"\x00\xff\"\\\n";

fn write_dump(dir: &Path) {
    write(dir, "metadata", b"Started dump at: 2024-01-01 00:00:00\n");
    write(
        dir,
        "shop-schema-create.sql",
        b"/*!40101 SET NAMES binary*/;\nCREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n",
    );
    write(dir, "shop.items-schema.sql", ITEMS_SCHEMA.as_bytes());
    write(dir, "shop.events-schema.sql", EVENTS_SCHEMA.as_bytes());
    write(
        dir,
        "shop.odd.name-schema.sql",
        b"CREATE TABLE `odd.name` (\n  `k` varchar(5) NOT NULL,\n  `v` int(11) DEFAULT NULL,\n  PRIMARY KEY (`k`)\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;\n",
    );

    // SQL data: hex literals, backslash escapes and a raw 0xff byte inside a string literal.
    let mut sql0 = Vec::new();
    sql0.extend_from_slice(b"/*!40101 SET NAMES binary*/;\n/*!40014 SET FOREIGN_KEY_CHECKS=0*/;\n");
    sql0.extend_from_slice(b"INSERT INTO `items` VALUES\n");
    sql0.extend_from_slice(
        b"(1,12.50,4294967295,'2024-02-29 23:59:59.123456','2024-01-01 00:00:00.500','-838:59:59.00','b''c','x,z',b'1000000001','{\"a\": [1, \"x\\\\\"y\"]}',x'00FF225C0A','h\xc3\xa9llo'),\n",
    );
    sql0.extend_from_slice(
        b"(2,-0.01,0,'1000-01-01 00:00:00.000000','1970-01-01 00:00:01.000','00:00:00.5','a','',x'0005','null','\\0\xff\"\\\\\\n','tab\\there');\n",
    );
    write(dir, "shop.items.000000000.sql", &sql0);
    let sql1 = b"/*!40101 SET NAMES binary*/;\nINSERT INTO `items` VALUES (3,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL),(4,0.00,1,'2000-01-01 00:00:00.000001','2000-01-01 12:00:00.000','838:59:59.99','a','x,y,z',x'0000','[]',_binary '\\Z\\r','NULL');\n";
    write(dir, "shop.items.000000001.sql", sql1);

    // CSV data, Dumpling style: quoted strings, unquoted numbers and \N.
    let mut csv = Vec::new();
    csv.extend_from_slice(b"\"id\",\"at\",\"ts\",\"amount\",\"state\",\"perm\",\"mask\",\"attrs\",\"payload\",\"note\",\"t\",\"f\"\n");
    csv.extend_from_slice(
        b"1,\"2023-12-31 23:59:59.999999\",\"2038-01-19 03:14:07\",-12345678901234.123456,\"done\",\"r,x\",\"\x05\",\"{\\\"k\\\": \\\"v\\\\\\\\w\\\"}\",\"\\0\xff\\\"\\\\\\n\",\"multi\\nline \\\"q\\\" \\Z\\r\",\"-00:00:01\",0.1\n",
    );
    csv.extend_from_slice(b"2,\\N,\\N,\\N,\"new\",\\N,\\N,\\N,\\N,\\N,\\N,\\N\n");
    csv.extend_from_slice(b"3,\\N,\\N,0,\"new\",\"\",\"\\0\",\"[]\",\"\",\"NULL\",\\N,-1.5e300\n");
    write(dir, "shop.events.000000000.csv", &csv);

    write(
        dir,
        "shop.odd.name.000000000.csv",
        b"k,v\n\"a\",1\n\"b.c\",\\N\n",
    );
}

#[test]
fn loads_a_dumpling_dir_byte_exact() {
    let Some(srv) = Server::start() else { return };
    let tmp = tempfile::tempdir().unwrap();
    write_dump(tmp.path());
    let load = srv.load_dumpling_dir(tmp.path());
    assert_eq!(load.databases, vec!["shop".to_string()]);
    assert_eq!(
        load.tables,
        vec![
            ("shop".to_string(), "events".to_string()),
            ("shop".to_string(), "items".to_string()),
            ("shop".to_string(), "odd.name".to_string()),
        ]
    );
    let names: Vec<String> = load
        .data_files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "shop.events.000000000.csv",
            "shop.items.000000000.sql",
            "shop.items.000000001.sql",
            "shop.odd.name.000000000.csv"
        ]
    );

    let cols = [
        "id", "price", "qty", "made", "seen", "dur", "kind", "tags", "flags", "doc", "data", "name",
    ];
    let items = srv.table_rows("shop", "items", &cols, "`id`");
    let expected: Vec<Row> = vec![
        vec![
            cell("1"),
            cell("12.50"),
            cell("4294967295"),
            cell("2024-02-29 23:59:59.123456"),
            cell("2024-01-01 00:00:00.500"),
            cell("-838:59:59.00"),
            cell("b'c"),
            cell("x,z"),
            cell("513"),
            cell("{\"a\": [1, \"x\\\"y\"]}"),
            cell(NASTY),
            cell("h\u{e9}llo"),
        ],
        vec![
            cell("2"),
            cell("-0.01"),
            cell("0"),
            cell("1000-01-01 00:00:00.000000"),
            cell("1970-01-01 00:00:01.000"),
            cell("00:00:00.50"),
            cell("a"),
            cell(""),
            cell("5"),
            cell("null"),
            cell(NASTY),
            cell("tab\there"),
        ],
        {
            let mut r = vec![cell("3")];
            r.resize(cols.len(), None);
            r
        },
        vec![
            cell("4"),
            cell("0.00"),
            cell("1"),
            cell("2000-01-01 00:00:00.000001"),
            cell("2000-01-01 12:00:00.000"),
            cell("838:59:59.99"),
            cell("a"),
            cell("x,y,z"),
            cell("0"),
            cell("[]"),
            cell(b"\x1a\r"),
            cell("NULL"),
        ],
    ];
    assert_eq!(items, expected);

    let cols = [
        "id", "at", "ts", "amount", "state", "perm", "mask", "attrs", "payload", "note", "t", "f",
    ];
    let events = srv.table_rows("shop", "events", &cols, "`id`");
    let expected: Vec<Row> = vec![
        vec![
            cell("1"),
            cell("2023-12-31 23:59:59.999999"),
            cell("2038-01-19 03:14:07"),
            cell("-12345678901234.123456"),
            cell("done"),
            cell("r,x"),
            cell("5"),
            cell("{\"k\": \"v\\\\w\"}"),
            cell(NASTY),
            cell("multi\nline \"q\" \x1a\r"),
            cell("-00:00:01"),
            cell("0.1"),
        ],
        vec![
            cell("2"),
            None,
            None,
            None,
            cell("new"),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
        ],
        vec![
            cell("3"),
            None,
            None,
            cell("0.000000"),
            cell("new"),
            cell(""),
            cell("0"),
            cell("[]"),
            cell(""),
            cell("NULL"),
            None,
            cell("-1.5e300"),
        ],
    ];
    assert_eq!(events, expected);

    let odd = srv.table_rows("shop", "odd.name", &["k", "v"], "`k`");
    assert_eq!(
        odd,
        vec![vec![cell("a"), cell("1")], vec![cell("b.c"), None]]
    );
}

#[test]
fn rows_are_exact_and_failures_are_loud() {
    let Some(srv) = Server::start() else { return };
    srv.exec("CREATE DATABASE t; CREATE TABLE t.b (id INT PRIMARY KEY, v LONGBLOB, s VARCHAR(10), bt BIT(12))");
    let all: Vec<u8> = (0..=255u8).collect();
    let hex: String = all.iter().map(|b| format!("{b:02X}")).collect();
    srv.exec(&format!(
        "INSERT INTO t.b VALUES (1, x'{hex}', 'NULL', b'101'), (2, '', '', NULL), (3, NULL, NULL, b'111111111111')"
    ));
    let rows = srv.rows("SELECT v, s, bt FROM t.b ORDER BY id;");
    assert_eq!(
        rows,
        vec![
            // BIT(12): ceil(12/8) = 2 big-endian bytes.
            vec![cell(&all), cell("NULL"), cell([0u8, 5])],
            vec![cell(""), cell(""), None],
            vec![None, None, cell([0x0f, 0xff])],
        ]
    );
    // table_rows renders BIT as a number.
    assert_eq!(
        srv.table_rows("t", "b", &["bt"], "id DESC"),
        vec![vec![cell("4095")], vec![None], vec![cell("5")]]
    );
    assert_eq!(
        srv.rows("SELECT 1 FROM t.b WHERE id > 100"),
        Vec::<Row>::new()
    );
    assert_eq!(
        srv.rows("SELECT NULL, 'a\tb\nc\\\\N', 1.5, CAST('2020-01-01 10:00:00' AS DATETIME)"),
        vec![vec![
            None,
            cell("a\tb\nc\\N"),
            cell("1.5"),
            cell("2020-01-01 10:00:00")
        ]]
    );
    // Session time zone is UTC.
    assert_eq!(srv.rows("SELECT @@time_zone"), vec![vec![cell("+00:00")]]);

    let err = catch_unwind(AssertUnwindSafe(|| srv.exec("SELEC 1"))).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("ERROR 1064"), "{msg}");

    // LOAD DATA LOCAL turns a duplicate key into a warning: the harness makes it a failure.
    let tmp = tempfile::tempdir().unwrap();
    let csv = tmp.path().join("dup.csv");
    fs::write(&csv, b"id,s\n10,\"a\"\n10,\"b\"\n").unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| {
        srv.load_csv("t", "b", &csv, &["id", "s"])
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("Duplicate entry"), "{msg}");

    // Invalid UTF-8 into a utf8mb4 column fails (strict mode).
    let err = catch_unwind(AssertUnwindSafe(|| {
        srv.exec_in(None, b"INSERT INTO t.b (id, s) VALUES (20, 'bad\xff')")
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("Incorrect string value"), "{msg}");
}

/// TableInfo JSON as TiDB writes it, with what MariaDB lacks: MySQL 8 collations, gb18030, a
/// NOT NULL generated column, an expression index over a hidden column, partitions.
const TIDB_TABLE: &str = r#"{"id":300,"name":{"O":"Mixed","L":"mixed"},"charset":"utf8mb4","collate":"utf8mb4_0900_ai_ci",
  "cols":[
    {"id":1,"name":{"O":"id","L":"id"},"offset":0,"default":null,"type":{"Tp":8,"Flag":4099,"Flen":20,"Charset":"binary","Collate":"binary"},"state":5},
    {"id":2,"name":{"O":"region","L":"region"},"offset":1,"default":null,"type":{"Tp":15,"Flag":4099,"Flen":16,"Charset":"utf8mb4","Collate":"utf8mb4_0900_ai_ci"},"state":5},
    {"id":3,"name":{"O":"amount","L":"amount"},"offset":2,"default":"0.00","type":{"Tp":246,"Flag":1,"Flen":12,"Decimal":2},"state":5,"comment":"net 'amount'"},
    {"id":4,"name":{"O":"kind","L":"kind"},"offset":3,"default":"b'c","type":{"Tp":247,"Flag":1,"Flen":-1,"Charset":"utf8mb4","Collate":"utf8mb4_0900_bin","Elems":["a","b'c","d\\e"]},"state":5},
    {"id":5,"name":{"O":"flags","L":"flags"},"offset":4,"default":"\u0005","default_bit":"BQ==","type":{"Tp":16,"Flag":32,"Flen":3},"state":5},
    {"id":6,"name":{"O":"zh","L":"zh"},"offset":5,"default":null,"type":{"Tp":15,"Flag":0,"Flen":8,"Charset":"gb18030","Collate":"gb18030_chinese_ci"},"state":5},
    {"id":7,"name":{"O":"double_id","L":"double_id"},"offset":6,"default":null,"generated_expr_string":"`id` * 2","generated_stored":false,"type":{"Tp":8,"Flag":1,"Flen":20},"state":5},
    {"id":8,"name":{"O":"changed","L":"changed"},"offset":7,"default":"CURRENT_TIMESTAMP","type":{"Tp":7,"Flag":8193,"Flen":23,"Decimal":3},"state":5},
    {"id":9,"name":{"O":"made","L":"made"},"offset":8,"default":"2020-02-02 02:02:02","type":{"Tp":12,"Flag":0,"Flen":19},"state":5},
    {"id":10,"name":{"O":"doc","L":"doc"},"offset":9,"default":null,"type":{"Tp":245,"Flag":0,"Charset":"binary","Collate":"binary"},"state":5},
    {"id":11,"name":{"O":"body","L":"body"},"offset":10,"default":null,"type":{"Tp":252,"Flag":4096,"Flen":65535,"Charset":"utf8mb4","Collate":"utf8mb4_0900_ai_ci"},"state":5},
    {"id":12,"name":{"O":"_V$_idx_0","L":"_v$_idx_0"},"offset":11,"default":null,"hidden":true,"generated_expr_string":"lower(`region`)","type":{"Tp":15,"Flen":16},"state":5},
    {"id":13,"name":{"O":"y","L":"y"},"offset":12,"default":"2024","type":{"Tp":13,"Flag":32,"Flen":4},"state":5}
  ],
  "index_info":[
    {"id":1,"idx_name":{"O":"PRIMARY","L":"primary"},"idx_cols":[{"name":{"O":"region","L":"region"},"length":-1},{"name":{"O":"id","L":"id"},"length":-1}],"is_unique":true,"is_primary":true,"state":5},
    {"id":2,"idx_name":{"O":"uk_kind","L":"uk_kind"},"idx_cols":[{"name":{"O":"kind","L":"kind"},"length":-1},{"name":{"O":"id","L":"id"},"length":-1}],"is_unique":true,"state":5},
    {"id":3,"idx_name":{"O":"idx_lower","L":"idx_lower"},"idx_cols":[{"name":{"O":"_V$_idx_0","L":"_v$_idx_0"},"length":-1}],"state":5},
    {"id":4,"idx_name":{"O":"idx_body","L":"idx_body"},"idx_cols":[{"name":{"O":"body","L":"body"},"length":20}],"state":5}
  ],
  "pk_is_handle":false,"is_common_handle":false,"state":5,"comment":"mixed bag",
  "partition":{"type":1,"definitions":[{"id":301,"name":{"O":"p0","L":"p0"}},{"id":302,"name":{"O":"p1","L":"p1"}}]}}"#;

#[test]
fn generated_ddl_loads_into_mariadb() {
    let Some(srv) = Server::start() else { return };
    let portable = SchemaOptions {
        portable_collations: true,
    };
    let db = DbInfo::parse(
        br#"{"id":2,"db_name":{"O":"tidb","L":"tidb"},"charset":"utf8mb4","collate":"utf8mb4_0900_ai_ci"}"#,
    )
    .unwrap();
    srv.exec(&create_database_sql_with(&db, &portable));
    let ddl = create_table_sql_from_json(TIDB_TABLE.as_bytes(), &portable).unwrap();
    srv.exec_in(Some("tidb"), ddl.as_bytes());
    // Defaults as the DDL states them.
    srv.exec("INSERT INTO tidb.Mixed (id, region) VALUES (7, 'eu')");
    assert_eq!(
        srv.table_rows(
            "tidb",
            "Mixed",
            &[
                "id",
                "region",
                "amount",
                "kind",
                "flags",
                "zh",
                "double_id",
                "made",
                "doc",
                "body",
                "y"
            ],
            "id"
        ),
        vec![vec![
            cell("7"),
            cell("eu"),
            cell("0.00"),
            cell("b'c"),
            cell("5"),
            None,
            cell("14"),
            cell("2020-02-02 02:02:02"),
            None,
            None,
            cell("2024"),
        ]]
    );
    let comment = srv.rows(
        "SELECT TABLE_COLLATION, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA='tidb' AND TABLE_NAME='Mixed'",
    );
    assert_eq!(
        comment,
        vec![vec![cell("utf8mb4_general_ci"), cell("mixed bag")]]
    );

    // Without portable collations the MySQL 8 collations are kept, and MariaDB refuses them.
    let native = create_table_sql_from_json(TIDB_TABLE.as_bytes(), &SchemaOptions::default())
        .unwrap()
        .replace("`Mixed`", "`Native`");
    assert!(native.contains("utf8mb4_0900_ai_ci"));
    let err = catch_unwind(AssertUnwindSafe(|| {
        srv.exec_in(Some("tidb"), native.as_bytes())
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("Unknown collation") || msg.contains("Unknown character set"),
        "{msg}"
    );
}
