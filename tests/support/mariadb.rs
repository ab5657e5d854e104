//! A throwaway MariaDB server for integration tests: load exported dumps (Dumpling's layout) and
//! read rows back byte-exact.
//!
//! Include it with `#[path = "support/mariadb.rs"] mod mariadb;` and start with
//! `let Some(srv) = mariadb::Server::start() else { return };` ([`Server::start`] prints why it
//! skips). When `mariadbd` is absent the tests skip, unless `ROCKRESCUE_REQUIRE_MARIADB` is set
//! (to anything but "" or "0"): then absence is a failure, so CI never skips silently.
//!
//! Each [`Server`] is private to its test: own data directory, socket and loopback port, killed
//! and removed on drop. The server runs with `--no-defaults` (no config files) plus
//! `character-set-server=utf8mb4`, `collation-server=utf8mb4_bin`, `default-time-zone=+00:00`
//! and MariaDB's default `sql_mode` (STRICT_TRANS_TABLES, ERROR_FOR_DIVISION_BY_ZERO,
//! NO_AUTO_CREATE_USER, NO_ENGINE_SUBSTITUTION: strict, zero dates allowed). Every client session
//! uses the `binary` character set (what Dumpling's files ask for with `SET NAMES binary`) and
//! `--binary-mode`, so bytes in SQL files reach the server untouched; TIMESTAMP values in files
//! are read as UTC.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One row as read back: a value per column, `None` for SQL NULL.
pub type Row = Vec<Option<Vec<u8>>>;

/// A value cell for assertions: `cell("12")`, `cell(b"\x00\xff")`.
pub fn cell(v: impl AsRef<[u8]>) -> Option<Vec<u8>> {
    Some(v.as_ref().to_vec())
}

/// A running server.
pub struct Server {
    child: Child,
    port: u16,
    socket: PathBuf,
    /// Where the server may write `SELECT ... INTO OUTFILE` (its `secure_file_priv`).
    out_dir: PathBuf,
    error_log: PathBuf,
    client: PathBuf,
    queries: AtomicU64,
    // Last: removed after the server is gone.
    dir: tempfile::TempDir,
}

/// What [`Server::load_dumpling_dir`] loaded, in load order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DumpLoad {
    pub databases: Vec<String>,
    /// (database, table) per `-schema.sql` file.
    pub tables: Vec<(String, String)>,
    /// Data files (`.sql` and `.csv`).
    pub data_files: Vec<PathBuf>,
    /// Other schema files (`-schema-view.sql`, ...), loaded after the data.
    pub other_schema_files: Vec<PathBuf>,
}

fn required() -> bool {
    std::env::var_os("ROCKRESCUE_REQUIRE_MARIADB").is_some_and(|v| !v.is_empty() && v != "0")
}

/// A program in PATH or in the usual sbin directories (Debian puts `mariadbd` in /usr/sbin,
/// which is not in every PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for d in [
        "/usr/sbin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/usr/bin",
        "/sbin",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

fn running_as_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

fn tail(path: &Path, max: usize) -> String {
    let b = fs::read(path).unwrap_or_default();
    String::from_utf8_lossy(&b[b.len().saturating_sub(max)..]).into_owned()
}

