//! MySQL-compatible DDL rebuilt from TiDB schema JSON: `CREATE DATABASE` (Dumpling's
//! `<db>-schema-create.sql`) and `CREATE TABLE` (`<db>.<table>-schema.sql`), shaped like TiDB's
//! `SHOW CREATE TABLE` so that MySQL and MariaDB can load them.
//!
//! What is emitted, and what is not:
//! - Only public columns (state 5) that are not hidden, and public indexes; an index over a column
//!   that is not emitted (an expression or multi-valued index's hidden column) is left out and
//!   named in a trailing comment.
//! - TiDB-only clauses use TiDB's comment form, which MySQL and MariaDB skip:
//!   `/*T![clustered_index] CLUSTERED */`, `/*T![auto_rand] AUTO_RANDOM(5) */`.
//! - A partitioned table gets no `PARTITION BY`: the rows of all partitions go into one table. The
//!   partitions are listed in a trailing `/* partitioned: p0 (id 70), ... */` comment.
//! - A generated column is written without NOT NULL (MariaDB refuses it there) and without a
//!   default.
//! - Defaults are quoted literals, `NULL`, or `CURRENT_TIMESTAMP[(fsp)]`. A TIMESTAMP default is
//!   written as TiDB stores it, which (for columns of version >= 1) is in UTC: load the file with
//!   `time_zone='+00:00'`. A BIT default is only written when its bytes are known (`default_bit`,
//!   read by [`create_table_sql_from_json`]); otherwise it is left out.
//! - [`TableInfo`]/[`ColumnInfo`] do not carry comments, `default_bit`, `default_is_expr` or
//!   AUTO_RANDOM bits; [`create_table_sql_from_json`] reads those from the same JSON as well.
//!   Without them (the `&TableInfo` entry points) column and table comments are not written.
//! - Statements end with `;\n`; no `SET NAMES` header is included.

use serde::Deserialize;

use crate::tidb::schema::{tp, ColumnInfo, DbInfo, FieldType, IndexInfo, TableInfo, STATE_PUBLIC};

/// FieldType flag bits (parser/mysql/type.go).
mod flag {
    pub const NOT_NULL: u32 = 1;
    pub const UNSIGNED: u32 = 32;
    pub const ZEROFILL: u32 = 64;
    pub const AUTO_INCREMENT: u32 = 0x200;
    pub const NO_DEFAULT_VALUE: u32 = 0x1000;
    pub const ON_UPDATE_NOW: u32 = 0x2000;
}

/// How DDL is rendered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchemaOptions {
    /// Replace character sets and collations that MariaDB or MySQL 5.7 lack (the MySQL 8
    /// `utf8mb4_0900_*` family, TiDB's `utf8mb4_zh_pinyin_tidb_as_cs`, `gb18030`): binary-like ones
    /// (`*_bin`, `*_as_cs`) become `<charset>_bin`, the others `<charset>_general_ci`
    /// (`gbk_chinese_ci` for gbk); a character set MariaDB lacks becomes `utf8mb4` (TiDB keeps
    /// every string as UTF-8 internally) and `utf8mb3` is spelt `utf8`. The database's collation
    /// is then always written, since servers disagree on charset defaults. Caveat: the replacement
    /// can compare strings differently, so a unique key that held in TiDB can collide (e.g. `ß`
    /// and `s` under `utf8mb4_general_ci`, trailing spaces under PAD SPACE `utf8mb4_bin`).
    pub portable_collations: bool,
}

/// `CREATE DATABASE` as Dumpling writes it to `<db>-schema-create.sql`, e.g.
/// "CREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n".
pub fn create_database_sql(db: &DbInfo) -> String {
    create_database_sql_with(db, &SchemaOptions::default())
}

/// [`create_database_sql`] with options. Without `portable_collations` the collation is written
/// only when it is not TiDB's default for the character set (as TiDB shows it).
pub fn create_database_sql_with(db: &DbInfo, opts: &SchemaOptions) -> String {
    let mut out = format!("CREATE DATABASE {}", quote_ident(&db.db_name.original));
    let (cs, coll) = charset_pair(&db.charset, &db.collate, opts);
    if !cs.is_empty() {
        out.push_str(" /*!40100 DEFAULT CHARACTER SET ");
        out.push_str(&cs);
        let show_coll = if opts.portable_collations {
            !coll.is_empty()
        } else {
            !coll.is_empty() && Some(coll.as_str()) != tidb_default_collation(&cs)
        };
        if show_coll {
            out.push_str(" COLLATE ");
            out.push_str(&coll);
        }
        out.push_str(" */");
    }
    out.push_str(";\n");
    out
}

/// `CREATE TABLE` rebuilt from a TableInfo (see the module notes for what is left out).
pub fn create_table_sql(t: &TableInfo) -> String {
    create_table_sql_with(t, &SchemaOptions::default())
}

/// [`create_table_sql`] with options.
pub fn create_table_sql_with(t: &TableInfo, opts: &SchemaOptions) -> String {
    render_table(t, &TableExtra::default(), opts)
}

/// `CREATE TABLE` from TableInfo JSON, also reading what [`TableInfo`] does not keep: the table
/// comment, expression defaults (`default_is_expr`) and AUTO_RANDOM bits.
pub fn create_table_sql_from_json(json: &[u8], opts: &SchemaOptions) -> Result<String, String> {
    let t = TableInfo::parse(json)?;
    let extra: TableExtra = serde_json::from_slice(json).map_err(|e| e.to_string())?;
    Ok(render_table(&t, &extra, opts))
}

