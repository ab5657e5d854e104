//! Export plans: which key ranges each store of a cluster exports, so that every node exports its
//! own share from its own disks in parallel and the per-node outputs are disjoint
//! (format-specs/tikv.md §14).
//!
//! `tidb plan` reads only what the choice needs from every store (region metadata, and TiDB's
//! schema: the meta keys, read from the authoritative replica of their range) and writes the plan;
//! `tidb export --plan` on each node exports the ranges its stores are authoritative for, with the
//! schema from the plan. A node that lost data in a range it owns reports the range with the
//! next-best replicas; [`refill`] turns such reports into a follow-up plan.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::tidb::{lost_ranges, LostRange};
use crate::lsm::salvage::{DbSalvageOptions, KeyFilter};
use crate::tidb::catalog::CatalogBuilder;
use crate::tikv::region::{self, local_keys, OwnedRange, RegionPlan};
use crate::tikv::store::{
    salvage_stores, DefaultValue, KeyGroup, MergedStores, RegionFilter, WriteVersion,
};

/// The plan file's format version.
pub const PLAN_VERSION: u32 = 1;

/// One store of the plan.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanStore {
    pub store_id: u64,
    /// The data directory as `tidb plan` was given it (for the reader; nodes match by store id).
    pub path: String,
}

/// A key range and the stores to export it from (store ids, best first).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanRange {
    /// Encoded user keys, upper-case hex (empty: open).
    pub start: String,
    pub end: String,
    pub region_id: u64,
    /// The store that exports it, then the next-best replicas' stores.
    pub store_ids: Vec<u64>,
    /// Rows exported from it are suspect (a refill from a next-best replica).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspect: bool,
}

/// A meta key (TiDB's schema) with every version the authoritative replica holds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PlanKey {
    /// The raw key, hex.
    pub raw: String,
    /// (commit ts, write record hex), newest first.
    pub writes: Vec<(u64, String)>,
    /// (start ts, value hex) of long values.
    pub defaults: Vec<(u64, String)>,
}

/// What `tidb plan` writes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportPlan {
    pub version: u32,
    pub cluster_id: Option<u64>,
    pub stores: Vec<PlanStore>,
    /// Disjoint, in key order.
    pub ranges: Vec<PlanRange>,
    /// Key ranges no store holds a usable replica of, with the tables they touch.
    #[serde(default)]
    pub lost: Vec<LostRange>,
    /// TiDB's schema (meta keys), so a node need not hold the meta region.
    pub meta: Vec<PlanKey>,
}

impl PlanKey {
    fn of(g: &KeyGroup) -> PlanKey {
        PlanKey {
            raw: hex::encode(&g.raw),
            writes: g
                .writes
                .iter()
                .map(|w| (w.ts, hex::encode(&w.value)))
                .collect(),
            defaults: g
                .defaults
                .iter()
                .map(|d| (d.start_ts, hex::encode(&d.value)))
                .collect(),
        }
    }

    /// The key group again (one store, nothing suspect).
    pub fn group(&self) -> Option<KeyGroup> {
        let h = |x: &str| hex::decode(x).ok();
        Some(KeyGroup {
            raw: h(&self.raw)?,
            writes: self
                .writes
                .iter()
                .map(|(ts, v)| {
                    Some(WriteVersion {
                        ts: *ts,
                        value: h(v)?,
                        stores: 1,
                        conflicting: 0,
                        suspect: false,
                    })
                })
                .collect::<Option<_>>()?,
            defaults: self
                .defaults
                .iter()
                .map(|(ts, v)| {
                    Some(DefaultValue {
                        start_ts: *ts,
                        value: h(v)?,
                        stores: 1,
                    })
                })
                .collect::<Option<_>>()?,
            ..KeyGroup::default()
        })
    }
}

impl ExportPlan {
    /// The region plan for the stores of one node: ranges whose exporting store is one of
    /// `local` (store ids, in input order) are read from it; every other range is left to the
    /// other nodes; next-best replicas are not used (a damaged range is reported for a refill).
    pub fn for_node(&self, local: &[Option<u64>]) -> RegionPlan {
        let dec = |x: &str| hex::decode(x).unwrap_or_default();
        RegionPlan {
            regions: Vec::new(),
            ranges: self
                .ranges
                .iter()
                .map(|r| OwnedRange {
                    start: dec(&r.start),
                    end: dec(&r.end),
                    region_id: r.region_id,
                    stores: r
                        .store_ids
                        .first()
                        .and_then(|id| local.iter().position(|l| *l == Some(*id)))
                        .into_iter()
                        .collect(),
                    suspect: r.suspect,
                })
                .collect(),
            gaps: Vec::new(),
        }
    }