/// A single-quoted SQL string literal (backslash escapes).
pub fn sql_str(s: &str) -> String {
    let mut out = String::from("'");
    for ch in s.chars() {
        match ch {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// A backtick-quoted identifier.
pub fn ident(s: &str) -> String {
    format!("`{}`", s.replace('`', "``"))
}

impl Server {
    /// Start a fresh server, or None (after printing why) when MariaDB is not installed and
    /// `ROCKRESCUE_REQUIRE_MARIADB` is not set. Panics when it is set and MariaDB is missing, or
    /// when the server does not come up (with its error log).
    pub fn start() -> Option<Server> {
        let Some(mariadbd) = find_program("mariadbd") else {
            if required() {
                panic!(
                    "ROCKRESCUE_REQUIRE_MARIADB is set but `mariadbd` is not installed \
                     (apt-get install mariadb-server mariadb-client)"
                );
            }
            eprintln!(
                "skipping: `mariadbd` not found (install mariadb-server and mariadb-client; \
                 set ROCKRESCUE_REQUIRE_MARIADB=1 to fail instead)"
            );
            return None;
        };
        let install_db = find_program("mariadb-install-db")
            .expect("`mariadbd` is installed but `mariadb-install-db` is not");
        let client = find_program("mariadb")
            .expect("`mariadbd` is installed but the `mariadb` client is not (mariadb-client)");

        // Unix socket paths are limited to ~107 bytes: fall back to /tmp for a long TMPDIR.
        let mut builder = tempfile::Builder::new();
        builder.prefix("rr-mariadb-");
        let dir = if std::env::temp_dir().as_os_str().len() > 60 {
            builder.tempdir_in("/tmp")
        } else {
            builder.tempdir()
        }
        .expect("cannot create a temp dir for MariaDB");
        let datadir = dir.path().join("data");
        let out_dir = dir.path().join("out");
        fs::create_dir_all(&out_dir).unwrap();
        // A private tmpdir: a starting server deletes the `#sql*` temp files it finds in its
        // tmpdir, including those of other servers running tests in parallel.
        let tmp = dir.path().join("tmp");
        fs::create_dir_all(&tmp).unwrap();
        let socket = dir.path().join("sock");
        let error_log = dir.path().join("error.log");
        let root = running_as_root();

        let install_log = dir.path().join("install.log");
        let mut cmd = Command::new(&install_db);
        cmd.arg("--no-defaults")
            .arg(format!("--datadir={}", datadir.display()))
            .arg("--auth-root-authentication-method=normal")
            .arg("--skip-test-db")
            .arg("--skip-name-resolve");
        if root {
            cmd.arg("--user=root");
        }
        let log = fs::File::create(&install_log).unwrap();
        let status = cmd
            .env("TMPDIR", &tmp)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .status()
            .expect("cannot run mariadb-install-db");
        if !status.success() {
            panic!(
                "mariadb-install-db failed ({status}):\n{}",
                tail(&install_log, 4000)
            );
        }

        for attempt in 0.. {
            let port = free_port();
            let mut cmd = Command::new(&mariadbd);
            cmd.arg("--no-defaults")
                .arg(format!("--datadir={}", datadir.display()))
                .arg(format!("--socket={}", socket.display()))
                .arg(format!("--port={port}"))
                .arg("--bind-address=127.0.0.1")
                .arg(format!(
                    "--pid-file={}",
                    dir.path().join("mariadbd.pid").display()
                ))
                .arg(format!("--log-error={}", error_log.display()))
                .arg(format!("--secure-file-priv={}", out_dir.display()))
                .arg(format!("--tmpdir={}", tmp.display()))
                .arg("--local-infile=1")
                .arg("--skip-name-resolve")
                .arg("--character-set-server=utf8mb4")
                .arg("--collation-server=utf8mb4_bin")
                .arg("--default-time-zone=+00:00")
                .arg("--max-allowed-packet=1G")
                .arg("--innodb-buffer-pool-size=64M")
                .arg("--innodb-flush-log-at-trx-commit=2")
                .arg("--innodb-doublewrite=0");
            if root {
                cmd.arg("--user=root");
            }
            let mut child = cmd
                .env("TMPDIR", &tmp)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot run mariadbd");
            match wait_ready(&mut child, &client, &socket, Duration::from_secs(60)) {
                Ok(()) => {
                    return Some(Server {
                        child,
                        port,
                        socket,
                        out_dir,
                        error_log,
                        client,
                        queries: AtomicU64::new(0),
                        dir,
                    })
                }
                Err(why) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let log = tail(&error_log, 6000);
                    let port_taken = log.contains("Address already in use")
                        || log.contains("Bind on TCP/IP port");
                    if port_taken && attempt < 3 {
                        // Another process took the port between probe and bind: try another.
                        let _ = fs::remove_file(&error_log);
                        continue;
                    }
                    panic!("MariaDB did not start: {why}\n--- error log ---\n{log}");
                }
            }
        }
        unreachable!()
    }

    /// The loopback TCP port (user root, no password).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The unix socket (user root, no password).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// The server's scratch directory (data directory under `data/`).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn client_command(&self, db: Option<&str>) -> Command {
        client_command(&self.client, &self.socket, db)
    }

    /// Run SQL bytes (any number of statements) with `db` as the default database; returns the
    /// client's stdout (batch mode: tab-separated, no column names, NULL and 'NULL' look alike;
    /// use [`Server::rows`] to read values). Panics with the client's stderr on error.
    pub fn exec_in(&self, db: Option<&str>, sql: &[u8]) -> Vec<u8> {
        let mut child = self
            .client_command(db)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run the mariadb client");
        let mut stdin = child.stdin.take().unwrap();
        let input = sql.to_vec();
        let writer = std::thread::spawn(move || {
            // An error here (broken pipe) shows up as the client's own error below.
            let _ = stdin.write_all(&input);
        });
        let out = child
            .wait_with_output()
            .expect("mariadb client failed to run");
        let _ = writer.join();
        if !out.status.success() {
            let shown = &sql[..sql.len().min(2000)];
            panic!(
                "SQL failed ({}):\n{}\n--- SQL (first {} of {} bytes) ---\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr),
                shown.len(),
                sql.len(),
                String::from_utf8_lossy(shown)
            );
        }
        out.stdout
    }

    /// Run SQL statements; returns stdout as text (see [`Server::exec_in`]).
    pub fn exec(&self, sql: &str) -> String {
        String::from_utf8_lossy(&self.exec_in(None, sql.as_bytes())).into_owned()
    }

    /// Run an SQL file (fed to the client's stdin, byte for byte) with `db` as the default
    /// database. Panics with the client's stderr on error.
    pub fn source_file(&self, db: Option<&str>, path: &Path) {
        let file = fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let out = self
            .client_command(db)
            .stdin(Stdio::from(file))
            .output()
            .expect("cannot run the mariadb client");
        if !out.status.success() {
            panic!(
                "loading {} failed ({}):\n{}",
                path.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    /// `LOAD DATA LOCAL INFILE` of a Dumpling CSV file (header line skipped; `,` separated,
    /// `"` enclosed, `\` escapes, `\N` NULL, `\n` line ends) into `db`.`table` (`columns` in file
    /// order; empty: all, in table order). LOCAL turns errors into warnings (duplicates skipped,
    /// bad values coerced), so any warning is a panic here.
    pub fn load_csv(&self, db: &str, table: &str, path: &Path, columns: &[&str]) {
        let path_text = path.to_str().expect("CSV path is not UTF-8");
        let cols = if columns.is_empty() {
            String::new()
        } else {
            let c: Vec<String> = columns.iter().map(|c| ident(c)).collect();
            format!(" ({})", c.join(","))
        };
        let sql = format!(
            "LOAD DATA LOCAL INFILE {} INTO TABLE {}.{} CHARACTER SET binary \
             FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '\\\\' \
             LINES TERMINATED BY '\\n' IGNORE 1 LINES{cols};\nSHOW WARNINGS;\n",
            sql_str(path_text),
            ident(db),
            ident(table)
        );
        let warnings = self.exec_in(None, sql.as_bytes());
        if !warnings.is_empty() {
            panic!(
                "LOAD DATA of {} into {db}.{table} gave warnings:\n{}",
                path.display(),
                String::from_utf8_lossy(&warnings)
            );
        }
    }

    /// Rows of one SELECT, exactly as the server sends them in its text protocol (what the
    /// `mysql` client prints): numbers and temporal values as text (TIMESTAMP in UTC), strings
    /// and binary values as their stored bytes, BIT(n) as its raw big-endian bytes (ceil(n/8) of
    /// them), NULL as None.
    /// `sql` is a single SELECT (ORDER BY / LIMIT allowed, no INTO, no locking clause, names
    /// qualified with their database). Implemented with `SELECT ... INTO OUTFILE` on the server
    /// (same machine), whose escaping is unambiguous, unlike the client's batch output (NULL vs
    /// 'NULL') or XML output (NUL bytes turn into spaces).
    pub fn rows(&self, sql: &str) -> Vec<Row> {
        let n = self.queries.fetch_add(1, Ordering::Relaxed);
        let out = self.out_dir.join(format!("rows-{n}.tsv"));
        let query = sql.trim_end().trim_end_matches(';');
        let full = format!(
            "SET time_zone = '+00:00';\n{query}\nINTO OUTFILE {} CHARACTER SET binary \
             FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n';\n",
            sql_str(out.to_str().expect("temp path is not UTF-8"))
        );
        self.exec_in(None, full.as_bytes());
        let mut bytes = Vec::new();
        fs::File::open(&out)
            .and_then(|mut f| f.read_to_end(&mut bytes))
            .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
        let _ = fs::remove_file(&out);
        parse_outfile(&bytes)
    }

    /// Rows of `db`.`table` (the given columns, `ORDER BY order_by` unless empty), rendered per
    /// column type:
    /// - integers, DECIMAL, FLOAT, DOUBLE: MariaDB's decimal text (`-5`, `1.50`, `0.1`);
    /// - CHAR/VARCHAR/TEXT/ENUM/SET/JSON: the stored bytes (CHAR without trailing spaces; JSON as
    ///   loaded, since MariaDB keeps JSON as LONGTEXT and does not normalise it);
    /// - BINARY/VARBINARY/BLOB: the stored bytes (BINARY(n) zero-padded to n);
    /// - DATE `YYYY-MM-DD`, DATETIME(n)/TIMESTAMP(n) `YYYY-MM-DD hh:mm:ss[.f…]` with n fraction
    ///   digits (TIMESTAMP in UTC), TIME(n) `[-]hh:mm:ss[.f…]`, YEAR `YYYY`;
    /// - BIT: the value as unsigned decimal text (`CAST(c AS UNSIGNED)`, e.g. b'101' → `5`), not
    ///   the raw bytes `mysql` prints;
    /// - NULL: None.
    pub fn table_rows(&self, db: &str, table: &str, columns: &[&str], order_by: &str) -> Vec<Row> {
        let types: BTreeMap<String, String> = self
            .rows(&format!(
                "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS \
                 WHERE TABLE_SCHEMA = {} AND TABLE_NAME = {}",
                sql_str(db),
                sql_str(table)
            ))
            .into_iter()
            .map(|r| {
                let text = |v: &Option<Vec<u8>>| {
                    String::from_utf8_lossy(v.as_deref().unwrap_or_default()).to_lowercase()
                };
                (text(&r[0]), text(&r[1]))
            })
            .collect();
        assert!(!types.is_empty(), "table {db}.{table} does not exist");
        let exprs: Vec<String> = columns
            .iter()
            .map(|c| {
                let ty = types.get(&c.to_lowercase()).unwrap_or_else(|| {
                    panic!(
                        "{db}.{table} has no column {c:?} (it has {:?})",
                        types.keys()
                    )
                });
                if ty == "bit" {
                    format!("CAST({} AS UNSIGNED)", ident(c))
                } else {
                    ident(c)
                }
            })
            .collect();
        let mut sql = format!(
            "SELECT {} FROM {}.{}",
            exprs.join(", "),
            ident(db),
            ident(table)
        );
        if !order_by.trim().is_empty() {
            sql.push_str(" ORDER BY ");
            sql.push_str(order_by);
        }
        self.rows(&sql)
    }

    /// Load a Dumpling-layout directory: every `<db>-schema-create.sql`, then every
    /// `<db>.<table>-schema.sql`, then every data file `<db>.<table>.<n>.sql` (sourced) or
    /// `.csv` (through [`Server::load_csv`] with the header's columns), then any other
    /// `<db>.<name>-schema-<kind>.sql` (views, ...); each group sorted by database, table and
    /// file name. `metadata` is ignored. The real database and table names come from the
    /// `CREATE DATABASE`/`CREATE TABLE` statements; file names only tie files together (longest
    /// matching database, then table, so names containing dots work). Panics on a file it cannot
    /// place (including compressed ones).
    pub fn load_dumpling_dir(&self, dir: &Path) -> DumpLoad {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|e| {
                e.file_name()
                    .into_string()
                    .unwrap_or_else(|n| panic!("file name {n:?} is not UTF-8"))
            })
            .collect();
        names.sort();

        // File-name stem -> real name.
        let mut dbs: BTreeMap<String, String> = BTreeMap::new();
        for n in &names {
            if let Some(stem) = n.strip_suffix("-schema-create.sql") {
                let text = fs::read(dir.join(n)).unwrap();
                let real = created_name(&text, "DATABASE")
                    .unwrap_or_else(|| panic!("{n}: no CREATE DATABASE `name` statement"));
                dbs.insert(stem.to_string(), real);
            }
        }
        let db_of = |n: &str| -> (String, String) {
            let stem = dbs
                .keys()
                .filter(|d| {
                    n.len() > d.len() + 1
                        && n.starts_with(d.as_str())
                        && n.as_bytes()[d.len()] == b'.'
                })
                .max_by_key(|d| d.len())
                .unwrap_or_else(|| panic!("{n}: no `<db>-schema-create.sql` for its database"));
            (stem.clone(), n[stem.len() + 1..].to_string())
        };

        // (db stem, table stem) -> real table name, schema file.
        let mut tables: BTreeMap<(String, String), (String, String)> = BTreeMap::new();
        let mut data: Vec<(String, String, String)> = Vec::new();
        let mut others: Vec<(String, String)> = Vec::new();
        let mut pending: Vec<(String, String, String)> = Vec::new();
        for n in &names {
            if n == "metadata" || n.ends_with("-schema-create.sql") {
                continue;
            }
            let (db, rest) = db_of(n);
            if let Some(t) = rest.strip_suffix("-schema.sql") {
                let text = fs::read(dir.join(n)).unwrap();
                let real = created_name(&text, "TABLE")
                    .unwrap_or_else(|| panic!("{n}: no CREATE TABLE `name` statement"));
                tables.insert((db, t.to_string()), (real, n.clone()));
            } else if rest.contains("-schema-") && rest.ends_with(".sql") {
                others.push((db, n.clone()));
            } else if rest.ends_with(".sql") || rest.ends_with(".csv") {
                pending.push((db, rest, n.clone()));
            } else {
                panic!("{n}: not a file the harness can load (compressed dumps are not supported)");
            }
        }
        for (db, rest, n) in pending {
            let body = &rest[..rest.len() - 4];
            // The table stem is followed by one or more `.<digits>` chunk numbers.
            let table = tables
                .keys()
                .filter(|(d, t)| {
                    *d == db
                        && body.len() > t.len() + 1
                        && body.starts_with(t.as_str())
                        && body.as_bytes()[t.len()] == b'.'
                        && body[t.len() + 1..]
                            .split('.')
                            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                })
                .map(|(_, t)| t.clone())
                .max_by_key(|t| t.len())
                .unwrap_or_else(|| panic!("{n}: data file of no table with a -schema.sql file"));
            data.push((db, table, n));
        }
        data.sort();
        others.sort();

        let mut load = DumpLoad::default();
        for (stem, real) in &dbs {
            self.source_file(None, &dir.join(format!("{stem}-schema-create.sql")));
            load.databases.push(real.clone());
        }
        for ((db, _), (real, file)) in &tables {
            self.source_file(Some(&dbs[db]), &dir.join(file));
            load.tables.push((dbs[db].clone(), real.clone()));
        }
        for (db, table, n) in &data {
            let path = dir.join(n);
            let real_db = &dbs[db];
            if n.ends_with(".sql") {
                self.source_file(Some(real_db), &path);
            } else {
                let header = csv_header(&path);
                let cols: Vec<&str> = header.iter().map(String::as_str).collect();
                let real_table = &tables[&(db.clone(), table.clone())].0;
                self.load_csv(real_db, real_table, &path, &cols);
            }
            load.data_files.push(path);
        }
        for (db, n) in &others {
            let path = dir.join(n);
            self.source_file(Some(&dbs[db]), &path);
            load.other_schema_files.push(path);
        }
        load
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL: the data is throwaway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The client, as every session runs it (binary character set, binary mode, LOCAL INFILE).
fn client_command(client: &Path, socket: &Path, db: Option<&str>) -> Command {
    let mut cmd = Command::new(client);
    cmd.arg("--no-defaults")
        .arg("--protocol=socket")
        .arg(format!("--socket={}", socket.display()))
        .arg("--user=root")
        .arg("--batch")
        .arg("--skip-column-names")
        .arg("--default-character-set=binary")
        .arg("--binary-mode")
        .arg("--local-infile=1")
        .arg("--max-allowed-packet=1G");
    if let Some(db) = db {
        cmd.arg(format!("--database={db}"));
    }
    cmd
}

/// Wait until the server answers, it exits, or `limit` passes.
fn wait_ready(
    child: &mut Child,
    client: &Path,
    socket: &Path,
    limit: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("mariadbd exited early ({status})"));
        }
        if socket.exists() {
            let ok = client_command(client, socket, None)
                .arg("-e")
                .arg("SELECT 1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if ok {
                return Ok(());
            }
        }
        if start.elapsed() > limit {
            return Err(format!("no answer within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The backtick-quoted name after the first `CREATE <what> [IF NOT EXISTS]` in an SQL file.
fn created_name(sql: &[u8], what: &str) -> Option<String> {
    let text = String::from_utf8_lossy(sql);
    let upper = text.to_ascii_uppercase();
    let key = format!("CREATE {what} ");
    let at = upper.find(&key)? + key.len();
    let mut rest = text[at..].trim_start();
    if rest.to_ascii_uppercase().starts_with("IF NOT EXISTS") {
        rest = rest["IF NOT EXISTS".len()..].trim_start();
    }
    let mut chars = rest.chars().peekable();
    if chars.next()? != '`' {
        return None;
    }
    let mut name = String::new();
    while let Some(c) = chars.next() {
        if c == '`' {
            if chars.peek() == Some(&'`') {
                chars.next();
                name.push('`');
            } else {
                return Some(name);
            }
        } else {
            name.push(c);
        }
    }
    None
}

/// Column names from a Dumpling CSV header line (`"a","b"` or `a,b`).
fn csv_header(path: &Path) -> Vec<String> {
    let bytes = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut cols = Vec::new();
    let mut cur = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < line.len() {
        let b = line[i];
        match b {
            b'\\' if i + 1 < line.len() => {
                cur.push(line[i + 1]);
                i += 1;
            }
            b'"' if quoted && line.get(i + 1) == Some(&b'"') => {
                cur.push(b'"');
                i += 1;
            }
            b'"' => quoted = !quoted,
            b',' if !quoted => cols.push(std::mem::take(&mut cur)),
            _ => cur.push(b),
        }
        i += 1;
    }
    cols.push(cur);
    cols.into_iter()
        .map(|c| String::from_utf8(c).expect("CSV header is not UTF-8"))
        .collect()
}

/// Parse `INTO OUTFILE` output written with FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES
/// TERMINATED BY '\n': `\N` alone is NULL, `\0` is a NUL byte, `\x` is x (for `\`, tab, newline).
fn parse_outfile(bytes: &[u8]) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut row: Row = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    // The field so far is exactly `\N`.
    let mut null = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\\' => {
                let next = *bytes.get(i + 1).expect("OUTFILE ends in an escape");
                i += 1;
                if next == b'N' && field.is_empty() && !null {
                    null = true;
                } else {
                    assert!(!null, "OUTFILE field continues after \\N");
                    field.push(if next == b'0' { 0 } else { next });
                }
            }
            b'\t' | b'\n' => {
                row.push(if null {
                    None
                } else {
                    Some(std::mem::take(&mut field))
                });
                field.clear();
                null = false;
                if b == b'\n' {
                    rows.push(std::mem::take(&mut row));
                }
            }
            _ => {
                assert!(!null, "OUTFILE field continues after \\N");
                field.push(b);
            }
        }
        i += 1;
    }
    assert!(
        field.is_empty() && row.is_empty() && !null,
        "OUTFILE does not end in a newline"
    );
    rows
}
