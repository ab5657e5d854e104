//! TiKV's region metadata inside a store's kv RocksDB, and the choice of one authoritative replica
//! per key range over several stores (format-specs/tikv.md §12-§13).
//!
//! Every store keeps its `StoreIdent` (cluster id, store id) at `01 01` in CF `default`, and per
//! region replica a `RegionLocalState` at `01 03 <id> 01` and a `RaftApplyState` at `01 02 <id> 03`
//! in CF `raft`. The protobuf messages are declared here by hand (kvproto `metapb.proto`,
//! `raft_serverpb.proto`; only the fields rockrescue reads) and decoded with `prost`, which skips
//! fields it does not know.
//!
//! [`plan`] ranks the replicas of each region id and lays the winners into a map of the key space,
//! newest epoch first, the way PD's Online Unsafe Recovery rebuilds its region tree; every key range
//! is then read from one store only (§13).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use prost::Message;
use serde::Serialize;

use crate::lsm::salvage::{salvage_db_visit, DbSalvageOptions, KeyFilter, Resolved, StateSink};

/// kvproto `raft_serverpb.StoreIdent` (tikv.md §12.2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StoreIdentPb {
    #[prost(uint64, tag = "1")]
    pub cluster_id: u64,
    #[prost(uint64, tag = "2")]
    pub store_id: u64,
    #[prost(int32, tag = "3")]
    pub api_version: i32,
}

/// kvproto `metapb.RegionEpoch`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct RegionEpochPb {
    #[prost(uint64, tag = "1")]
    pub conf_ver: u64,
    #[prost(uint64, tag = "2")]
    pub version: u64,
}

/// kvproto `metapb.Peer`. Field 3 was `bool is_learner` before `PeerRole`; both are varints, and
/// `true` reads as 1 = Learner.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PeerPb {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(uint64, tag = "2")]
    pub store_id: u64,
    #[prost(int32, tag = "3")]
    pub role: i32,
    #[prost(bool, tag = "4")]
    pub is_witness: bool,
}

/// kvproto `metapb.Region`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RegionPb {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(bytes = "vec", tag = "2")]
    pub start_key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub end_key: Vec<u8>,
    #[prost(message, optional, tag = "4")]
    pub region_epoch: Option<RegionEpochPb>,
    #[prost(message, repeated, tag = "5")]
    pub peers: Vec<PeerPb>,
}

/// kvproto `raft_serverpb.MergeState`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MergeStatePb {
    #[prost(uint64, tag = "1")]
    pub min_index: u64,
    #[prost(message, optional, tag = "2")]
    pub target: Option<RegionPb>,
    #[prost(uint64, tag = "3")]
    pub commit: u64,
}

/// kvproto `raft_serverpb.RegionLocalState`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RegionLocalStatePb {
    #[prost(int32, tag = "1")]
    pub state: i32,
    #[prost(message, optional, tag = "2")]
    pub region: Option<RegionPb>,
    #[prost(message, optional, tag = "3")]
    pub merge_state: Option<MergeStatePb>,
}

/// kvproto `raft_serverpb.RaftApplyState` (the fields rockrescue reads).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RaftApplyStatePb {
    #[prost(uint64, tag = "1")]
    pub applied_index: u64,
    #[prost(uint64, tag = "4")]
    pub commit_index: u64,
    #[prost(uint64, tag = "5")]
    pub commit_term: u64,
}

/// `raft_serverpb.PeerState` (tikv.md §12.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    Normal,
    /// A snapshot is being applied: the applied index is already the snapshot's, the data may be
    /// partial.
    Applying,
    /// The peer was removed; data it left behind is garbage.
    Tombstone,
    /// The region is being merged into another.
    Merging,
    Unavailable,
    /// A value this version of rockrescue does not know.
    Unknown(i32),
}

impl PeerState {
    pub fn from_i32(v: i32) -> PeerState {
        match v {
            0 => PeerState::Normal,
            1 => PeerState::Applying,
            2 => PeerState::Tombstone,
            3 => PeerState::Merging,
            4 => PeerState::Unavailable,
            x => PeerState::Unknown(x),
        }
    }
    pub fn name(self) -> String {
        match self {
            PeerState::Unknown(x) => format!("unknown({x})"),
            s => format!("{s:?}"),
        }
    }
}

