//! The report of `rockrescue tikv regions`: every store's identity, every region's replicas and
//! which one is authoritative, and the coverage of the key space, with region bounds in TiDB terms
//! (format-specs/tikv.md §12-§13).

use serde::Serialize;

use super::tidb::{AffectedTable, LostRange};
use crate::tidb::key::{describe_bound, table_id_span};
use crate::tikv::codec::decode_bytes_lenient;
use crate::tikv::region::{Epoch, Peer, PeerState, RegionPlan, StoreMeta};

/// One store: which it is and the region metadata it holds (shared by `tikv regions` and the
/// region part of `tidb export`'s report).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreLine {
    /// Index in the inputs.
    pub store: usize,
    pub path: String,
    pub cluster_id: Option<u64>,
    pub store_id: Option<u64>,
    /// RegionLocalStates found (every state).
    pub regions: usize,
    /// Region metadata that did not decode.
    pub problems: Vec<String>,
}

impl StoreLine {
    /// Store `i` of the inputs, from its metadata.
    pub fn of(i: usize, m: &StoreMeta) -> StoreLine {
        StoreLine {
            store: i,
            path: m.path.clone(),
            cluster_id: m.cluster_id,
            store_id: m.store_id,
            regions: m.replicas.len(),
            problems: m.problems.clone(),
        }
    }
}

/// A region bound: the encoded key as TiKV holds it, and what it is in TiDB's key space.
#[derive(Clone, Debug, Serialize)]
pub struct Bound {
    /// Upper-case hex of the encoded key (empty: open).
    pub encoded: String,
    /// `table 100 row 5`, `meta ...`, `start of the key space`, `end of the key space`.
    pub tidb: String,
}

fn bound(enc: &[u8], end: bool) -> Bound {
    Bound {
        encoded: hex::encode_upper(enc),
        tidb: if enc.is_empty() {
            if end {
                "end of the key space".into()
            } else {
                "start of the key space".into()
            }
        } else {
            describe_bound(&decode_bytes_lenient(enc).0)
        },
    }
}

/// One replica of a region.
#[derive(Clone, Debug, Serialize)]
pub struct ReplicaLine {
    pub store: usize,
    pub store_id: Option<u64>,
    pub state: PeerState,
    pub epoch: Epoch,
    pub applied_index: Option<u64>,
    pub start: Bound,
    pub end: Bound,
    pub peers: Vec<Peer>,
    /// 1 = authoritative, 2.. = next-best (used where a better replica lost data), 0 = not usable.
    pub rank: usize,
    pub why: String,
}

/// One region id over every store.
#[derive(Clone, Debug, Serialize)]
pub struct RegionLine {
    pub region_id: u64,
    /// The store id (and input index) of the authoritative replica.
    pub authoritative_store_id: Option<u64>,
    pub authoritative_store: Option<usize>,
    /// The chosen replica's applied index is below another replica's.
    pub behind: bool,
    /// Regions of newer epochs cover part of its range; only the rest is read from it.
    pub superseded: bool,
    /// Key ranges of the plan read from this region (0 when newer regions cover all of it).
    pub ranges: usize,
    pub replicas: Vec<ReplicaLine>,
}

/// A key range of the plan.
#[derive(Clone, Debug, Serialize)]
pub struct RangeLine {
    pub start: Bound,
    pub end: Bound,
    pub region_id: u64,
    /// Stores to read it from, best first (input indexes).
    pub stores: Vec<usize>,
}

/// A key range without a usable replica.
#[derive(Clone, Debug, Serialize)]
pub struct LostLine {
    pub start: Bound,
    pub end: Bound,
    /// The physical table ids it may hold keys of (inclusive; null = none; an open end shows as
    /// the smallest or largest id).
    pub table_ids: Option<(i64, i64)>,
    /// It covers meta keys (TiDB's schema).
    pub meta: bool,
    /// The tables (and partitions) it touches, by the schema the stores hold, with handle bounds.
    pub tables: Vec<AffectedTable>,
}

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct RegionsReport {
    pub stores: Vec<StoreLine>,
    pub regions: Vec<RegionLine>,
    pub ranges: Vec<RangeLine>,
    pub lost: Vec<LostLine>,
    /// Region ids whose authoritative replica is behind another replica.
    pub behind: Vec<u64>,
}

impl RegionsReport {
    /// Build the report from the stores' metadata and the plan made of it.
    pub fn new(metas: &[StoreMeta], plan: &RegionPlan) -> RegionsReport {
        let store_id = |i: usize| metas.get(i).and_then(|m| m.store_id);
        RegionsReport {
            stores: metas
                .iter()
                .enumerate()
                .map(|(i, m)| StoreLine::of(i, m))
                .collect(),
            regions: plan
                .regions
                .iter()
                .map(|c| RegionLine {
                    region_id: c.region_id,
                    authoritative_store_id: c.authoritative.and_then(store_id),
                    authoritative_store: c.authoritative,
                    behind: c.behind,
                    superseded: c.superseded,
                    ranges: plan
                        .ranges
                        .iter()
                        .filter(|r| r.region_id == c.region_id)
                        .count(),
                    replicas: c
                        .replicas
                        .iter()
                        .map(|r| ReplicaLine {
                            store: r.store,
                            store_id: r.store_id,
                            state: r.replica.state,
                            epoch: r.replica.epoch,
                            applied_index: r.replica.applied_index,
                            start: bound(&r.replica.start, false),
                            end: bound(&r.replica.end, true),
                            peers: r.replica.peers.clone(),
                            rank: r.rank,
                            why: r.why.clone(),
                        })
                        .collect(),
                })
                .collect(),
            ranges: plan
                .ranges
                .iter()
                .map(|r| RangeLine {
                    start: bound(&r.start, false),
                    end: bound(&r.end, true),
                    region_id: r.region_id,
                    stores: r.stores.clone(),
                })
                .collect(),
            lost: plan
                .gaps
                .iter()
                .map(|g| {
                    let raw = |b: &[u8]| (!b.is_empty()).then(|| decode_bytes_lenient(b).0);
                    let (from, to) = (raw(&g.start), raw(&g.end));
                    LostLine {
                        start: bound(&g.start, false),
                        end: bound(&g.end, true),
                        table_ids: table_id_span(from.as_deref(), to.as_deref()),
                        meta: from.as_deref().is_none_or(|f| f < b"t".as_slice())
                            && to.as_deref().is_none_or(|t| t > b"m".as_slice()),
                        tables: Vec::new(),
                    }
                })
                .collect(),
            behind: plan
                .regions
                .iter()
                .filter(|c| c.behind)
                .map(|c| c.region_id)
                .collect(),
        }
    }

    /// Name the tables of the lost ranges (`lost`: the same gaps, in the same order, mapped to a
    /// schema).
    pub fn with_tables(mut self, lost: &[LostRange]) -> RegionsReport {
        for (l, t) in self.lost.iter_mut().zip(lost) {
            l.tables = t.tables.clone();
        }
        self
    }

    /// Whether anything is missing or in doubt (exit code 1).
    pub fn has_findings(&self) -> bool {
        !self.lost.is_empty()
            || !self.behind.is_empty()
            || self.stores.iter().any(|s| !s.problems.is_empty())
    }
}