/// TableInfo fields the shared schema types do not keep.
#[derive(Debug, Default, Deserialize)]
struct TableExtra {
    #[serde(default)]
    comment: String,
    #[serde(default)]
    auto_random_bits: u64,
    #[serde(default)]
    auto_random_range_bits: u64,
    #[serde(default, deserialize_with = "null_as_empty")]
    cols: Vec<ColumnExtra>,
}

/// ColumnInfo fields the shared schema types do not keep.
#[derive(Clone, Debug, Default, Deserialize)]
struct ColumnExtra {
    #[serde(default)]
    default_is_expr: bool,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

fn render_table(t: &TableInfo, extra: &TableExtra, opts: &SchemaOptions) -> String {
    let no_extra = ColumnExtra::default();
    let (tcs, tcoll) = charset_pair(&t.charset, &t.collate, opts);
    let mut lines: Vec<String> = Vec::new();
    // Lower-case names of the columns written, for the index check.
    let mut written: Vec<&str> = Vec::new();
    for (i, c) in t.cols.iter().enumerate() {
        if c.hidden || c.state != STATE_PUBLIC {
            continue;
        }
        let cx = extra.cols.get(i).unwrap_or(&no_extra);
        let is_handle = t.pk_is_handle && t.handle_column().is_some_and(|h| h.id == c.id);
        let auto_random = if is_handle && extra.auto_random_bits > 0 {
            Some((extra.auto_random_bits, extra.auto_random_range_bits))
        } else {
            None
        };
        lines.push(column_line(c, cx, &tcs, &tcoll, auto_random, opts));
        written.push(c.name.lower.as_str());
    }
    let is_written = |name: &str| written.iter().any(|w| w.eq_ignore_ascii_case(name));

    let mut omitted: Vec<String> = Vec::new();
    if let Some(h) = t.handle_column() {
        if is_written(&h.name.lower) {
            lines.push(format!(
                "  PRIMARY KEY ({}) /*T![clustered_index] CLUSTERED */",
                quote_ident(&h.name.original)
            ));
        }
    }
    let indexes: Vec<&IndexInfo> = t.index_info.iter().flatten().collect();
    let mut ordered: Vec<&IndexInfo> = indexes.iter().copied().filter(|i| i.is_primary).collect();
    ordered.extend(indexes.iter().copied().filter(|i| !i.is_primary));
    for idx in ordered {
        if idx.state != STATE_PUBLIC || (idx.is_primary && t.pk_is_handle) {
            continue;
        }
        if idx.idx_cols.is_empty() || idx.idx_cols.iter().any(|ic| !is_written(&ic.name.lower)) {
            omitted.push(idx.idx_name.original.clone());
            continue;
        }
        let cols: Vec<String> = idx
            .idx_cols
            .iter()
            .map(|ic| {
                let mut s = quote_ident(&ic.name.original);
                if ic.length > 0 {
                    s.push_str(&format!("({})", ic.length));
                }
                s
            })
            .collect();
        let cols = cols.join(",");
        lines.push(if idx.is_primary {
            let kind = if t.is_common_handle {
                "CLUSTERED"
            } else {
                "NONCLUSTERED"
            };
            format!("  PRIMARY KEY ({cols}) /*T![clustered_index] {kind} */")
        } else if idx.is_unique {
            format!(
                "  UNIQUE KEY {} ({cols})",
                quote_ident(&idx.idx_name.original)
            )
        } else {
            format!("  KEY {} ({cols})", quote_ident(&idx.idx_name.original))
        });
    }

    let mut out = format!("CREATE TABLE {} (\n", quote_ident(&t.name.original));
    out.push_str(&lines.join(",\n"));
    out.push_str("\n) ENGINE=InnoDB");
    if !tcs.is_empty() {
        out.push_str(" DEFAULT CHARSET=");
        out.push_str(&tcs);
    }
    if !tcoll.is_empty() {
        out.push_str(" COLLATE=");
        out.push_str(&tcoll);
    }
    if !extra.comment.is_empty() {
        out.push_str(" COMMENT=");
        out.push_str(&quote_str(&extra.comment));
    }
    if let Some(p) = &t.partition {
        if !p.definitions.is_empty() {
            let parts: Vec<String> = p
                .definitions
                .iter()
                .map(|d| format!("{} (id {})", d.name.original, d.id))
                .collect();
            out.push_str("\n/* partitioned: ");
            out.push_str(&comment_safe(&parts.join(", ")));
            out.push_str(" */");
        }
    }
    if !omitted.is_empty() {
        let names: Vec<String> = omitted.iter().map(|n| quote_ident(n)).collect();
        out.push_str("\n/* indexes left out (over hidden or non-public columns): ");
        out.push_str(&comment_safe(&names.join(", ")));
        out.push_str(" */");
    }
    out.push_str(";\n");
    out
}

/// One column definition line (two spaces of indentation, no trailing comma).
fn column_line(
    c: &ColumnInfo,
    cx: &ColumnExtra,
    tcs: &str,
    tcoll: &str,
    auto_random: Option<(u64, u64)>,
    opts: &SchemaOptions,
) -> String {
    let ft = &c.field_type;
    let mut s = format!("  {} {}", quote_ident(&c.name.original), column_type(ft));
    if has_charset(ft) {
        let (cs, coll) = charset_pair(&ft.charset, &ft.collate, opts);
        if !cs.is_empty() && cs != tcs {
            s.push_str(" CHARACTER SET ");
            s.push_str(&cs);
            if !coll.is_empty() {
                s.push_str(" COLLATE ");
                s.push_str(&coll);
            }
        } else if !coll.is_empty() && coll != tcoll {
            s.push_str(" COLLATE ");
            s.push_str(&coll);
        }
    }
    let generated = !c.generated_expr_string.is_empty();
    if generated {
        s.push_str(" GENERATED ALWAYS AS (");
        s.push_str(&c.generated_expr_string);
        s.push_str(if c.generated_stored {
            ") STORED"
        } else {
            ") VIRTUAL"
        });
    }
    // MariaDB refuses NOT NULL on a generated column (TiDB and MySQL accept it): left out.
    let not_null = ft.flag & flag::NOT_NULL != 0 && !generated;
    if ft.flag & flag::AUTO_INCREMENT != 0 {
        s.push_str(" NOT NULL AUTO_INCREMENT");
    } else {
        if not_null {
            s.push_str(" NOT NULL");
        }
        if let Some((bits, range)) = auto_random {
            if range > 0 && range != 64 {
                s.push_str(&format!(" /*T![auto_rand] AUTO_RANDOM({bits}, {range}) */"));
            } else {
                s.push_str(&format!(" /*T![auto_rand] AUTO_RANDOM({bits}) */"));
            }
        }
        if !generated && ft.flag & flag::NO_DEFAULT_VALUE == 0 {
            if let Some(d) = default_clause(c, cx, not_null) {
                s.push_str(&d);
            }
        }
        if ft.flag & flag::ON_UPDATE_NOW != 0 {
            s.push_str(" ON UPDATE CURRENT_TIMESTAMP");
            s.push_str(&fsp_suffix(ft));
        }
    }
    if !c.comment.is_empty() {
        s.push_str(" COMMENT ");
        s.push_str(&quote_str(&c.comment));
    }
    s
}

/// The ` DEFAULT ...` clause, if any.
fn default_clause(c: &ColumnInfo, cx: &ColumnExtra, not_null: bool) -> Option<String> {
    let ft = &c.field_type;
    let text = match &c.default {
        serde_json::Value::Null => {
            if not_null {
                return None;
            }
            return Some(if ft.tp == tp::TIMESTAMP {
                " NULL DEFAULT NULL".to_string()
            } else {
                " DEFAULT NULL".to_string()
            });
        }
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        _ => return None,
    };
    if ft.tp == tp::BIT {
        // Go's `[]byte` in JSON: base64.
        let bytes = base64_decode(c.default_bit.as_deref()?)?;
        return Some(format!(" DEFAULT b'{}'", bits_text(&bytes)));
    }
    if cx.default_is_expr {
        return Some(format!(" DEFAULT ({text})"));
    }
    if matches!(ft.tp, tp::TIMESTAMP | tp::DATETIME) {
        let upper = text.to_ascii_uppercase();
        if upper == "CURRENT_TIMESTAMP" {
            return Some(format!(" DEFAULT CURRENT_TIMESTAMP{}", fsp_suffix(ft)));
        }
        if let Some(rest) = upper.strip_prefix("CURRENT_TIMESTAMP(") {
            if rest.len() >= 2
                && rest.ends_with(')')
                && rest[..rest.len() - 1].bytes().all(|b| b.is_ascii_digit())
            {
                return Some(format!(" DEFAULT {upper}"));
            }
        }
    }
    Some(format!(" DEFAULT {}", quote_str(&text)))
}

/// `(fsp)` for a fractional-seconds precision above 0.
fn fsp_suffix(ft: &FieldType) -> String {
    if ft.decimal > 0 {
        format!("({})", ft.decimal.min(6))
    } else {
        String::new()
    }
}

/// Whether a column type carries a character set and collation.
fn has_charset(ft: &FieldType) -> bool {
    let stringy = matches!(
        ft.tp,
        tp::VARCHAR
            | tp::VAR_STRING
            | tp::STRING
            | tp::TINY_BLOB
            | tp::BLOB
            | tp::MEDIUM_BLOB
            | tp::LONG_BLOB
            | tp::ENUM
            | tp::SET
    );
    stringy && !is_binary_charset(ft)
}

fn is_binary_charset(ft: &FieldType) -> bool {
    ft.charset.eq_ignore_ascii_case("binary")
}

/// The column type as `SHOW CREATE TABLE` writes it.
fn column_type(ft: &FieldType) -> String {
    let binary = is_binary_charset(ft);
    let numeric_attrs = |mut s: String| {
        if ft.flag & flag::UNSIGNED != 0 {
            s.push_str(" unsigned");
        }
        if ft.flag & flag::ZEROFILL != 0 {
            s.push_str(" zerofill");
        }
        s
    };
    let int = |name: &str| {
        if ft.flen > 0 {
            numeric_attrs(format!("{name}({})", ft.flen))
        } else {
            numeric_attrs(name.to_string())
        }
    };
    let float = |name: &str| {
        if ft.flen > 0 && ft.decimal >= 0 {
            numeric_attrs(format!("{name}({},{})", ft.flen, ft.decimal))
        } else {
            numeric_attrs(name.to_string())
        }
    };
    let with_fsp = |name: &str| format!("{name}{}", fsp_suffix(ft));
    let pick = |text: &str, blob: &str| if binary { blob } else { text }.to_string();
    match ft.tp {
        tp::TINY => int("tinyint"),
        tp::SHORT => int("smallint"),
        tp::INT24 => int("mediumint"),
        tp::LONG => int("int"),
        tp::LONGLONG => int("bigint"),
        tp::FLOAT => float("float"),
        tp::DOUBLE => float("double"),
        tp::NEWDECIMAL => {
            let p = if ft.flen > 0 { ft.flen } else { 10 };
            let s = ft.decimal.max(0);
            numeric_attrs(format!("decimal({p},{s})"))
        }
        tp::DATE | tp::NEWDATE => "date".to_string(),
        tp::DATETIME => with_fsp("datetime"),
        tp::TIMESTAMP => with_fsp("timestamp"),
        tp::DURATION => with_fsp("time"),
        tp::YEAR => "year".to_string(),
        tp::VARCHAR | tp::VAR_STRING => {
            format!("{}({})", pick("varchar", "varbinary"), ft.flen.max(0))
        }
        tp::STRING => {
            if ft.flen >= 0 {
                format!("{}({})", pick("char", "binary"), ft.flen)
            } else {
                pick("char", "binary")
            }
        }
        tp::TINY_BLOB => pick("tinytext", "tinyblob"),
        tp::BLOB => pick("text", "blob"),
        tp::MEDIUM_BLOB => pick("mediumtext", "mediumblob"),
        tp::LONG_BLOB => pick("longtext", "longblob"),
        tp::ENUM | tp::SET => {
            let elems: Vec<String> = ft.elems.iter().flatten().map(|e| quote_str(e)).collect();
            let name = if ft.tp == tp::ENUM { "enum" } else { "set" };
            format!("{name}({})", elems.join(","))
        }
        tp::BIT => format!("bit({})", if ft.flen > 0 { ft.flen } else { 1 }),
        tp::JSON => "json".to_string(),
        tp::GEOMETRY => "geometry".to_string(),
        tp::VECTOR_F32 => {
            if ft.flen > 0 {
                format!("vector({})", ft.flen)
            } else {
                "vector".to_string()
            }
        }
        other => format!("longblob /* TiDB type code {other} */"),
    }
}

/// TiDB's default collation of a character set.
fn tidb_default_collation(cs: &str) -> Option<&'static str> {
    Some(match cs {
        "utf8mb4" => "utf8mb4_bin",
        "utf8" | "utf8mb3" => "utf8_bin",
        "latin1" => "latin1_bin",
        "ascii" => "ascii_bin",
        "binary" => "binary",
        "gbk" => "gbk_chinese_ci",
        "gb18030" => "gb18030_chinese_ci",
        _ => return None,
    })
}