/// A region's epoch, ordered as PD orders them: version (splits and merges) first, then conf_ver
/// (membership changes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Epoch {
    pub version: u64,
    pub conf_ver: u64,
}

/// One peer of a region, as a replica's metadata lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Peer {
    pub id: u64,
    pub store_id: u64,
    /// `Voter`, `Learner`, `IncomingVoter`, `DemotingVoter` (or the number).
    pub role: String,
}

/// One region replica found in one store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Replica {
    pub region_id: u64,
    pub state: PeerState,
    /// Encoded user keys (memcomparable, no `z`, no timestamp); an empty end is unbounded.
    #[serde(with = "hex_bytes")]
    pub start: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub end: Vec<u8>,
    pub epoch: Epoch,
    pub peers: Vec<Peer>,
    /// From the RaftApplyState; `None` when the store has none for this region.
    pub applied_index: Option<u64>,
    /// The region a Merging replica is being merged into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_target: Option<u64>,
}

mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode_upper(b))
    }
}

/// The region metadata of one store.
#[derive(Clone, Debug, Default, Serialize)]
pub struct StoreMeta {
    /// The data directory as given.
    pub path: String,
    /// From the StoreIdent; `None` when it is missing or does not decode.
    pub cluster_id: Option<u64>,
    pub store_id: Option<u64>,
    pub replicas: Vec<Replica>,
    /// Metadata records that did not decode, one line each (store, CF, key and what failed).
    pub problems: Vec<String>,
}

impl StoreMeta {
    /// Whether the store has region metadata to choose replicas by.
    pub fn has_regions(&self) -> bool {
        !self.replicas.is_empty()
    }
}

/// Collects region metadata from the final state of a store's `default` and `raft` column
/// families (as [`salvage_db_visit`] hands them over).
#[derive(Debug, Default)]
pub struct MetaCollector {
    cf: String,
    ident: Option<Vec<u8>>,
    states: BTreeMap<u64, (Vec<u8>, Vec<u8>)>,
    applies: BTreeMap<u64, Vec<u8>>,
}

/// The StoreIdent key in CF `default` (tikv.md §12.1).
pub const STORE_IDENT_KEY: [u8; 2] = [0x01, 0x01];

/// `01 <prefix> <region id BE> <suffix>` -> the region id.
fn region_key(k: &[u8], prefix: u8, suffix: u8) -> Option<u64> {
    if k.len() == 11 && k[0] == 0x01 && k[1] == prefix && k[10] == suffix {
        Some(u64::from_be_bytes(k[2..10].try_into().ok()?))
    } else {
        None
    }
}

impl MetaCollector {
    /// Set the column family the following entries belong to.
    pub fn begin_cf(&mut self, name: &str) {
        self.cf = name.to_string();
    }

    /// Look at one key of the current column family (anything that is not metadata is ignored).
    pub fn entry(&mut self, key: &[u8], value: &[u8]) {
        match self.cf.as_str() {
            "default" if key == STORE_IDENT_KEY => self.ident = Some(value.to_vec()),
            "raft" => {
                if let Some(id) = region_key(key, 0x03, 0x01) {
                    self.states.insert(id, (key.to_vec(), value.to_vec()));
                } else if let Some(id) = region_key(key, 0x02, 0x03) {
                    self.applies.insert(id, value.to_vec());
                }
            }
            _ => {}
        }
    }

