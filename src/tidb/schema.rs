//! TiDB schema JSON as stored under the meta keys: DBInfo (`DB:{id}` fields of `DBs`) and
//! TableInfo (`Table:{id}` fields of `DB:{id}`). Parsed leniently: every field optional, unknown
//! fields ignored, because fields come and go across TiDB versions. Facts: TiDB
//! pkg/meta/model/{db,table,column}.go, parser/types/field_type.go, parser/mysql/type.go (shared
//! notes §3.7-§3.9).

use serde::{Deserialize, Deserializer};

/// Go writes an empty list as `null`: read it as empty.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A name as TiDB stores it: original and lower case.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct CiStr {
    #[serde(rename = "O", default)]
    pub original: String,
    #[serde(rename = "L", default)]
    pub lower: String,
}

/// A database.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct DbInfo {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub db_name: CiStr,
    #[serde(default)]
    pub charset: String,
    #[serde(default)]
    pub collate: String,
    #[serde(default)]
    pub state: u8,
}

/// A column's type (FieldType: capitalised JSON keys).
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct FieldType {
    #[serde(rename = "Tp", default)]
    pub tp: u8,
    #[serde(rename = "Flag", default)]
    pub flag: u32,
    #[serde(rename = "Flen", default)]
    pub flen: i64,
    #[serde(rename = "Decimal", default)]
    pub decimal: i64,
    #[serde(rename = "Charset", default)]
    pub charset: String,
    #[serde(rename = "Collate", default)]
    pub collate: String,
    #[serde(rename = "Elems", default)]
    pub elems: Option<Vec<String>>,
}

/// MySQL type codes (parser/mysql/type.go).
pub mod tp {
    pub const TINY: u8 = 1;
    pub const SHORT: u8 = 2;
    pub const LONG: u8 = 3;
    pub const FLOAT: u8 = 4;
    pub const DOUBLE: u8 = 5;
    pub const NULL: u8 = 6;
    pub const TIMESTAMP: u8 = 7;
    pub const LONGLONG: u8 = 8;
    pub const INT24: u8 = 9;
    pub const DATE: u8 = 10;
    pub const DURATION: u8 = 11;
    pub const DATETIME: u8 = 12;
    pub const YEAR: u8 = 13;
    pub const NEWDATE: u8 = 14;
    pub const VARCHAR: u8 = 15;
    pub const BIT: u8 = 16;
    pub const VECTOR_F32: u8 = 0xE1;
    pub const JSON: u8 = 0xF5;
    pub const NEWDECIMAL: u8 = 0xF6;
    pub const ENUM: u8 = 0xF7;
    pub const SET: u8 = 0xF8;
    pub const TINY_BLOB: u8 = 0xF9;
    pub const MEDIUM_BLOB: u8 = 0xFA;
    pub const LONG_BLOB: u8 = 0xFB;
    pub const BLOB: u8 = 0xFC;
    pub const VAR_STRING: u8 = 0xFD;
    pub const STRING: u8 = 0xFE;
    pub const GEOMETRY: u8 = 0xFF;
}

/// The UNSIGNED flag bit.
pub const UNSIGNED_FLAG: u32 = 32;

impl FieldType {
    pub fn is_unsigned(&self) -> bool {
        self.flag & UNSIGNED_FLAG != 0
    }
}

/// A column.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ColumnInfo {
    /// The id rows use (never reused).
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: CiStr,
    #[serde(default)]
    pub offset: i64,
    #[serde(rename = "type", default)]
    pub field_type: FieldType,
    #[serde(default)]
    pub origin_default: serde_json::Value,
    #[serde(default)]
    pub default: serde_json::Value,
    #[serde(default)]
    pub generated_expr_string: String,
    #[serde(default)]
    pub generated_stored: bool,
    #[serde(default)]
    pub state: u8,
    #[serde(default)]
    pub hidden: bool,
    /// A BIT column's origin default, base64 of its bytes (then `origin_default` is not used).
    #[serde(default)]
    pub origin_default_bit: Option<String>,
    #[serde(default)]
    pub default_bit: Option<String>,
    /// Column info version: from 1 on, TIMESTAMP defaults are stored in UTC.
    #[serde(default)]
    pub version: u64,
    #[serde(default)]
    pub comment: String,
}

/// A partition of a partitioned table (its own physical table id).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PartitionDefinition {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: CiStr,
}

/// Partitioning of a table.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PartitionInfo {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub definitions: Vec<PartitionDefinition>,
}

/// An index column.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IndexColumn {
    #[serde(default)]
    pub name: CiStr,
    #[serde(default)]
    pub offset: i64,
    #[serde(default)]
    pub length: i64,
}