/// Collations both MariaDB (10.x) and MySQL 5.7 know.
const PORTABLE_COLLATIONS: &[&str] = &[
    "utf8mb4_bin",
    "utf8mb4_general_ci",
    "utf8mb4_unicode_ci",
    "utf8mb4_unicode_520_ci",
    "utf8_bin",
    "utf8_general_ci",
    "utf8_unicode_ci",
    "latin1_bin",
    "latin1_swedish_ci",
    "latin1_general_ci",
    "latin1_general_cs",
    "ascii_bin",
    "ascii_general_ci",
    "gbk_bin",
    "gbk_chinese_ci",
    "binary",
];

/// Character sets both MariaDB and MySQL 5.7 know (among those TiDB has).
const PORTABLE_CHARSETS: &[&str] = &["utf8mb4", "utf8", "latin1", "ascii", "gbk", "binary"];

/// A (charset, collation) pair as it will be written: lower-cased, and made portable on request.
/// Either may be empty (unknown).
fn charset_pair(cs: &str, coll: &str, opts: &SchemaOptions) -> (String, String) {
    let cs = cs.to_ascii_lowercase();
    let coll = coll.to_ascii_lowercase();
    if !opts.portable_collations {
        return (cs, coll);
    }
    // The charset a collation belongs to is its name up to the first '_'.
    let coll_cs = coll.split('_').next().unwrap_or("").to_string();
    let portable_cs = |c: &str| -> String {
        match c {
            "" => String::new(),
            "utf8mb3" => "utf8".to_string(),
            c if PORTABLE_CHARSETS.contains(&c) => c.to_string(),
            _ => "utf8mb4".to_string(),
        }
    };
    let new_cs = portable_cs(&cs);
    if coll.is_empty() || PORTABLE_COLLATIONS.contains(&coll.as_str()) && coll_cs == new_cs {
        return (new_cs, coll);
    }
    if coll == "binary" {
        return (new_cs, coll);
    }
    let target_cs = if new_cs.is_empty() {
        portable_cs(&coll_cs)
    } else {
        new_cs.clone()
    };
    let bin_like = coll.ends_with("_bin") || coll.ends_with("_cs");
    let new_coll = match (target_cs.as_str(), bin_like) {
        ("binary", _) => "binary".to_string(),
        (c, true) => format!("{c}_bin"),
        ("gbk", false) => "gbk_chinese_ci".to_string(),
        (c, false) => format!("{c}_general_ci"),
    };
    (new_cs, new_coll)
}