    /// Decode what was collected.
    pub fn finish(self, path: &str) -> StoreMeta {
        let mut m = StoreMeta {
            path: path.to_string(),
            ..StoreMeta::default()
        };
        if let Some(v) = &self.ident {
            match StoreIdentPb::decode(v.as_slice()) {
                Ok(i) => {
                    m.cluster_id = Some(i.cluster_id);
                    m.store_id = Some(i.store_id);
                }
                Err(e) => m.problems.push(format!(
                    "{path}: CF default, key {}: StoreIdent does not decode: {e}",
                    hex::encode(STORE_IDENT_KEY)
                )),
            }
        }
        for (id, (key, v)) in &self.states {
            let st = match RegionLocalStatePb::decode(v.as_slice()) {
                Ok(s) => s,
                Err(e) => {
                    m.problems.push(format!(
                        "{path}: CF raft, key {}: RegionLocalState does not decode: {e}",
                        hex::encode(key)
                    ));
                    continue;
                }
            };
            let Some(r) = st.region else {
                m.problems.push(format!(
                    "{path}: CF raft, key {}: RegionLocalState has no region",
                    hex::encode(key)
                ));
                continue;
            };
            if r.id != *id {
                m.problems.push(format!(
                    "{path}: CF raft, key {}: the key names region {id} but the state region {}",
                    hex::encode(key),
                    r.id
                ));
                continue;
            }
            let applied_index = match self.applies.get(id) {
                Some(a) => match RaftApplyStatePb::decode(a.as_slice()) {
                    Ok(a) => Some(a.applied_index),
                    Err(e) => {
                        let mut k = vec![0x01, 0x02];
                        k.extend_from_slice(&id.to_be_bytes());
                        k.push(0x03);
                        m.problems.push(format!(
                            "{path}: CF raft, key {}: RaftApplyState does not decode: {e}",
                            hex::encode(k)
                        ));
                        None
                    }
                },
                None => None,
            };
            let epoch = r.region_epoch.unwrap_or_default();
            m.replicas.push(Replica {
                region_id: r.id,
                state: PeerState::from_i32(st.state),
                start: r.start_key,
                end: r.end_key,
                epoch: Epoch {
                    version: epoch.version,
                    conf_ver: epoch.conf_ver,
                },
                peers: r
                    .peers
                    .iter()
                    .map(|p| Peer {
                        id: p.id,
                        store_id: p.store_id,
                        role: match p.role {
                            0 => "Voter".into(),
                            1 => "Learner".into(),
                            2 => "IncomingVoter".into(),
                            3 => "DemotingVoter".into(),
                            x => x.to_string(),
                        },
                    })
                    .collect(),
                applied_index,
                merge_target: st.merge_state.and_then(|s| s.target).map(|t| t.id),
            });
        }
        m
    }
}

/// A [`StateSink`] that only collects metadata.
struct MetaSink(MetaCollector);

impl StateSink for MetaSink {
    fn begin_cf(&mut self, name: &str) -> io::Result<String> {
        self.0.begin_cf(name);
        Ok(String::new())
    }
    fn entry(&mut self, e: &Resolved<'_>) -> io::Result<()> {
        if let Some(v) = e.value {
            self.0.entry(e.key, v);
        }
        Ok(())
    }
    fn end_cf(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The salvage filter that reads only region metadata: local keys (`[01, 02)`) of CFs `default`
/// and `raft`. Tables of data keys are not opened.
pub fn meta_filter() -> KeyFilter {
    KeyFilter {
        cfs: vec!["default".into(), "raft".into()],
        ranges: vec![local_keys()],
    }
}

/// TiKV's local keys: `[01, 02)` (tikv.md §2.1).
pub fn local_keys() -> (Vec<u8>, Option<Vec<u8>>) {
    (vec![0x01], Some(vec![0x02]))
}

/// Read the region metadata of a store's kv RocksDB `kv` (data directory `path` as given), reading
/// only the tables that hold local keys. Temporary files go under `tmp`.
pub fn read_store_meta(path: &Path, kv: &Path, tmp: &Path) -> io::Result<StoreMeta> {
    let opts = DbSalvageOptions {
        filter: Some(meta_filter()),
        memory_budget: 64 << 20,
        ..DbSalvageOptions::default()
    };
    let mut sink = MetaSink(MetaCollector::default());
    salvage_db_visit(kv, tmp, &opts, &mut sink)?;
    Ok(sink.0.finish(&path.display().to_string()))
}

/// How replicas are merged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMode {
    /// Per key the newest commit found in any store (format-specs/tikv.md §11).
    Keys,
    /// Per key range one authoritative replica (§13).
    Regions,
}

/// One replica's standing in its region.
#[derive(Clone, Debug, Serialize)]
pub struct RankedReplica {
    /// Index of the store in the inputs.
    pub store: usize,
    pub store_id: Option<u64>,
    pub replica: Replica,
    /// 1 = authoritative; 0 = not usable (Tombstone).
    pub rank: usize,
    /// Why it ranks where it does.
    pub why: String,
}

/// Every replica of one region id over the stores.
#[derive(Clone, Debug, Serialize)]
pub struct RegionChoice {
    pub region_id: u64,
    pub replicas: Vec<RankedReplica>,
    /// Store index of the authoritative replica; `None` when no replica is usable.
    pub authoritative: Option<usize>,
    /// The authoritative replica's applied index is below another usable replica's of the same or
    /// an older epoch (a Normal replica behind an Applying one, say): its data may be behind.
    pub behind: bool,
    /// The part of its range other regions of newer epochs already covered.
    pub superseded: bool,
}

/// A key range and the stores to read it from, best first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnedRange {
    #[serde(with = "hex_bytes")]
    pub start: Vec<u8>,
    /// Empty: unbounded.
    #[serde(with = "hex_bytes")]
    pub end: Vec<u8>,
    pub region_id: u64,
    /// Store indexes: the authoritative replica's store, then the next-best replicas' (used only
    /// where a better one lost data to damage). Empty: read elsewhere (another node's share of
    /// an export plan).
    pub stores: Vec<usize>,
    /// Everything read in this range is suspect (it comes from a next-best replica because the
    /// authoritative one lost it: a refill plan).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suspect: bool,
}