/// An index.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct IndexInfo {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub idx_name: CiStr,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub idx_cols: Vec<IndexColumn>,
    #[serde(default)]
    pub is_unique: bool,
    #[serde(default)]
    pub is_primary: bool,
    #[serde(default)]
    pub state: u8,
}

/// A table.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TableInfo {
    #[serde(default)]
    pub id: i64,
    #[serde(default)]
    pub name: CiStr,
    #[serde(default)]
    pub charset: String,
    #[serde(default)]
    pub collate: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub cols: Vec<ColumnInfo>,
    #[serde(default)]
    pub index_info: Option<Vec<IndexInfo>>,
    #[serde(default)]
    pub state: u8,
    #[serde(default)]
    pub pk_is_handle: bool,
    #[serde(default)]
    pub is_common_handle: bool,
    #[serde(default)]
    pub partition: Option<PartitionInfo>,
    /// A view has no rows.
    #[serde(default)]
    pub view: Option<serde_json::Value>,
    #[serde(default)]
    pub sequence: Option<serde_json::Value>,
    #[serde(default)]
    pub update_timestamp: u64,
    #[serde(default)]
    pub version: u16,
}

/// The public schema state.
pub const STATE_PUBLIC: u8 = 5;

impl TableInfo {
    /// Parse TableInfo JSON leniently.
    pub fn parse(json: &[u8]) -> Result<TableInfo, String> {
        serde_json::from_slice(json).map_err(|e| e.to_string())
    }

    /// Physical table ids whose rows belong to this table (the partitions', or its own).
    pub fn physical_ids(&self) -> Vec<i64> {
        match &self.partition {
            Some(p) if !p.definitions.is_empty() => p.definitions.iter().map(|d| d.id).collect(),
            _ => vec![self.id],
        }
    }

    /// The integer primary-key column whose value is the row handle (`pk_is_handle`).
    pub fn handle_column(&self) -> Option<&ColumnInfo> {
        if !self.pk_is_handle {
            return None;
        }
        // The PRI_KEY flag (2) marks it.
        self.cols.iter().find(|c| c.field_type.flag & 2 != 0)
    }
}

impl DbInfo {
    /// Parse DBInfo JSON leniently.
    pub fn parse(json: &[u8]) -> Result<DbInfo, String> {
        serde_json::from_slice(json).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape TiDB writes (trimmed), with unknown and missing fields.
    #[test]
    fn lenient_parsing() {
        let t = br#"{"id":106,"name":{"O":"Orders","L":"orders"},"charset":"utf8mb4","collate":"utf8mb4_bin",
            "cols":[{"id":1,"name":{"O":"id","L":"id"},"offset":0,"origin_default":null,"default":null,
                     "type":{"Tp":8,"Flag":547,"Flen":20,"Decimal":0,"Charset":"binary","Collate":"binary","Elems":null},
                     "state":5,"version":2,"some_future_field":[1,2]},
                    {"id":2,"name":{"O":"amount","L":"amount"},"offset":1,"origin_default":"0.00",
                     "type":{"Tp":246,"Flag":0,"Flen":10,"Decimal":2},"state":5},
                    {"id":3,"name":{"O":"kind","L":"kind"},"offset":2,
                     "type":{"Tp":247,"Flag":0,"Flen":-1,"Decimal":0,"Elems":["a","b"]},"state":5}],
            "index_info":null,"pk_is_handle":true,"is_common_handle":false,"state":5,
            "partition":null,"update_timestamp":445566778899,"ShardRowIDBits":0,"Lock":null}"#;
        let ti = TableInfo::parse(t).unwrap();
        assert_eq!(ti.name.original, "Orders");
        assert_eq!(ti.cols.len(), 3);
        assert!(ti.cols[0].field_type.is_unsigned());
        assert_eq!(ti.cols[1].field_type.tp, tp::NEWDECIMAL);
        assert_eq!(
            ti.cols[2].field_type.elems.as_deref(),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        assert_eq!(ti.handle_column().unwrap().name.lower, "id");
        assert_eq!(ti.physical_ids(), vec![106]);
        let p = TableInfo::parse(br#"{"id":7,"partition":{"definitions":[{"id":8,"name":{"O":"p0","L":"p0"}},{"id":9}]}}"#).unwrap();
        assert_eq!(p.physical_ids(), vec![8, 9]);
        let d = DbInfo::parse(br#"{"id":2,"db_name":{"O":"Shop","L":"shop"},"state":5}"#).unwrap();
        assert_eq!((d.id, d.db_name.lower.as_str()), (2, "shop"));
        assert!(TableInfo::parse(b"not json").is_err());
        // Go's empty lists are null.
        let n =
            TableInfo::parse(br#"{"id":1,"cols":null,"partition":{"definitions":null}}"#).unwrap();
        assert!(n.cols.is_empty());
        assert_eq!(n.physical_ids(), vec![1]);
    }
}
