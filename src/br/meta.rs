//! The metadata of a BR backup: `backupmeta`, the v2 index files it points at, and their
//! encryption (format-specs/br.md §2-§3).
//!
//! The protobuf messages are declared here by hand (kvproto `proto/brpb.proto`; only the fields
//! rockrescue reads) and decoded with `prost`, which skips fields it does not know, so metadata of
//! newer BR versions still reads.

use std::path::{Path, PathBuf};

use aes::cipher::{KeyIvInit, StreamCipher};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::io::Source;

/// kvproto `backup.BackupMeta` (br.md §2.1).
#[derive(Clone, PartialEq, prost::Message)]
pub struct BackupMeta {
    #[prost(uint64, tag = "1")]
    pub cluster_id: u64,
    #[prost(string, tag = "2")]
    pub cluster_version: String,
    /// Data files (v1; v2 lists them through `file_index`).
    #[prost(message, repeated, tag = "4")]
    pub files: Vec<File>,
    #[prost(uint64, tag = "5")]
    pub start_version: u64,
    #[prost(uint64, tag = "6")]
    pub end_version: u64,
    #[prost(message, repeated, tag = "7")]
    pub schemas: Vec<Schema>,
    #[prost(bool, tag = "8")]
    pub is_raw_kv: bool,
    #[prost(message, repeated, tag = "9")]
    pub raw_ranges: Vec<RawRange>,
    /// A JSON array of DDL jobs (incremental backups).
    #[prost(bytes = "vec", tag = "10")]
    pub ddls: Vec<u8>,
    #[prost(string, tag = "11")]
    pub br_version: String,
    /// 0: v1 (everything in this message); 1: v2 (indexes to `backupmeta.*` files).
    #[prost(int32, tag = "12")]
    pub version: i32,
    #[prost(message, optional, tag = "13")]
    pub file_index: Option<MetaFile>,
    #[prost(message, optional, tag = "14")]
    pub schema_index: Option<MetaFile>,
    #[prost(message, optional, tag = "15")]
    pub raw_range_index: Option<MetaFile>,
    #[prost(message, optional, tag = "16")]
    pub ddl_indexes: Option<MetaFile>,
    #[prost(string, tag = "17")]
    pub backup_result: String,
    /// kvrpcpb.APIVersion: 0 V1, 1 V1TTL, 2 V2.
    #[prost(int32, tag = "18")]
    pub api_version: i32,
    #[prost(string, tag = "20")]
    pub new_collations_enabled: String,
}

/// kvproto `backup.File`: a data file, or (in a `MetaFile`'s `meta_files`) an index file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct File {
    #[prost(string, tag = "1")]
    pub name: String,
    /// SHA-256 of the file's plaintext.
    #[prost(bytes = "vec", tag = "2")]
    pub sha256: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub start_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "4")]
    pub end_key: Vec<u8>,
    #[prost(uint64, tag = "5")]
    pub start_version: u64,
    #[prost(uint64, tag = "6")]
    pub end_version: u64,
    #[prost(uint64, tag = "7")]
    pub crc64xor: u64,
    #[prost(uint64, tag = "8")]
    pub total_kvs: u64,
    #[prost(uint64, tag = "9")]
    pub total_bytes: u64,
    #[prost(string, tag = "10")]
    pub cf: String,
    #[prost(uint64, tag = "11")]
    pub size: u64,
    /// The AES-CTR initial counter of an encrypted file.
    #[prost(bytes = "vec", tag = "12")]
    pub cipher_iv: Vec<u8>,
}

/// kvproto `backup.MetaFile`: one level of the v2 index.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MetaFile {
    /// Further index files, each holding a `MetaFile`.
    #[prost(message, repeated, tag = "1")]
    pub meta_files: Vec<File>,
    #[prost(message, repeated, tag = "2")]
    pub data_files: Vec<File>,
    #[prost(message, repeated, tag = "3")]
    pub schemas: Vec<Schema>,
    #[prost(message, repeated, tag = "4")]
    pub raw_ranges: Vec<RawRange>,
    #[prost(bytes = "vec", repeated, tag = "5")]
    pub ddls: Vec<Vec<u8>>,
}