/// A backtick-quoted identifier (backticks doubled).
pub fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A single-quoted string literal with MySQL's backslash escapes (not valid under
/// NO_BACKSLASH_ESCAPES).
pub fn quote_str(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    push_quoted(&mut out, s.as_bytes(), b'\'', b"''");
    // Only ASCII escapes were added to valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// `bytes` between `quote`s with the backslash escapes MySQL's string literals, `LOAD DATA ...
/// ESCAPED BY '\\'` and TiDB Lightning's `backslash-escape` all read: `\\ \0 \n \r \Z`, and the
/// quote itself written as `quote_escape`.
pub fn push_quoted(out: &mut Vec<u8>, bytes: &[u8], quote: u8, quote_escape: &[u8]) {
    out.push(quote);
    for &c in bytes {
        match c {
            b'\\' => out.extend_from_slice(b"\\\\"),
            0 => out.extend_from_slice(b"\\0"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x1a => out.extend_from_slice(b"\\Z"),
            c if c == quote => out.extend_from_slice(quote_escape),
            c => out.push(c),
        }
    }
    out.push(quote);
}

/// Text that can sit inside a `/* */` comment.
fn comment_safe(s: &str) -> String {
    s.replace("*/", "* /")
}

/// A big-endian byte string's value as binary digits without leading zeros ("0" for zero).
fn bits_text(bytes: &[u8]) -> String {
    let all: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    let trimmed = all.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Standard base64 (Go's encoding of `[]byte`), padding optional. None when malformed.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    crate::codec::b64::decode(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(json: &str) -> TableInfo {
        TableInfo::parse(json.as_bytes()).unwrap()
    }

    const PORTABLE: SchemaOptions = SchemaOptions {
        portable_collations: true,
    };

    #[test]
    fn database() {
        let d = DbInfo::parse(
            br#"{"id":2,"db_name":{"O":"shop","L":"shop"},"charset":"utf8mb4","collate":"utf8mb4_bin","state":5}"#,
        )
        .unwrap();
        assert_eq!(
            create_database_sql(&d),
            "CREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n"
        );
        assert_eq!(
            create_database_sql_with(&d, &PORTABLE),
            "CREATE DATABASE `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin */;\n"
        );
        let d = DbInfo::parse(
            br#"{"id":3,"db_name":{"O":"we`ird","L":"we`ird"},"charset":"utf8mb4","collate":"utf8mb4_0900_ai_ci"}"#,
        )
        .unwrap();
        assert_eq!(
            create_database_sql(&d),
            "CREATE DATABASE `we``ird` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_0900_ai_ci */;\n"
        );
        assert_eq!(
            create_database_sql_with(&d, &PORTABLE),
            "CREATE DATABASE `we``ird` /*!40100 DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci */;\n"
        );
        let d = DbInfo::parse(br#"{"id":4,"db_name":{"O":"old","L":"old"}}"#).unwrap();
        assert_eq!(create_database_sql(&d), "CREATE DATABASE `old`;\n");
    }

    /// An integer handle, the common types, defaults, comments and secondary indexes.
    const ORDERS: &str = r#"{"id":106,"name":{"O":"Orders","L":"orders"},"charset":"utf8mb4","collate":"utf8mb4_bin",
        "cols":[
          {"id":1,"name":{"O":"id","L":"id"},"offset":0,"origin_default":null,"default":null,"default_bit":null,
           "type":{"Tp":8,"Flag":515,"Flen":20,"Decimal":0,"Charset":"binary","Collate":"binary","Elems":null},
           "state":5,"comment":"","hidden":false,"version":2},
          {"id":2,"name":{"O":"amount","L":"amount"},"offset":1,"default":"0.00",
           "type":{"Tp":246,"Flag":1,"Flen":10,"Decimal":2,"Charset":"binary","Collate":"binary"},"state":5,
           "comment":"in 'cents' \\ not really"},
          {"id":3,"name":{"O":"kind","L":"kind"},"offset":2,"default":"a",
           "type":{"Tp":247,"Flag":0,"Flen":-1,"Decimal":0,"Charset":"utf8mb4","Collate":"utf8mb4_bin","Elems":["a","b'c","d\\e"]},"state":5},
          {"id":4,"name":{"O":"tags","L":"tags"},"offset":3,"default":null,
           "type":{"Tp":248,"Flag":0,"Flen":-1,"Decimal":0,"Charset":"utf8mb4","Collate":"utf8mb4_bin","Elems":["x","y"]},"state":5},
          {"id":5,"name":{"O":"note","L":"note"},"offset":4,"default":null,
           "type":{"Tp":15,"Flag":0,"Flen":64,"Decimal":0,"Charset":"utf8mb4","Collate":"utf8mb4_general_ci"},"state":5},
          {"id":6,"name":{"O":"code","L":"code"},"offset":5,"default":"",
           "type":{"Tp":254,"Flag":1,"Flen":4,"Decimal":0,"Charset":"binary","Collate":"binary"},"state":5},
          {"id":7,"name":{"O":"created","L":"created"},"offset":6,"default":"CURRENT_TIMESTAMP",
           "type":{"Tp":7,"Flag":8193,"Flen":26,"Decimal":6,"Charset":"binary","Collate":"binary"},"state":5},
          {"id":8,"name":{"O":"ship_at","L":"ship_at"},"offset":7,"default":null,
           "type":{"Tp":7,"Flag":0,"Flen":19,"Decimal":0},"state":5},
          {"id":9,"name":{"O":"d","L":"d"},"offset":8,"default":"2020-01-02 03:04:05.5",
           "type":{"Tp":12,"Flag":0,"Flen":21,"Decimal":1},"state":5},
          {"id":10,"name":{"O":"t","L":"t"},"offset":9,"default":null,"type":{"Tp":11,"Flag":0,"Decimal":3},"state":5},
          {"id":11,"name":{"O":"y","L":"y"},"offset":10,"default":null,"type":{"Tp":13,"Flag":32,"Flen":4},"state":5},
          {"id":12,"name":{"O":"day","L":"day"},"offset":11,"default":null,"type":{"Tp":10,"Flag":0},"state":5},
          {"id":13,"name":{"O":"flags","L":"flags"},"offset":12,"default":"\u0005","default_bit":"BQ==",
           "type":{"Tp":16,"Flag":32,"Flen":3},"state":5},
          {"id":14,"name":{"O":"doc","L":"doc"},"offset":13,"default":null,
           "type":{"Tp":245,"Flag":0,"Charset":"binary","Collate":"binary"},"state":5},
          {"id":15,"name":{"O":"raw","L":"raw"},"offset":14,"default":null,
           "type":{"Tp":252,"Flag":128,"Flen":65535,"Charset":"binary","Collate":"binary"},"state":5},
          {"id":16,"name":{"O":"body","L":"body"},"offset":15,"default":null,
           "type":{"Tp":251,"Flag":4096,"Flen":4294967295,"Charset":"utf8mb4","Collate":"utf8mb4_bin"},"state":5},
          {"id":17,"name":{"O":"qty","L":"qty"},"offset":16,"default":"7",
           "type":{"Tp":2,"Flag":97,"Flen":5},"state":5},
          {"id":18,"name":{"O":"ratio","L":"ratio"},"offset":17,"default":null,"type":{"Tp":4,"Flag":0,"Flen":12,"Decimal":-1},"state":5},
          {"id":19,"name":{"O":"score","L":"score"},"offset":18,"default":null,"type":{"Tp":5,"Flag":0,"Flen":10,"Decimal":3},"state":5},
          {"id":20,"name":{"O":"vb","L":"vb"},"offset":19,"default":null,"type":{"Tp":15,"Flag":128,"Flen":16,"Charset":"binary"},"state":5},
          {"id":21,"name":{"O":"tt","L":"tt"},"offset":20,"default":null,"type":{"Tp":249,"Charset":"latin1","Collate":"latin1_bin"},"state":5},
          {"id":22,"name":{"O":"mb","L":"mb"},"offset":21,"default":null,"type":{"Tp":250,"Charset":"binary"},"state":5},
          {"id":23,"name":{"O":"m","L":"m"},"offset":22,"default":"-1","type":{"Tp":9,"Flag":0,"Flen":9},"state":5},
          {"id":24,"name":{"O":"gone","L":"gone"},"offset":23,"default":null,"type":{"Tp":3,"Flen":11},"state":4},
          {"id":25,"name":{"O":"_V$_idx_0","L":"_v$_idx_0"},"offset":24,"default":null,"type":{"Tp":3,"Flen":11},
           "state":5,"hidden":true,"generated_expr_string":"`qty` + 1"}
        ],
        "index_info":[
          {"id":1,"idx_name":{"O":"uk_code","L":"uk_code"},"idx_cols":[{"name":{"O":"code","L":"code"},"offset":5,"length":-1},
             {"name":{"O":"kind","L":"kind"},"offset":2,"length":-1}],"is_unique":true,"is_primary":false,"state":5},
          {"id":2,"name":{"O":"x","L":"x"},"idx_name":{"O":"idx_note","L":"idx_note"},"idx_cols":[{"name":{"O":"note","L":"note"},"offset":4,"length":10},
             {"name":{"O":"body","L":"body"},"offset":15,"length":32}],"is_unique":false,"is_primary":false,"state":5},
          {"id":3,"idx_name":{"O":"idx_expr","L":"idx_expr"},"idx_cols":[{"name":{"O":"_V$_idx_0","L":"_v$_idx_0"},"offset":24,"length":-1}],"state":5},
          {"id":4,"idx_name":{"O":"idx_adding","L":"idx_adding"},"idx_cols":[{"name":{"O":"qty","L":"qty"},"offset":16,"length":-1}],"state":3}
        ],
        "pk_is_handle":true,"is_common_handle":false,"state":5,"comment":"all the types","partition":null}"#;

    const ORDERS_SQL: &str = "CREATE TABLE `Orders` (
  `id` bigint(20) NOT NULL AUTO_INCREMENT,
  `amount` decimal(10,2) NOT NULL DEFAULT '0.00' COMMENT 'in ''cents'' \\\\ not really',
  `kind` enum('a','b''c','d\\\\e') DEFAULT 'a',
  `tags` set('x','y') DEFAULT NULL,
  `note` varchar(64) COLLATE utf8mb4_general_ci DEFAULT NULL,
  `code` binary(4) NOT NULL DEFAULT '',
  `created` timestamp(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
  `ship_at` timestamp NULL DEFAULT NULL,
  `d` datetime(1) DEFAULT '2020-01-02 03:04:05.5',
  `t` time(3) DEFAULT NULL,
  `y` year DEFAULT NULL,
  `day` date DEFAULT NULL,
  `flags` bit(3) DEFAULT b'101',
  `doc` json DEFAULT NULL,
  `raw` blob DEFAULT NULL,
  `body` longtext,
  `qty` smallint(5) unsigned zerofill NOT NULL DEFAULT '7',
  `ratio` float DEFAULT NULL,
  `score` double(10,3) DEFAULT NULL,
  `vb` varbinary(16) DEFAULT NULL,
  `tt` tinytext CHARACTER SET latin1 COLLATE latin1_bin DEFAULT NULL,
  `mb` mediumblob DEFAULT NULL,
  `m` mediumint(9) DEFAULT '-1',
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */,
  UNIQUE KEY `uk_code` (`code`,`kind`),
  KEY `idx_note` (`note`(10),`body`(32))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin COMMENT='all the types'
/* indexes left out (over hidden or non-public columns): `idx_expr` */;
";

    #[test]
    fn all_types_from_json() {
        let sql = create_table_sql_from_json(ORDERS.as_bytes(), &SchemaOptions::default()).unwrap();
        assert_eq!(sql, ORDERS_SQL);
        // Without the JSON extras: no table comment.
        let plain = create_table_sql(&table(ORDERS));
        let expected = ORDERS_SQL.replace(" COMMENT='all the types'", "");
        assert_eq!(plain, expected);
    }

    /// A clustered composite primary key, MySQL 8 collations, generated columns, AUTO_RANDOM.
    const COMMON: &str = r#"{"id":200,"name":{"O":"ev","L":"ev"},"charset":"utf8mb4","collate":"utf8mb4_0900_ai_ci",
        "cols":[
          {"id":1,"name":{"O":"tenant","L":"tenant"},"offset":0,"default":null,
           "type":{"Tp":15,"Flag":4099,"Flen":32,"Charset":"utf8mb4","Collate":"utf8mb4_0900_ai_ci"},"state":5},
          {"id":2,"name":{"O":"seq","L":"seq"},"offset":1,"default":null,
           "type":{"Tp":8,"Flag":4131,"Flen":20,"Charset":"binary","Collate":"binary"},"state":5},
          {"id":3,"name":{"O":"name","L":"name"},"offset":2,"default":"x",
           "type":{"Tp":254,"Flag":0,"Flen":8,"Charset":"utf8mb4","Collate":"utf8mb4_0900_bin"},"state":5},
          {"id":4,"name":{"O":"zh","L":"zh"},"offset":3,"default":null,
           "type":{"Tp":15,"Flag":0,"Flen":8,"Charset":"gb18030","Collate":"gb18030_chinese_ci"},"state":5},
          {"id":5,"name":{"O":"seq2","L":"seq2"},"offset":4,"default":null,"generated_expr_string":"`seq` * 2",
           "generated_stored":true,"type":{"Tp":8,"Flag":1,"Flen":20},"state":5},
          {"id":6,"name":{"O":"day","L":"day"},"offset":5,"default":"date_format(now(), _utf8mb4'%Y-%m')",
           "default_is_expr":true,"type":{"Tp":15,"Flag":0,"Flen":7,"Charset":"utf8mb4","Collate":"utf8mb4_0900_ai_ci"},"state":5},
          {"id":7,"name":{"O":"at","L":"at"},"offset":6,"default":"CURRENT_TIMESTAMP",
           "type":{"Tp":12,"Flag":0,"Flen":19,"Decimal":0},"state":5}
        ],
        "index_info":[
          {"id":1,"idx_name":{"O":"name_idx","L":"name_idx"},"idx_cols":[{"name":{"O":"name","L":"name"},"length":-1}],"state":5},
          {"id":2,"idx_name":{"O":"PRIMARY","L":"primary"},"idx_cols":[{"name":{"O":"tenant","L":"tenant"},"length":-1},
             {"name":{"O":"seq","L":"seq"},"length":-1}],"is_unique":true,"is_primary":true,"state":5}
        ],
        "pk_is_handle":false,"is_common_handle":true,"state":5}"#;

    #[test]
    fn clustered_index_and_collations() {
        let t = table(COMMON);
        assert_eq!(
            create_table_sql(&t),
            "CREATE TABLE `ev` (
  `tenant` varchar(32) NOT NULL,
  `seq` bigint(20) unsigned NOT NULL,
  `name` char(8) COLLATE utf8mb4_0900_bin DEFAULT 'x',
  `zh` varchar(8) CHARACTER SET gb18030 COLLATE gb18030_chinese_ci DEFAULT NULL,
  `seq2` bigint(20) GENERATED ALWAYS AS (`seq` * 2) STORED,
  `day` varchar(7) DEFAULT 'date_format(now(), _utf8mb4''%Y-%m'')',
  `at` datetime DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`tenant`,`seq`) /*T![clustered_index] CLUSTERED */,
  KEY `name_idx` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_0900_ai_ci;
"
        );
        assert_eq!(
            create_table_sql_from_json(COMMON.as_bytes(), &PORTABLE).unwrap(),
            "CREATE TABLE `ev` (
  `tenant` varchar(32) NOT NULL,
  `seq` bigint(20) unsigned NOT NULL,
  `name` char(8) COLLATE utf8mb4_bin DEFAULT 'x',
  `zh` varchar(8) DEFAULT NULL,
  `seq2` bigint(20) GENERATED ALWAYS AS (`seq` * 2) STORED,
  `day` varchar(7) DEFAULT (date_format(now(), _utf8mb4'%Y-%m')),
  `at` datetime DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`tenant`,`seq`) /*T![clustered_index] CLUSTERED */,
  KEY `name_idx` (`name`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
"
        );
    }

    /// Partitions, a non-clustered primary key, AUTO_RANDOM, odd identifiers.
    #[test]
    fn partitions_and_nonclustered() {
        let json = r#"{"id":60,"name":{"O":"lo`g","L":"lo`g"},"charset":"latin1","collate":"latin1_bin",
            "cols":[
              {"id":1,"name":{"O":"id","L":"id"},"offset":0,"default":null,"type":{"Tp":8,"Flag":4099,"Flen":20},"state":5},
              {"id":2,"name":{"O":"a b","L":"a b"},"offset":1,"default":12,"type":{"Tp":3,"Flag":0,"Flen":11},"state":5},
              {"id":3,"name":{"O":"s","L":"s"},"offset":2,"default":"it's\n","type":{"Tp":15,"Flen":10,"Charset":"latin1","Collate":"latin1_bin"},"state":5}
            ],
            "index_info":[{"id":1,"idx_name":{"O":"PRIMARY","L":"primary"},"idx_cols":[{"name":{"O":"a b","L":"a b"},"length":-1}],
                           "is_unique":true,"is_primary":true,"state":5}],
            "pk_is_handle":false,"is_common_handle":false,"state":5,
            "partition":{"type":1,"expr":"`id`","definitions":[{"id":70,"name":{"O":"p0","L":"p0"}},{"id":71,"name":{"O":"p*/1","L":"p*/1"}}]}}"#;
        let expected = "CREATE TABLE `lo``g` (
  `id` bigint(20) NOT NULL,
  `a b` int(11) DEFAULT '12',
  `s` varchar(10) DEFAULT 'it''s\\n',
  PRIMARY KEY (`a b`) /*T![clustered_index] NONCLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=latin1 COLLATE=latin1_bin
/* partitioned: p0 (id 70), p* /1 (id 71) */;
";
        assert_eq!(create_table_sql(&table(json)), expected);
        assert_eq!(create_table_sql_with(&table(json), &PORTABLE), expected);

        let json = r#"{"id":61,"name":{"O":"r","L":"r"},"charset":"utf8mb4","collate":"utf8mb4_bin","auto_random_bits":5,
            "cols":[{"id":1,"name":{"O":"id","L":"id"},"offset":0,"default":null,"type":{"Tp":8,"Flag":4099,"Flen":20},"state":5}],
            "index_info":null,"pk_is_handle":true,"state":5}"#;
        assert_eq!(
            create_table_sql_from_json(json.as_bytes(), &SchemaOptions::default()).unwrap(),
            "CREATE TABLE `r` (
  `id` bigint(20) NOT NULL /*T![auto_rand] AUTO_RANDOM(5) */,
  PRIMARY KEY (`id`) /*T![clustered_index] CLUSTERED */
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
"
        );
    }

    #[test]
    fn portable_pairs() {
        let p = |cs: &str, coll: &str| charset_pair(cs, coll, &PORTABLE);
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            p("utf8mb4", "utf8mb4_0900_ai_ci"),
            s("utf8mb4", "utf8mb4_general_ci")
        );
        assert_eq!(
            p("utf8mb4", "utf8mb4_0900_as_cs"),
            s("utf8mb4", "utf8mb4_bin")
        );
        assert_eq!(
            p("utf8mb4", "utf8mb4_zh_pinyin_tidb_as_cs"),
            s("utf8mb4", "utf8mb4_bin")
        );
        assert_eq!(
            p("utf8mb4", "utf8mb4_unicode_ci"),
            s("utf8mb4", "utf8mb4_unicode_ci")
        );
        assert_eq!(p("utf8mb3", "utf8mb3_bin"), s("utf8", "utf8_bin"));
        assert_eq!(p("gb18030", "gb18030_bin"), s("utf8mb4", "utf8mb4_bin"));
        assert_eq!(p("gbk", "gbk_bin"), s("gbk", "gbk_bin"));
        assert_eq!(p("binary", "binary"), s("binary", "binary"));
        assert_eq!(p("", ""), s("", ""));
        assert_eq!(p("UTF8MB4", "UTF8MB4_BIN"), s("utf8mb4", "utf8mb4_bin"));
    }

    #[test]
    fn helpers() {
        assert_eq!(base64_decode("BQ=="), Some(vec![5]));
        assert_eq!(base64_decode("AQID"), Some(vec![1, 2, 3]));
        assert_eq!(base64_decode("AQIDBA"), Some(vec![1, 2, 3, 4]));
        assert_eq!(base64_decode(""), Some(vec![]));
        assert_eq!(base64_decode("A"), None);
        assert_eq!(base64_decode("A*=="), None);
        assert_eq!(bits_text(&[0, 0]), "0");
        assert_eq!(bits_text(&[1, 0]), "100000000");
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(quote_str("a'b\\c\0\r\u{1a}"), "'a''b\\\\c\\0\\r\\Z'");
    }
}