/// A key range no usable replica covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Gap {
    #[serde(with = "hex_bytes")]
    pub start: Vec<u8>,
    #[serde(with = "hex_bytes")]
    pub end: Vec<u8>,
}

/// Which store each key range is read from.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RegionPlan {
    pub regions: Vec<RegionChoice>,
    /// In key order, disjoint.
    pub ranges: Vec<OwnedRange>,
    /// In key order: no usable replica.
    pub gaps: Vec<Gap>,
}

/// Whether `k` (an encoded user key) lies in `[start, end)`.
pub fn in_range(k: &[u8], start: &[u8], end: &[u8]) -> bool {
    k >= start && (end.is_empty() || k < end)
}

/// Rank the replicas of every region id and lay the winners into a key-range map (§13):
/// Tombstone replicas are not usable; Applying (and Unavailable) replicas rank after every other;
/// then the newest epoch (version, conf_ver), then the highest applied index, then the first store
/// given. Winners are laid newest epoch first; a range already covered is not taken again.
pub fn plan(stores: &[StoreMeta]) -> RegionPlan {
    let mut by_id: BTreeMap<u64, Vec<RankedReplica>> = BTreeMap::new();
    for (i, s) in stores.iter().enumerate() {
        for r in &s.replicas {
            by_id.entry(r.region_id).or_default().push(RankedReplica {
                store: i,
                store_id: s.store_id,
                replica: r.clone(),
                rank: 0,
                why: String::new(),
            });
        }
    }
    let mut regions = Vec::new();
    for (id, mut reps) in by_id {
        let late = |r: &RankedReplica| {
            matches!(
                r.replica.state,
                PeerState::Applying | PeerState::Unavailable | PeerState::Unknown(_)
            )
        };
        reps.sort_by(|a, b| {
            let usable = |r: &RankedReplica| r.replica.state != PeerState::Tombstone;
            usable(b)
                .cmp(&usable(a))
                .then(late(a).cmp(&late(b)))
                .then(b.replica.epoch.cmp(&a.replica.epoch))
                .then(b.replica.applied_index.cmp(&a.replica.applied_index))
                .then(a.store.cmp(&b.store))
        });
        let mut rank = 0;
        let first = reps.first().cloned();
        for r in reps.iter_mut() {
            if r.replica.state == PeerState::Tombstone {
                r.why =
                    "Tombstone: the peer was removed from this store; its data is left over".into();
                continue;
            }
            rank += 1;
            r.rank = rank;
            r.why = if rank == 1 {
                let others = "of the usable replicas";
                if late(r) {
                    format!(
                        "{} replica, but the only usable one",
                        r.replica.state.name()
                    )
                } else {
                    format!("newest epoch, then highest applied index {others}")
                }
            } else if late(r) {
                format!(
                    "{} replicas rank last (the applied index is set before the data is in)",
                    r.replica.state.name()
                )
            } else if first
                .as_ref()
                .is_some_and(|f| f.replica.epoch > r.replica.epoch)
            {
                "older epoch".into()
            } else {
                "same epoch, lower applied index".into()
            };
        }
        let best = reps.iter().find(|r| r.rank == 1);
        let behind = best.is_some_and(|b| {
            reps.iter().any(|o| {
                o.rank > 1
                    && o.replica.epoch <= b.replica.epoch
                    && o.replica.applied_index > b.replica.applied_index
            })
        });
        regions.push(RegionChoice {
            region_id: id,
            authoritative: best.map(|b| b.store),
            behind,
            superseded: false,
            replicas: reps,
        });
    }
    // Lay the winners newest epoch first.
    let mut order: Vec<usize> = (0..regions.len())
        .filter(|i| regions[*i].authoritative.is_some())
        .collect();
    let key = |c: &RegionChoice| {
        let b = c.replicas.iter().find(|r| r.rank == 1).map(|r| &r.replica);
        (
            b.map(|r| r.epoch),
            b.and_then(|r| r.applied_index),
            std::cmp::Reverse(c.region_id),
        )
    };
    order.sort_by(|a, b| key(&regions[*b]).cmp(&key(&regions[*a])));
    // start -> (end, region index)
    let mut map: BTreeMap<Vec<u8>, (Vec<u8>, usize)> = BTreeMap::new();
    for ri in order {
        let best = regions[ri]
            .replicas
            .iter()
            .find(|r| r.rank == 1)
            .map(|r| r.replica.clone());
        let Some(b) = best else { continue };
        // The uncovered parts of [b.start, b.end).
        let mut pieces = Vec::new();
        let mut cur = b.start.clone();
        // Intervals that may overlap: the last starting at or before cur, then every one after.
        let mut overl: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        if let Some((s, (e, _))) = map.range(..=cur.clone()).next_back() {
            overl.push((s.clone(), e.clone()));
        }
        for (s, (e, _)) in map.range(cur.clone()..) {
            if !b.end.is_empty() && s.as_slice() >= b.end.as_slice() {
                break;
            }
            if overl.last().is_some_and(|l| l.0 == *s) {
                continue;
            }
            overl.push((s.clone(), e.clone()));
        }
        let mut finished = false;
        for (s, e) in overl {
            if !e.is_empty() && e <= cur {
                continue;
            }
            if !b.end.is_empty() && s >= b.end {
                break;
            }
            if s > cur {
                pieces.push((cur.clone(), s));
            }
            if e.is_empty() {
                finished = true;
                break;
            }
            if e > cur {
                cur = e;
            }
            if !b.end.is_empty() && cur >= b.end {
                finished = true;
                break;
            }
        }
        if !finished {
            pieces.push((cur, b.end.clone()));
        }
        let pieces: Vec<_> = pieces
            .into_iter()
            .filter(|(s, e)| e.is_empty() || s < e)
            .collect();
        let whole = pieces.len() == 1 && pieces[0].0 == b.start && pieces[0].1 == b.end;
        if !whole {
            regions[ri].superseded = true;
        }
        for (s, e) in pieces {
            map.insert(s, (e, ri));
        }
    }
    let mut ranges = Vec::new();
    let mut gaps = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut open_end = false;
    for (s, (e, ri)) in &map {
        if *s > cur {
            gaps.push(Gap {
                start: cur.clone(),
                end: s.clone(),
            });
        }
        let c = &regions[*ri];
        ranges.push(OwnedRange {
            start: s.clone(),
            end: e.clone(),
            region_id: c.region_id,
            stores: c
                .replicas
                .iter()
                .filter(|r| r.rank > 0)
                .map(|r| r.store)
                .collect(),
            suspect: false,
        });
        if e.is_empty() {
            open_end = true;
            break;
        }
        cur = e.clone();
    }
    if !open_end {
        gaps.push(Gap {
            start: cur,
            end: Vec::new(),
        });
    }
    RegionPlan {
        regions,
        ranges,
        gaps,
    }
}