/// kvproto `backup.Schema`: a table (or a database without tables) as TiDB's JSON.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Schema {
    /// DBInfo JSON.
    #[prost(bytes = "vec", tag = "1")]
    pub db: Vec<u8>,
    /// TableInfo JSON; empty for a database backed up without tables.
    #[prost(bytes = "vec", tag = "2")]
    pub table: Vec<u8>,
    #[prost(uint64, tag = "3")]
    pub crc64xor: u64,
    #[prost(uint64, tag = "4")]
    pub total_kvs: u64,
    #[prost(uint64, tag = "5")]
    pub total_bytes: u64,
}

/// kvproto `backup.RawRange`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RawRange {
    #[prost(bytes = "vec", tag = "1")]
    pub start_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub end_key: Vec<u8>,
    #[prost(string, tag = "3")]
    pub cf: String,
}

/// The key BR was given with `--crypter.method aes{128,192,256}-ctr --crypter.key HEX`; the method
/// follows from the key length.
#[derive(Clone)]
pub struct Crypter {
    key: Vec<u8>,
}

impl Crypter {
    /// A key of 16, 24 or 32 bytes (AES-128, -192, -256 in CTR mode).
    pub fn new(key: Vec<u8>) -> std::result::Result<Crypter, String> {
        match key.len() {
            16 | 24 | 32 => Ok(Crypter { key }),
            n => Err(format!(
                "a --crypter.key has 16, 24 or 32 bytes (aes128/192/256-ctr), this one {n}"
            )),
        }
    }

    /// 128, 192 or 256.
    pub fn key_bits(&self) -> usize {
        self.key.len() * 8
    }

    /// From hex, as BR takes it.
    pub fn from_hex(hex_key: &str) -> std::result::Result<Crypter, String> {
        let key =
            hex::decode(hex_key.trim()).map_err(|e| format!("--crypter.key is not hex: {e}"))?;
        Crypter::new(key)
    }

    /// Decrypt (or encrypt: CTR is symmetric) `data` whose first counter block is `iv`: AES in
    /// counter mode with the whole 16-byte block as a big-endian counter (br.md §3).
    pub fn apply(&self, iv: &[u8], data: &mut [u8]) -> std::result::Result<(), String> {
        let iv: [u8; 16] = iv
            .try_into()
            .map_err(|_| format!("an AES-CTR IV has 16 bytes, this one {}", iv.len()))?;
        macro_rules! run {
            ($aes:ty) => {{
                let mut c = ctr::Ctr128BE::<$aes>::new(self.key.as_slice().into(), &iv.into());
                c.apply_keystream(data);
            }};
        }
        match self.key.len() {
            16 => run!(aes::Aes128),
            24 => run!(aes::Aes192),
            _ => run!(aes::Aes256),
        }
        Ok(())
    }
}

/// The metadata format generation (`BackupMeta.version`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetaVersion {
    V1,
    V2,
}

/// Something wrong with the metadata that does not stop reading the rest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MetaProblem {
    /// The metadata file concerned.
    pub file: String,
    pub message: String,
}

/// A backup's metadata with the v2 indexes resolved: every data file, schema, raw range and DDL
/// job, wherever it was listed.
#[derive(Clone, Debug)]
pub struct Backup {
    pub dir: PathBuf,
    /// The top-level message (its v2 index fields still as read).
    pub meta: BackupMeta,
    pub version: MetaVersion,
    pub encrypted: bool,
    pub files: Vec<File>,
    pub schemas: Vec<Schema>,
    pub raw_ranges: Vec<RawRange>,
    /// Each a JSON DDL job, or (v1) one JSON array of them.
    pub ddls: Vec<Vec<u8>>,
    /// Index files that are missing, damaged or do not decode (their entries are absent above).
    pub problems: Vec<MetaProblem>,
}

/// How deep v2 indexes may nest, and how many index files one backup may have (a guard against
/// loops in damaged metadata).
const MAX_DEPTH: usize = 16;
const MAX_INDEX_FILES: usize = 1 << 20;