    /// The schema keys as key groups.
    pub fn meta_groups(&self) -> io::Result<Vec<KeyGroup>> {
        self.meta
            .iter()
            .map(|k| {
                k.group().ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("export plan: meta key {} is not valid hex", k.raw),
                    )
                })
            })
            .collect()
    }

    /// Read a plan file.
    pub fn read(path: &Path) -> io::Result<ExportPlan> {
        let b = std::fs::read(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        let p: ExportPlan = serde_json::from_slice(&b).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: not an export plan: {e}", path.display()),
            )
        })?;
        if p.version != PLAN_VERSION {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{}: export plan version {} (this rockrescue reads version {PLAN_VERSION})",
                    path.display(),
                    p.version
                ),
            ));
        }
        Ok(p)
    }
}

/// Options of [`make_plan`].
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Read stores of different clusters together.
    pub force: bool,
}

/// Read the region metadata and TiDB's schema of every store in `datadirs` and decide which
/// store exports which key range. Temporary files go under `tmp`.
pub fn make_plan(datadirs: &[PathBuf], tmp: &Path, opts: &PlanOptions) -> io::Result<ExportPlan> {
    in_fresh_tmp(datadirs, tmp, |tmp| plan_in(datadirs, tmp, opts))
}

/// Run `f` with `tmp` created empty (never on an input) and removed afterwards, whatever `f` gives.
fn in_fresh_tmp<T>(
    inputs: &[PathBuf],
    tmp: &Path,
    f: impl FnOnce(&Path) -> io::Result<T>,
) -> io::Result<T> {
    super::tidb::prepare_dirs(None, tmp, inputs)?;
    let r = f(tmp);
    let _ = std::fs::remove_dir_all(tmp);
    r
}

/// What reading a cluster's metadata gives: every store's region metadata, the region plan, TiDB's
/// schema keys as the plan chooses them, and the lost key ranges mapped to the schema's tables.
#[derive(Clone, Debug)]
pub struct ClusterMeta {
    pub stores: Vec<region::StoreMeta>,
    pub plan: RegionPlan,
    pub lost: Vec<LostRange>,
    pub meta: Vec<PlanKey>,
}

/// Read the region metadata and TiDB's schema (only those keys) of every store and choose the
/// replicas (tikv.md §13). Stores without region metadata are kept (with none); stores of other
/// clusters are refused unless `force`. `tmp` is created and removed.
pub fn read_cluster(datadirs: &[PathBuf], tmp: &Path, force: bool) -> io::Result<ClusterMeta> {
    in_fresh_tmp(datadirs, tmp, |tmp| read_cluster_in(datadirs, tmp, force))
}

