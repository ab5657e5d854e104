//! BR (TiDB Backup & Restore) backups (format-specs/br.md): the `backupmeta` with its v2 index
//! files and encryption ([`meta`]), and the audit of its data files against it ([`verify`]). The data files are TiKV-written SSTs read by [`crate::sst`].

pub mod meta;
pub mod verify;