/// Read a backup's metadata: `path` is the backup directory (its `backupmeta` is read) or a
/// backupmeta file itself (index and data files are then looked up beside it). Every index file it
/// points at is read too. An encrypted backup needs `crypter`. Fails only when the backupmeta itself
/// cannot be read or decoded; a damaged index file is a [`MetaProblem`].
pub fn open(path: &Path, crypter: Option<&Crypter>) -> Result<Backup> {
    let (dir, path) = if path.is_dir() {
        (path.to_path_buf(), path.join("backupmeta"))
    } else {
        (
            path.parent().map_or_else(PathBuf::new, Path::to_path_buf),
            path.to_path_buf(),
        )
    };
    // A log backup (PITR) keeps no backupmeta at its root (br.md §7.2).
    if !path.exists()
        && (dir.join("v1/backupmeta").is_dir() || dir.join("v1/global_checkpoint").is_dir())
    {
        return Err(Error::unsupported(
            0,
            "a log backup (PITR) storage: its change logs are not read by rockrescue; point it at \
             a snapshot backup",
        )
        .in_file(&dir));
    }
    let src = Source::open(&path)?;
    let bytes = src.bytes();
    // An EBS volume-snapshot backup keeps a JSON backupmeta (br.md §7.3).
    if bytes.first() == Some(&b'{') {
        return Err(Error::unsupported(
            0,
            "a JSON backupmeta: a volume-snapshot (EBS) backup, whose data are disk snapshots, \
             not SSTs",
        )
        .in_file(&path));
    }
    let (meta, encrypted) = decode_backupmeta(bytes, crypter).map_err(|e| e.in_file(&path))?;
    let mut b = Backup {
        dir,
        version: if meta.version >= 1 {
            MetaVersion::V2
        } else {
            MetaVersion::V1
        },
        encrypted,
        files: meta.files.clone(),
        schemas: meta.schemas.clone(),
        raw_ranges: meta.raw_ranges.clone(),
        ddls: if meta.ddls.is_empty() {
            Vec::new()
        } else {
            vec![meta.ddls.clone()]
        },
        problems: Vec::new(),
        meta,
    };
    let mut budget = MAX_INDEX_FILES;
    for index in [
        b.meta.file_index.clone(),
        b.meta.schema_index.clone(),
        b.meta.raw_range_index.clone(),
        b.meta.ddl_indexes.clone(),
    ]
    .into_iter()
    .flatten()
    {
        walk(&mut b, &index, crypter, 0, &mut budget);
    }
    Ok(b)
}

/// Decode a `backupmeta` file's bytes (decrypting them first with `crypter`: IV first, br.md §4.3);
/// whether it was encrypted. Also for fuzzing.
pub fn decode_backupmeta(bytes: &[u8], crypter: Option<&Crypter>) -> Result<(BackupMeta, bool)> {
    let (meta, encrypted) =
        match crypter {
            // An encrypted backupmeta starts with the 16-byte IV of the rest (br.md §3.2).
            Some(c) => {
                if bytes.len() < 16 {
                    return Err(Error::truncated(
                        0,
                        "encrypted backupmeta IV",
                        16,
                        bytes.len() as u64,
                    ));
                }
                let mut plain = bytes[16..].to_vec();
                c.apply(&bytes[..16], &mut plain)
                    .map_err(|m| Error::corrupt(0, m))?;
                match decode::<BackupMeta>(&plain) {
                    Ok(meta) if plausible(&meta) => (meta, true),
                    // A key given for a backup that was not encrypted.
                    _ => match decode::<BackupMeta>(bytes) {
                        Ok(meta) if plausible(&meta) => (meta, false),
                        _ => return Err(Error::corrupt(
                            16,
                            "backupmeta does not decode after decryption: wrong --crypter.key, \
                             or damaged",
                        )),
                    },
                }
            }
            None => {
                let meta = decode::<BackupMeta>(bytes).map_err(|e| {
                    Error::corrupt(
                        0,
                        format!(
                            "backupmeta does not decode ({e}): damaged, or an encrypted backup \
                         (give --crypter.key)"
                        ),
                    )
                })?;
                (meta, false)
            }
        };
    if !plausible(&meta) {
        return Err(Error::corrupt(
            0,
            "backupmeta decodes but names no cluster and no version: not a BR backupmeta, or \
             encrypted (give --crypter.key)",
        ));
    }
    Ok((meta, encrypted))
}