impl RegionPlan {
    /// The range holding encoded user key `k`, if any (binary search).
    pub fn owner(&self, k: &[u8]) -> Option<&OwnedRange> {
        let i = self.ranges.partition_point(|r| r.start.as_slice() <= k);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        in_range(k, &r.start, &r.end).then_some(r)
    }
}

/// Read the region metadata of several data directories (kv RocksDB at `kv_dir(d)`), in parallel.
pub fn read_stores_meta(datadirs: &[PathBuf], tmp: &Path) -> io::Result<Vec<StoreMeta>> {
    std::thread::scope(|s| {
        let hs: Vec<_> = datadirs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                s.spawn(move || {
                    let kv = super::store::kv_dir(d);
                    if !kv.is_dir() {
                        return Err(io::Error::new(
                            io::ErrorKind::NotFound,
                            format!("{}: not a directory", d.display()),
                        ));
                    }
                    read_store_meta(d, &kv, &tmp.join(format!("meta-{i}")))
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a store's metadata thread panicked")))
            })
            .collect()
    })
}

/// Refuse stores of different clusters and the same store twice (unless `force`).
pub fn check_stores(stores: &[StoreMeta], force: bool) -> Result<(), String> {
    let mut ids: BTreeMap<u64, &str> = BTreeMap::new();
    for s in stores {
        if let Some(id) = s.store_id {
            if let Some(prev) = ids.insert(id, &s.path) {
                return Err(format!(
                    "{} and {} are both store {id}: give each store once (two images of one store \
                     cannot be merged by region; export them separately)",
                    prev, s.path
                ));
            }
        }
    }
    if force {
        return Ok(());
    }
    let clusters: BTreeMap<u64, Vec<&str>> = stores.iter().fold(BTreeMap::new(), |mut m, s| {
        if let Some(c) = s.cluster_id {
            m.entry(c).or_insert_with(Vec::new).push(&s.path);
        }
        m
    });
    if clusters.len() > 1 {
        let list: Vec<String> = clusters
            .iter()
            .map(|(c, p)| format!("cluster {c}: {}", p.join(", ")))
            .collect();
        return Err(format!(
            "the stores belong to different clusters ({}); give the stores of one cluster, or \
             --force to read them together anyway",
            list.join("; ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(id: u64, st: PeerState, s: &[u8], e: &[u8], ver: u64, applied: u64) -> Replica {
        Replica {
            region_id: id,
            state: st,
            start: s.to_vec(),
            end: e.to_vec(),
            epoch: Epoch {
                version: ver,
                conf_ver: 1,
            },
            peers: vec![],
            applied_index: Some(applied),
            merge_target: None,
        }
    }

    fn store(id: u64, reps: Vec<Replica>) -> StoreMeta {
        StoreMeta {
            path: format!("s{id}"),
            cluster_id: Some(1),
            store_id: Some(id),
            replicas: reps,
            problems: vec![],
        }
    }

    #[test]
    fn protobuf_round_trip_and_keys() {
        let st = RegionLocalStatePb {
            state: 2,
            region: Some(RegionPb {
                id: 7,
                start_key: b"a".to_vec(),
                end_key: vec![],
                region_epoch: Some(RegionEpochPb {
                    conf_ver: 3,
                    version: 5,
                }),
                peers: vec![PeerPb {
                    id: 70,
                    store_id: 1,
                    role: 1,
                    is_witness: false,
                }],
            }),
            merge_state: None,
        };
        let mut c = MetaCollector::default();
        c.begin_cf("raft");
        c.entry(&[1, 3, 0, 0, 0, 0, 0, 0, 0, 7, 1], &st.encode_to_vec());
        c.entry(
            &[1, 2, 0, 0, 0, 0, 0, 0, 0, 7, 3],
            &RaftApplyStatePb {
                applied_index: 42,
                commit_index: 42,
                commit_term: 6,
            }
            .encode_to_vec(),
        );
        // A raft log key of the same region (suffix 01) is not metadata.
        c.entry(&[1, 2, 0, 0, 0, 0, 0, 0, 0, 7, 1], b"x");
        c.begin_cf("default");
        c.entry(
            &STORE_IDENT_KEY,
            &StoreIdentPb {
                cluster_id: 9,
                store_id: 4,
                api_version: 0,
            }
            .encode_to_vec(),
        );
        let m = c.finish("s");
        assert_eq!((m.cluster_id, m.store_id), (Some(9), Some(4)));
        assert_eq!(m.replicas.len(), 1);
        let r = &m.replicas[0];
        assert_eq!(r.state, PeerState::Tombstone);
        assert_eq!(
            r.epoch,
            Epoch {
                version: 5,
                conf_ver: 3
            }
        );
        assert_eq!(r.applied_index, Some(42));
        assert_eq!(r.peers[0].role, "Learner");
        assert!(m.problems.is_empty());
    }

    #[test]
    fn undecodable_state_is_a_problem_naming_the_key() {
        let mut c = MetaCollector::default();
        c.begin_cf("raft");
        c.entry(&[1, 3, 0, 0, 0, 0, 0, 0, 0, 7, 1], &[0x12, 0xff]);
        let m = c.finish("s");
        assert!(m.replicas.is_empty());
        assert_eq!(m.problems.len(), 1);
        assert!(
            m.problems[0].contains("01030000000000000007"),
            "{}",
            m.problems[0]
        );
    }

    #[test]
    fn tombstone_ignored_applying_last_epoch_then_applied() {
        let s1 = store(1, vec![rep(2, PeerState::Normal, b"", b"m", 3, 50)]);
        let s2 = store(2, vec![rep(2, PeerState::Normal, b"", b"m", 3, 60)]);
        let s3 = store(3, vec![rep(2, PeerState::Applying, b"", b"m", 3, 90)]);
        let s4 = store(4, vec![rep(2, PeerState::Tombstone, b"", b"m", 9, 99)]);
        let p = plan(&[s1, s2, s3, s4]);
        assert_eq!(p.regions[0].authoritative, Some(1));
        assert!(p.regions[0].behind, "the Applying replica is ahead");
        assert_eq!(p.ranges[0].stores, vec![1, 0, 2]);
        assert_eq!(
            p.gaps,
            vec![Gap {
                start: b"m".to_vec(),
                end: vec![]
            }]
        );
    }

    #[test]
    fn newer_epochs_cover_first_split_and_merge() {
        // Old image: region 2 = [a, z) v1. New image: 2 = [a, m) v2 and 3 = [m, z) v2.
        // Merge: old 4 = [z, ∞) v1 on s1 and 5... new 4 covers [z, ∞) v3.
        let old = store(
            1,
            vec![
                rep(2, PeerState::Normal, b"a", b"z", 1, 10),
                rep(4, PeerState::Normal, b"z", b"", 1, 10),
                rep(6, PeerState::Normal, b"", b"a", 1, 10),
            ],
        );
        let new = store(
            2,
            vec![
                rep(2, PeerState::Normal, b"a", b"m", 2, 20),
                rep(3, PeerState::Normal, b"m", b"z", 2, 20),
            ],
        );
        let p = plan(&[old, new]);
        let r: Vec<_> = p
            .ranges
            .iter()
            .map(|r| (r.start.clone(), r.end.clone(), r.region_id, r.stores[0]))
            .collect();
        assert_eq!(
            r,
            vec![
                (b"".to_vec(), b"a".to_vec(), 6, 0),
                (b"a".to_vec(), b"m".to_vec(), 2, 1),
                (b"m".to_vec(), b"z".to_vec(), 3, 1),
                (b"z".to_vec(), b"".to_vec(), 4, 0),
            ]
        );
        assert!(p.gaps.is_empty());
        assert_eq!(p.owner(b"q").unwrap().region_id, 3);
        assert_eq!(p.owner(b"").unwrap().region_id, 6);
        assert_eq!(p.owner(b"zz").unwrap().region_id, 4);
    }

    #[test]
    fn partly_covered_older_region_keeps_only_the_rest() {
        // New: 5 = [c, e) v5. Old: 5 = ... and 7 = [a, g) v1 (older epoch, another id).
        let s1 = store(1, vec![rep(7, PeerState::Normal, b"a", b"g", 1, 5)]);
        let s2 = store(2, vec![rep(5, PeerState::Normal, b"c", b"e", 5, 5)]);
        let p = plan(&[s1, s2]);
        let r: Vec<_> = p
            .ranges
            .iter()
            .map(|r| (r.start.clone(), r.end.clone(), r.region_id))
            .collect();
        assert_eq!(
            r,
            vec![
                (b"a".to_vec(), b"c".to_vec(), 7),
                (b"c".to_vec(), b"e".to_vec(), 5),
                (b"e".to_vec(), b"g".to_vec(), 7),
            ]
        );
        assert_eq!(
            p.gaps,
            vec![
                Gap {
                    start: vec![],
                    end: b"a".to_vec()
                },
                Gap {
                    start: b"g".to_vec(),
                    end: vec![]
                }
            ]
        );
        assert!(
            p.regions
                .iter()
                .find(|c| c.region_id == 7)
                .unwrap()
                .superseded
        );
        assert!(p.owner(b"0").is_none());
    }

    #[test]
    fn clusters_and_duplicate_stores_are_refused() {
        let a = store(1, vec![]);
        let mut b = store(2, vec![]);
        b.cluster_id = Some(2);
        assert!(check_stores(&[a.clone(), b.clone()], false)
            .unwrap_err()
            .contains("different clusters"));
        assert!(check_stores(&[a.clone(), b], true).is_ok());
        assert!(check_stores(&[a.clone(), a], true)
            .unwrap_err()
            .contains("both store 1"));
    }
}