fn read_cluster_in(datadirs: &[PathBuf], tmp: &Path, force: bool) -> io::Result<ClusterMeta> {
    // Local keys (region metadata) and TiDB's meta keys (`z` + mc("m...")), nothing else.
    let salvage = DbSalvageOptions {
        filter: Some(KeyFilter {
            cfs: ["default", "write", "lock", "raft"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ranges: vec![local_keys(), (b"zm".to_vec(), Some(b"zn".to_vec()))],
        }),
        memory_budget: 64 << 20,
        ..DbSalvageOptions::default()
    };
    let stores = salvage_stores(datadirs, tmp, &salvage)?;
    let metas: Vec<region::StoreMeta> = stores.iter().map(|s| s.meta.clone()).collect();
    region::check_stores(&metas, force)
        .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let plan = region::plan(&metas);
    let mut merged = MergedStores::open(tmp, stores.len())?;
    merged.use_regions(RegionFilter {
        plan: plan.clone(),
        lost: stores.iter().map(|s| s.lost_spans()).collect(),
    })?;
    let mut builder = CatalogBuilder::new(u64::MAX);
    let mut meta = Vec::new();
    while let Some(g) = merged.next_group()? {
        if !g.bad_key && g.raw.first() == Some(&b'm') {
            builder.add(&g);
            meta.push(PlanKey::of(&g));
        }
    }
    let catalog = builder.build();
    Ok(ClusterMeta {
        lost: lost_ranges(&plan, &catalog),
        stores: metas,
        plan,
        meta,
    })
}

fn plan_in(datadirs: &[PathBuf], tmp: &Path, opts: &PlanOptions) -> io::Result<ExportPlan> {
    let c = read_cluster_in(datadirs, tmp, opts.force)?;
    let without: Vec<&str> = c
        .stores
        .iter()
        .filter(|m| !m.has_regions() || m.store_id.is_none())
        .map(|m| m.path.as_str())
        .collect();
    if !without.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "an export plan needs every store's region metadata and StoreIdent; missing in {} \
                 (export such stores on one machine with `tidb export --merge keys`)",
                without.join(", ")
            ),
        ));
    }
    let (metas, plan, meta) = (&c.stores, &c.plan, c.meta.clone());
    let id = |i: usize| metas[i].store_id.unwrap_or(0);
    Ok(ExportPlan {
        version: PLAN_VERSION,
        cluster_id: metas.iter().find_map(|m| m.cluster_id),
        stores: metas
            .iter()
            .map(|m| PlanStore {
                store_id: m.store_id.unwrap_or(0),
                path: m.path.clone(),
            })
            .collect(),
        ranges: plan
            .ranges
            .iter()
            .map(|r| PlanRange {
                start: hex::encode_upper(&r.start),
                end: hex::encode_upper(&r.end),
                region_id: r.region_id,
                store_ids: r.stores.iter().map(|s| id(*s)).collect(),
                suspect: false,
            })
            .collect(),
        lost: c.lost.clone(),
        meta,
    })
}

/// A key range a node owns but lost data in (a damaged block), with the replicas to take it
/// from instead.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefillRange {
    /// Encoded user keys, upper-case hex (empty: open).
    pub start: String,
    pub end: String,
    pub region_id: u64,
    /// The store that lost it.
    pub store_id: u64,
    /// The next-best replicas' stores, best first (empty: no other replica).
    pub next_store_ids: Vec<u64>,
}

/// A follow-up plan that exports only `refills`, each from its next-best replica, with rows marked
/// suspect; ranges without another replica are listed as lost.
pub fn refill(base: &ExportPlan, refills: &[RefillRange]) -> ExportPlan {
    let mut ranges: Vec<PlanRange> = Vec::new();
    let mut lost = Vec::new();
    let mut sorted: Vec<&RefillRange> = refills.iter().collect();
    sorted.sort_by(|a, b| {
        hex::decode(&a.start)
            .unwrap_or_default()
            .cmp(&hex::decode(&b.start).unwrap_or_default())
    });
    // Overlapping reports (several column families, several nodes) become one range each.
    let mut merged: Vec<RefillRange> = Vec::new();
    for r in sorted {
        if let Some(last) = merged.last_mut() {
            let overlaps = last.end.is_empty()
                || hex::decode(&r.start).unwrap_or_default()
                    <= hex::decode(&last.end).unwrap_or_default();
            if overlaps {
                let later = r.end.is_empty()
                    || (!last.end.is_empty()
                        && hex::decode(&r.end).unwrap_or_default()
                            > hex::decode(&last.end).unwrap_or_default());
                if later {
                    last.end = r.end.clone();
                }
                continue;
            }
        }
        merged.push(r.clone());
    }
    for r in &merged {
        if r.next_store_ids.is_empty() {
            lost.push(LostRange {
                start: r.start.clone(),
                end: r.end.clone(),
                from: None,
                to: None,
                tables: Vec::new(),
                meta: false,
                unknown_tables: Vec::new(),
            });
            continue;
        }
        ranges.push(PlanRange {
            start: r.start.clone(),
            end: r.end.clone(),
            region_id: r.region_id,
            store_ids: r.next_store_ids.clone(),
            suspect: true,
        });
    }
    ExportPlan {
        version: PLAN_VERSION,
        cluster_id: base.cluster_id,
        stores: base.stores.clone(),
        ranges,
        lost,
        meta: base.meta.clone(),
    }
}