/// Decoded bytes that name a cluster or a version: random bytes (a wrong key) seldom do.
fn plausible(m: &BackupMeta) -> bool {
    m.cluster_id != 0 || m.end_version != 0 || !m.cluster_version.is_empty()
}

fn decode<M: prost::Message + Default>(bytes: &[u8]) -> std::result::Result<M, prost::DecodeError> {
    M::decode(bytes)
}

/// Take one `MetaFile`'s entries and follow its index files.
fn walk(b: &mut Backup, m: &MetaFile, crypter: Option<&Crypter>, depth: usize, budget: &mut usize) {
    b.files.extend(m.data_files.iter().cloned());
    b.schemas.extend(m.schemas.iter().cloned());
    b.raw_ranges.extend(m.raw_ranges.iter().cloned());
    b.ddls.extend(m.ddls.iter().cloned());
    for f in &m.meta_files {
        let problem = |message: String| MetaProblem {
            file: f.name.clone(),
            message,
        };
        if depth >= MAX_DEPTH || *budget == 0 {
            b.problems.push(problem(
                "index files nest too deep or are too many (a loop in damaged metadata?)".into(),
            ));
            continue;
        }
        *budget -= 1;
        match read_index_file(&b.dir, f, crypter) {
            Ok(child) => walk(b, &child, crypter, depth + 1, budget),
            Err(e) => b.problems.push(problem(e)),
        }
    }
}

/// Read, decrypt, check and decode one v2 index file.
fn read_index_file(
    dir: &Path,
    f: &File,
    crypter: Option<&Crypter>,
) -> std::result::Result<MetaFile, String> {
    if f.name.is_empty() || f.name.contains('/') || f.name.contains("..") {
        return Err(format!(
            "index file name {:?} is not a plain file name",
            f.name
        ));
    }
    let path = dir.join(&f.name);
    let src = Source::open(&path).map_err(|e| e.to_string())?;
    let bytes = src.bytes();
    if f.size != 0 && bytes.len() as u64 != f.size {
        return Err(format!(
            "{} bytes, the backupmeta records {}",
            bytes.len(),
            f.size
        ));
    }
    let mut plain = bytes.to_vec();
    if !f.cipher_iv.is_empty() {
        match crypter {
            Some(c) => c.apply(&f.cipher_iv, &mut plain)?,
            None => return Err("encrypted (give --crypter.key)".into()),
        }
    }
    if !f.sha256.is_empty() {
        let got = Sha256::digest(&plain);
        if got.as_slice() != f.sha256.as_slice() {
            return Err(format!(
                "sha256 {} differs from the recorded {}{}",
                hex::encode(got),
                hex::encode(&f.sha256),
                if f.cipher_iv.is_empty() {
                    ""
                } else {
                    " (damaged, or a wrong --crypter.key)"
                }
            ));
        }
    }
    decode::<MetaFile>(&plain).map_err(|e| format!("does not decode as a MetaFile: {e}"))
}

/// A data file of the backup, opened read-only and, when encrypted, decrypted into memory.
pub struct DataFile {
    src: Source,
    plain: Option<Vec<u8>>,
}

impl DataFile {
    /// Open `f` inside the backup directory. Errors say what is wrong in words (missing, a name
    /// leaving the directory, encrypted without a key).
    pub fn open(
        b: &Backup,
        f: &File,
        crypter: Option<&Crypter>,
    ) -> std::result::Result<DataFile, String> {
        if f.name.is_empty() || f.name.contains("..") || f.name.starts_with('/') {
            return Err(format!(
                "data file name {:?} is not a path inside the backup",
                f.name
            ));
        }
        let src = Source::open(&b.dir.join(&f.name))
            .map_err(|e| format!("missing or unreadable: {e}"))?;
        src.advise_sequential();
        let plain = if f.cipher_iv.is_empty() {
            None
        } else {
            let Some(k) = crypter else {
                return Err("encrypted: give --crypter.key to read it".into());
            };
            let mut v = src.bytes().to_vec();
            k.apply(&f.cipher_iv, &mut v)?;
            Some(v)
        };
        Ok(DataFile { src, plain })
    }

    /// The file's size on disk.
    pub fn stored_len(&self) -> u64 {
        self.src.len()
    }

    pub fn path(&self) -> &Path {
        self.src.path()
    }

    /// Whether the file was read as it was when opened (see [`Source::check_intact`]): call it
    /// after reading, before trusting the result.
    pub fn check_intact(&self) -> Result<()> {
        self.src.check_intact()
    }

    /// The bytes as stored (the ciphertext of an encrypted file).
    pub fn stored_bytes(&self) -> &[u8] {
        self.src.bytes()
    }

    /// The plaintext (the file itself when it is not encrypted).
    pub fn bytes(&self) -> &[u8] {
        self.plain.as_deref().unwrap_or_else(|| self.src.bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn ctr_counts_the_whole_block_big_endian() {
        // Encrypting 32 zero bytes from an IV of all 0xff: the second block's counter wraps to 0.
        let c = Crypter::new(vec![7; 16]).unwrap();
        let mut a = vec![0u8; 32];
        c.apply(&[0xff; 16], &mut a).unwrap();
        let mut b = vec![0u8; 16];
        c.apply(&[0; 16], &mut b).unwrap();
        assert_eq!(&a[16..], &b[..]);
        assert!(Crypter::new(vec![0; 15]).is_err());
        assert!(Crypter::from_hex("zz").is_err());
    }

    #[test]
    fn v2_indexes_are_followed_and_checked() {
        let t = tempfile::tempdir().unwrap();
        let crypter = Crypter::new(vec![0x42; 32]).unwrap();
        let schema = Schema {
            db: br#"{"id":1}"#.to_vec(),
            table: br#"{"id":2}"#.to_vec(),
            ..Schema::default()
        };
        let child = MetaFile {
            schemas: vec![schema.clone()],
            ..MetaFile::default()
        }
        .encode_to_vec();
        let iv = [9u8; 16];
        let mut enc = child.clone();
        crypter.apply(&iv, &mut enc).unwrap();
        std::fs::write(t.path().join("backupmeta.schema.000000001"), &enc).unwrap();
        let top = BackupMeta {
            cluster_id: 5,
            end_version: 6,
            version: 1,
            schema_index: Some(MetaFile {
                meta_files: vec![File {
                    name: "backupmeta.schema.000000001".into(),
                    sha256: Sha256::digest(&child).to_vec(),
                    size: enc.len() as u64,
                    cipher_iv: iv.to_vec(),
                    ..File::default()
                }],
                ..MetaFile::default()
            }),
            ..BackupMeta::default()
        }
        .encode_to_vec();
        let mut file = vec![3u8; 16];
        let mut body = top.clone();
        crypter.apply(&file.clone(), &mut body).unwrap();
        file.extend(body);
        std::fs::write(t.path().join("backupmeta"), &file).unwrap();

        let b = open(t.path(), Some(&crypter)).unwrap();
        assert_eq!(b.version, MetaVersion::V2);
        assert!(b.encrypted);
        assert_eq!(b.schemas, vec![schema]);
        assert!(b.problems.is_empty());
        // Without the key the top level does not decode; with another key the index fails.
        assert!(open(t.path(), None).is_err());
        let wrong = Crypter::new(vec![0x41; 32]).unwrap();
        assert!(open(t.path(), Some(&wrong)).is_err());
        // A damaged index file is a problem, not a failure.
        enc[3] ^= 1;
        std::fs::write(t.path().join("backupmeta.schema.000000001"), &enc).unwrap();
        let b = open(t.path(), Some(&crypter)).unwrap();
        assert!(b.schemas.is_empty());
        assert!(b.problems[0].message.contains("sha256"), "{:?}", b.problems);
    }
}
