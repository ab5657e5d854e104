//! `gen-tikv --regions [OUT_DIR]` (default corpus/tikv-regions, emptied first): store images of
//! ONE TiKV cluster taken at different moments, plus one store of ANOTHER cluster, for
//! region-aware replica merging (issue 10). Same history machinery, encoders, RocksDB options and
//! expected-row rendering as the main gen-tikv (the parent module); nothing here uses `rockrescue`.
//!
//! The model: one history of TiDB transactions (databases `mysql` with TiDB's `mysql.tidb`, where
//! the GC worker keeps the safe point, `rescue` and `gone`, `gone` dropped late)
//! over a key space cut into raft regions (bounds = memcomparable-encoded TiDB keys, no 'z', no
//! timestamp). Each store holds replicas of some regions; a replica has applied the history to its
//! range up to a moment (its applied index counts the region's raft entries up to then: every
//! prewrite, commit or rollback batch touching the range, and every admin entry: split, prepare /
//! commit merge, conf change, empty entry; a region's log starts at RAFT_INIT_LOG_INDEX 5). Stores
//! imaged after the GC safe point ran TiKV >= 5.0's local GC there (records deleted with point
//! deletes, then flushed; store4 also compacted), and the ranges of the dropped database's tables
//! were destroyed (UnsafeDestroyRange, by key). Local keys per store: StoreIdent (CF default
//! `01 01`), RegionLocalState (CF raft `01 03 <id> 01`) and RaftApplyState (CF raft `01 02 <id>
//! 03`; none for a Tombstone replica: TiKV's `clear_meta` deletes it).
//!
//! Region ids and their ranges at the start (rows by handle):
//!   4  ["", t101)              the meta keys (`m…`) and mysql.tidb (table 5)
//!   6  [t101, t101_r21)        rescue.users index idx_score + users 1..20
//!   8  [t101_r21, t102)        users 21..60 (61 inserted later); split: 20 = [r21, r41), 8 = [r41, t102)
//!   10 [t102, t102_r31)        rescue.orders 1..30
//!   12 [t102_r31, t102_r61)    orders 31..60
//!   14 [t102_r61, t103_r11)    orders 61..80 + rescue.notes 1..10: every replica lost (case e)
//!   16 [t103_r11, t103_r31)    notes 11..30; merged with 18 into [t103_r11, t111)
//!   18 [t103_r31, t111)        notes 31..50
//!   2  [t111, "")              gone.logs 1..12 (region 2 kept the rightmost range of the batch
//!                              split that made the layout: epoch version 9, conf_ver 3)
//!
//! Stores (dir, store id): store1 = 1 (newest, GC'd), store2 = 4 (old image), store3 = 5 (a
//! Tombstone leftover and an Applying snapshot), store4 = 7 (split regions and region 12, GC'd and
//! compacted); stores 2, 3 and 6 are lost (never imaged). other-cluster = store 1 of another
//! cluster. See corpus/README.md for the cases.
//!
//! Expected files (from the history, never from the stores): `expected/regions/<db>.<table>.json`
//! the rows TiDB shows at the end minus the lost range, `expected/keys/` what a per-key newest-
//! commit union of store1..store4 gives, `expected/regions.json` the region choice.

use super::*;
use std::collections::BTreeSet;

const CLUSTER_ID: u64 = 7_345_123_456_789_012_345;
const OTHER_CLUSTER_ID: u64 = 7_345_987_654_321_098_765;
/// TiKV's RAFT_INIT_LOG_INDEX / RAFT_INIT_LOG_TERM.
const INIT_INDEX: u64 = 5;
const INIT_TERM: u64 = 5;
/// The raft term of every region when imaged.
const TERM: u64 = 6;

/// TiDB's system database and its table `mysql.tidb` (small ids, as bootstrap gives them): its
/// keys sort before `t101`, in the meta region 4.
const MYSQL: i64 = 1;
const MYSQL_TIDB: i64 = 5;
const RESCUE: i64 = 100;
const USERS: i64 = 101;
const ORDERS: i64 = 102;
const NOTES: i64 = 103;
const GONE: i64 = 110;
const LOGS: i64 = 111;

/// metapb.PeerRole.
const VOTER: u64 = 0;
const LEARNER: u64 = 1;

const STATUSES: &[&str] = &["new", "paid", "shipped"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PeerState {
    Normal,
    Applying,
    Tombstone,
}

impl PeerState {
    fn code(self) -> u64 {
        match self {
            PeerState::Normal => 0,
            PeerState::Applying => 1,
            PeerState::Tombstone => 2,
        }
    }
    fn name(self) -> &'static str {
        match self {
            PeerState::Normal => "Normal",
            PeerState::Applying => "Applying",
            PeerState::Tombstone => "Tombstone",
        }
    }
}

/// `start <= raw < end` over raw TiDB keys (empty end = unbounded). Memcomparable encoding keeps
/// the order, so this is also the test on encoded keys.
fn in_range(raw: &[u8], start: &[u8], end: &[u8]) -> bool {
    raw >= start && (end.is_empty() || raw < end)
}

fn overlaps(a: (&[u8], &[u8]), b: (&[u8], &[u8])) -> bool {
    (b.1.is_empty() || a.0 < b.1) && (a.1.is_empty() || b.0 < a.1)
}

/// A region bound as metapb.Region stores it: memcomparable-encoded, empty stays empty.
fn enc(raw: &[u8]) -> Vec<u8> {
    if raw.is_empty() {
        Vec::new()
    } else {
        tg::mc(raw)
    }
}

/// The record key of an int handle (region split keys are record keys).
fn rk(tid: i64, h: i64) -> Vec<u8> {
    tg::record_key_int(tid, h)
}

/// One epoch of a region, valid from `from`: its range (raw keys), epoch and peers
/// (store id, role); a peer's id is region id * 100 + store id.
#[derive(Clone, Debug)]
struct RVer {
    from: u64,
    start: Vec<u8>,
    end: Vec<u8>,
    conf_ver: u64,
    version: u64,
    peers: Vec<(u64, u64)>,
}

impl RVer {
    fn contains(&self, raw: &[u8]) -> bool {
        in_range(raw, &self.start, &self.end)
    }
}

struct Region {
    vers: Vec<RVer>,
    /// Commit-merge time when merged into another region (it has no entries from then on).
    merged_at: Option<u64>,
    /// Times of its admin and empty raft entries.
    admin: Vec<u64>,
}

impl Region {
    fn at(&self, t: u64) -> Option<&RVer> {
        if self.merged_at.is_some_and(|m| t >= m) {
            return None;
        }
        self.vers.iter().rev().find(|v| v.from <= t)
    }
    fn last(&self) -> &RVer {
        self.vers.last().unwrap()
    }
    /// A new epoch through an admin entry of this region.
    fn push(&mut self, v: RVer) {
        self.admin.push(v.from);
        self.vers.push(v);
    }
}

#[derive(Default)]
struct Cluster {
    regions: BTreeMap<u64, Region>,
}

impl Cluster {
    fn add(&mut self, id: u64, start: Vec<u8>, end: Vec<u8>, epoch: (u64, u64), stores: &[u64]) {
        let v = RVer {
            from: 0,
            start,
            end,
            conf_ver: epoch.0,
            version: epoch.1,
            peers: stores.iter().map(|&s| (s, VOTER)).collect(),
        };
        self.regions.insert(
            id,
            Region {
                vers: vec![v],
                merged_at: None,
                admin: Vec::new(),
            },
        );
    }

    fn region(&mut self, id: u64) -> &mut Region {
        self.regions.get_mut(&id).unwrap()
    }

    /// One conf change (conf_ver + 1): remove the peer on `remove` or add one on `add`.
    fn conf_change(&mut self, g: &mut Gen, id: u64, remove: Option<u64>, add: Option<(u64, u64)>) {
        let mut v = self.regions[&id].last().clone();
        v.from = g.tick();
        v.conf_ver += 1;
        if let Some(s) = remove {
            assert!(v.peers.iter().any(|p| p.0 == s));
            v.peers.retain(|p| p.0 != s);
        }
        if let Some(p) = add {
            v.peers.push(p);
        }
        self.region(id).push(v);
    }

    /// Split at `at`, TiKV's default `right-derive-when-split`: region `id` keeps the right part,
    /// `new_id` gets the left; both get version + 1 (one new region), conf_ver unchanged.
    fn split(&mut self, g: &mut Gen, id: u64, at: Vec<u8>, new_id: u64) {
        let t = g.tick();
        let p = self.regions[&id].last().clone();
        assert!(p.contains(&at) && at != p.start);
        let right = RVer {
            from: t,
            start: at.clone(),
            version: p.version + 1,
            ..p.clone()
        };
        let left = RVer {
            from: t,
            end: at,
            version: p.version + 1,
            ..p
        };
        self.region(id).push(right);
        self.regions.insert(
            new_id,
            Region {
                vers: vec![left],
                merged_at: None,
                admin: Vec::new(),
            },
        );
    }

    /// Merge `source` into its left neighbour `target`: PrepareMerge on the source (version and
    /// conf_ver + 1), then CommitMerge on the target (version = max(source, target) + 1).
    fn merge(&mut self, g: &mut Gen, source: u64, target: u64) {
        let s = self.regions[&source].last().clone();
        let s = RVer {
            from: g.tick(),
            conf_ver: s.conf_ver + 1,
            version: s.version + 1,
            ..s
        };
        self.region(source).push(s.clone());
        let t = self.regions[&target].last().clone();
        assert_eq!(t.end, s.start);
        let stores = |v: &RVer| v.peers.iter().map(|p| p.0).collect::<BTreeSet<_>>();
        assert_eq!(stores(&t), stores(&s), "merge needs aligned peers");
        let at = g.tick();
        let t = RVer {
            from: at,
            end: s.end.clone(),
            version: s.version.max(t.version) + 1,
            ..t
        };
        self.region(target).push(t);
        self.region(source).merged_at = Some(at);
    }

    /// An empty entry (a new leader's no-op): the applied index moves, the data does not.
    fn noop(&mut self, g: &mut Gen, id: u64) {
        let t = g.tick();
        self.region(id).admin.push(t);
    }

    /// The applied index of a replica of `id` that has applied the region's log up to time `t`.
    fn applied(&self, g: &Gen, id: u64, t: u64) -> u64 {
        let r = &self.regions[&id];
        let mut entries: BTreeSet<u64> = r.admin.iter().copied().filter(|&a| a <= t).collect();
        for ev in &g.evs {
            if let Ev::Op(p) = ev {
                if p.time <= t && r.at(p.time).is_some_and(|v| v.contains(&p.raw)) {
                    entries.insert(p.time);
                }
            }
        }
        INIT_INDEX + entries.len() as u64
    }
}

/// Data a store holds: every history record of `[start, end)` up to time `cut`.
struct Cover {
    start: Vec<u8>,
    end: Vec<u8>,
    cut: u64,
}

/// A RegionLocalState on a store: the region's epoch at time `at` (for Normal and Applying also
/// the moment up to which it applied the log; for a Tombstone `u64::MAX` = its last epoch).
struct Replica {
    region: u64,
    state: PeerState,
    at: u64,
}

struct Gc {
    safe_point: u64,
    /// When GC ran (after the safe point): the store's records up to then are collected.
    at: u64,
    /// Compact write/default/lock after flushing the deletes (else the tombstones stay in L0).
    compact: bool,
}

struct Store {
    dir: &'static str,
    store_id: u64,
    cluster_id: u64,
    covers: Vec<Cover>,
    gc: Option<Gc>,
    replicas: Vec<Replica>,
}

impl Store {
    fn has(&self, raw: &[u8], time: u64) -> bool {
        self.covers
            .iter()
            .any(|c| time <= c.cut && in_range(raw, &c.start, &c.end))
    }
    fn cutoff(&self) -> u64 {
        self.covers.iter().map(|c| c.cut).max().unwrap()
    }
}

/// Moments of the script.
#[derive(Default)]
struct Moments {
    /// store3's replica of region 10 stops applying (it is removed afterwards).
    r10_left_store3: u64,
    /// store2 imaged.
    store2: u64,
    safe_point: u64,
    gc: u64,
    store4: u64,
    store3: u64,
    store1: u64,
    /// Tables whose meta was deleted (DROP DATABASE), with the commit_ts.
    dropped: Vec<(i64, u64)>,
}

// ---------------------------------------------------------------------------------------------
// Schema and rows
// ---------------------------------------------------------------------------------------------

/// `mysql.tidb` (VARIABLE_NAME varchar(64) NOT NULL PRIMARY KEY, VARIABLE_VALUE varchar(1024)
/// DEFAULT NULL, COMMENT varchar(1024) DEFAULT NULL): the VARCHAR primary key is non-clustered,
/// so rows have an implicit `_tidb_rowid` handle and the key is a unique index (id 1).
fn t_mysql_tidb() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "VARIABLE_NAME", Ty::Varchar(64)).flag(PK),
        c(2, "VARIABLE_VALUE", Ty::Varchar(1024)),
        c(3, "COMMENT", Ty::Varchar(1024)),
    ];
    let mut t = table(MYSQL_TIDB, MYSQL, "mysql", "tidb", cols);
    t.pk_is_handle = false;
    t.idx.push(Idx {
        id: 1,
        name: "PRIMARY",
        cols: vec!["VARIABLE_NAME"],
        unique: true,
        primary: true,
    });
    t
}

/// One row of `mysql.tidb`.
fn var(name: &str, value: &str, comment: &str) -> Vec<(&'static str, V)> {
    vec![
        ("VARIABLE_NAME", s(name)),
        ("VARIABLE_VALUE", s(value)),
        ("COMMENT", s(comment)),
    ]
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A TSO's physical time as TiDB's GC worker writes it into `mysql.tidb`: Go layout
/// `20060102-15:04:05.000 -0700`, in UTC (format-specs/tidb.md §13).
fn gc_time_text(ts: u64) -> String {
    let ms = (ts >> 18) as i64;
    let (days, rem) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, sec, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}{mo:02}{d:02}-{h:02}:{mi:02}:{sec:02}.{milli:03} +0000")
}

fn t_users() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "name", Ty::Varchar(32)).flag(NN),
        c(3, "email", Ty::Varchar(64)),
        c(4, "score", Ty::Long),
        c(5, "created", Ty::Datetime(0)),
    ];
    let mut t = table(USERS, RESCUE, "rescue", "users", cols);
    t.idx.push(Idx {
        id: 1,
        name: "idx_score",
        cols: vec!["score"],
        unique: false,
        primary: false,
    });
    t
}

fn t_orders() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "user_id", Ty::Long),
        c(3, "amount", Ty::Decimal(10, 2)),
        c(4, "status", Ty::Enum(STATUSES)),
        c(5, "placed", Ty::Date),
    ];
    table(ORDERS, RESCUE, "rescue", "orders", cols)
}

fn t_notes() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::Long).flag(PK),
        c(2, "title", Ty::Varchar(64)).flag(NN),
        c(3, "body", Ty::Text),
        c(4, "flag", Ty::Tiny),
    ];
    table(NOTES, RESCUE, "rescue", "notes", cols)
}

fn t_logs() -> TableDef {
    let c = Col::new;
    let cols = vec![
        c(1, "id", Ty::LongLong).flag(PK),
        c(2, "msg", Ty::Varchar(64)),
        c(3, "at", Ty::Datetime(3)),
    ];
    table(LOGS, GONE, "gone", "logs", cols)
}

fn user(r: &mut Rng, h: i64) -> Vec<(&'static str, V)> {
    vec![
        ("id", V::I(h)),
        ("name", s(&format!("user{h}"))),
        (
            "email",
            maybe(r, 20, |_| s(&format!("user{h}@rescue.test"))),
        ),
        ("score", V::I(r.below(1000) as i64)),
        ("created", rand_dt(r, 0)),
    ]
}

fn order(r: &mut Rng, h: i64) -> Vec<(&'static str, V)> {
    vec![
        ("id", V::I(h)),
        ("user_id", V::I(r.range(1, 60) as i64)),
        ("amount", cents(r, 1_000_000)),
        ("status", V::U(r.range(1, 3))),
        (
            "placed",
            maybe(r, 10, |r| {
                date(r.range(2020, 2026), r.range(1, 12), r.range(1, 28))
            }),
        ),
    ]
}

/// Notes 35 and 36 have a body of ~400 bytes: their row values live in CF default.
fn note(r: &mut Rng, h: i64) -> Vec<(&'static str, V)> {
    let body = if h == 35 || h == 36 {
        words(r, 400, 420)
    } else {
        maybe(r, 20, |r| words(r, 0, 120))
    };
    vec![
        ("id", V::I(h)),
        ("title", words(r, 3, 30)),
        ("body", body),
        ("flag", maybe(r, 30, |r| V::I(r.below(2) as i64))),
    ]
}

fn log_row(r: &mut Rng, h: i64) -> Vec<(&'static str, V)> {
    vec![
        ("id", V::I(h)),
        ("msg", words(r, 5, 40)),
        ("at", rand_dt(r, 3)),
    ]
}

/// DROP DATABASE: the DBInfo goes write only, delete only, then one transaction deletes the
/// database key (`m DBs h DB:<id>`) and its hash's fields (every table meta key), as TiDB's
/// `meta.DropDatabase` (HClear + HDel) does. Returns that transaction's commit_ts.
fn drop_database(g: &mut Gen, id: i64, name: &'static str) -> u64 {
    let db_key = tg::meta_hash_key("DBs", &format!("DB:{id}"));
    for state in [2, 1] {
        let sv = g.schema_version_mut();
        let b = db_json(id, name, state);
        let m = Mut {
            raw: db_key.clone(),
            op: MutOp::Put(Payload::Db(id, name), b),
            alt3: None,
        };
        g.txn(vec![sv, m]);
    }
    let mut muts = vec![g.schema_version_mut()];
    muts.push(Mut {
        raw: db_key,
        op: MutOp::Del,
        alt3: None,
    });
    let tables: Vec<Vec<u8>> = g
        .tables
        .values()
        .filter(|t| t.db_id == id)
        .map(Gen::table_meta_key)
        .collect();
    for k in tables {
        muts.push(Mut {
            raw: k,
            op: MutOp::Del,
            alt3: None,
        });
    }
    g.txn(muts)
}

// ---------------------------------------------------------------------------------------------
// The history
// ---------------------------------------------------------------------------------------------

fn layout() -> Cluster {
    let mut c = Cluster::default();
    let e = (3, 9);
    c.add(4, Vec::new(), tg::table_prefix(USERS), e, &[1, 4, 2]);
    c.add(6, tg::table_prefix(USERS), rk(USERS, 21), e, &[1, 4, 3]);
    c.add(8, rk(USERS, 21), tg::table_prefix(ORDERS), e, &[4, 7, 2]);
    c.add(10, tg::table_prefix(ORDERS), rk(ORDERS, 31), e, &[1, 5, 2]);
    c.add(12, rk(ORDERS, 31), rk(ORDERS, 61), e, &[7, 3, 6]);
    c.add(14, rk(ORDERS, 61), rk(NOTES, 11), e, &[4, 3, 6]);
    c.add(16, rk(NOTES, 11), rk(NOTES, 31), e, &[1, 4, 6]);
    c.add(18, rk(NOTES, 31), tg::table_prefix(LOGS), e, &[1, 4, 6]);
    c.add(2, tg::table_prefix(LOGS), Vec::new(), e, &[1, 4, 6]);
    c
}

fn script(g: &mut Gen, c: &mut Cluster) -> Moments {
    let v2 = |_| Fmt::V2;
    let mut m = Moments::default();
    // Before any data: region 14 moves from store 4 to store 2 (store2 keeps only its Tombstone
    // RegionLocalState; the peer was destroyed with no data written).
    c.conf_change(g, 14, Some(4), None);
    c.conf_change(g, 14, None, Some((2, VOTER)));

    // ---- Phase 1: schema and rows.
    // TiDB's bootstrap: the system database and `mysql.tidb` with its first rows, then the GC
    // worker's first tick writes its settings (the safe point comes with the first GC round).
    g.create_db(MYSQL, "mysql");
    g.put_table(t_mysql_tidb());
    let rows = vec![
        (1, var("bootstrapped", "True", "Bootstrap flag. Do not delete.")),
        (
            2,
            var(
                "new_collation_enabled",
                "True",
                "If the new collations are enabled. Notice: This cannot be changed once the cluster is initialized.",
            ),
        ),
    ];
    g.insert_many(MYSQL_TIDB, rows, 2, v2);
    let rows = vec![
        (
            3,
            var(
                "tikv_gc_run_interval",
                "10m0s",
                "GC run interval, at least 10m, in Go format.",
            ),
        ),
        (
            4,
            var(
                "tikv_gc_life_time",
                "10m0s",
                "All versions within life time will not be collected by GC, at least 10m, in Go format.",
            ),
        ),
    ];
    g.insert_many(MYSQL_TIDB, rows, 2, v2);
    g.create_db(RESCUE, "rescue");
    g.create_db(GONE, "gone");
    for t in [t_users(), t_orders(), t_notes(), t_logs()] {
        g.put_table(t);
    }
    let rows: Vec<_> = (1..=60).map(|h| (h, user(&mut g.rng, h))).collect();
    g.insert_many(USERS, rows, 10, v2);
    let rows: Vec<_> = (1..=80).map(|h| (h, order(&mut g.rng, h))).collect();
    g.insert_many(ORDERS, rows, 10, v2);
    let rows: Vec<_> = (1..=50).map(|h| (h, note(&mut g.rng, h))).collect();
    g.insert_many(NOTES, rows, 5, v2);
    let rows: Vec<_> = (1..=12).map(|h| (h, log_row(&mut g.rng, h))).collect();
    g.insert_many(LOGS, rows, 6, v2);
    g.flush(&CFS);
    g.compact(&["default", "write"], None);
    g.update(ORDERS, 2, vec![("status", V::U(2))]);
    // Case (b): store3's peer of region 10 stops applying here (partitioned away); the region
    // then replaces it by a peer on store 3. store3 later learns it was removed and writes a
    // Tombstone with the epoch it knew (conf_ver 3, its own peer listed); its data stays behind.
    m.r10_left_store3 = g.tick();
    c.conf_change(g, 10, Some(5), None);
    c.conf_change(g, 10, None, Some((3, VOTER)));

    // ---- Phase 2: updates; store2 is imaged at its end.
    for h in 1..=10 {
        let sc = 1000 + h;
        g.update(USERS, h, vec![("score", V::I(sc))]);
    }
    let lk = g.lock_row(&g.key(USERS, 3)); // SELECT … FOR UPDATE: a Lock record (GC'd on store1)
    g.txn(lk);
    let p = g.prewrite(g.upd_row(&g.key(ORDERS, 7), vec![("status", V::U(3))], Fmt::V2));
    g.rollback(p); // a Rollback record (GC'd on store1)
    g.update(ORDERS, 10, vec![("amount", V::Dec("10.10".into()))]);
    g.update(NOTES, 12, vec![("title", s("edited in phase 2"))]);
    g.update(LOGS, 1, vec![("msg", s("edited before the drop"))]);
    g.flush(&CFS);
    g.update(USERS, 11, vec![("email", s("eleven@rescue.test"))]);
    g.update(NOTES, 13, vec![("flag", V::I(1))]);
    m.store2 = g.tick();

    // ---- Phase 3: after store2's image, before the GC safe point.
    g.update(LOGS, 2, vec![("msg", s("edited after store2's image"))]);
    // Case (a): users 5, 6, 7 deleted; GC'd on store1 (no record left), store2 still has the Puts.
    for h in 5..=7 {
        g.delete(USERS, h);
    }
    // Case (b): orders 3, 4 deleted; GC'd on store1, store3's Tombstone leftovers still have them.
    for h in 3..=4 {
        g.delete(ORDERS, h);
    }
    g.update(ORDERS, 10, vec![("status", V::U(3))]);
    // Case (c), split: region 8 (users 21..60) splits at users 41 (version 9 -> 10 for both).
    c.split(g, 8, rk(USERS, 41), 20);
    g.update(USERS, 30, vec![("name", s("user30 after the split"))]);
    g.update(USERS, 50, vec![("name", s("user50 after the split"))]);
    g.delete(USERS, 45); // GC'd on store4; store2's pre-split region 8 still has the Put
                         // Case (c), merge: region 18 (notes 31..50) merges into region 16 (notes 11..30).
    c.merge(g, 18, 16);
    g.update(NOTES, 40, vec![("title", s("edited after the merge"))]);
    g.delete(NOTES, 35); // long value (CF default); GC'd on store1, store2's region 18 has it
                         // Case (a), meta: DROP DATABASE gone; its meta keys are GC'd on store1 (store2 has them).
    let dropped_at = drop_database(g, GONE, "gone");
    m.dropped = vec![(LOGS, dropped_at)];
    // Case (d): the last write to region 12, then a learner on store 5 (conf_ver 3 -> 4).
    g.update(ORDERS, 33, vec![("amount", V::Dec("33.33".into()))]);
    c.conf_change(g, 12, None, Some((5, LEARNER)));
    g.flush(&CFS);
    // The safe point is a wall-clock time (TiDB keeps it as text with milliseconds): logical 0.
    m.safe_point = g.tick() >> 18 << 18;
    assert!(dropped_at < m.safe_point);
    // The GC round saves its start time and the safe point in mysql.tidb, then runs.
    let run = g.peek();
    let rows = vec![
        (
            5,
            var(
                "tikv_gc_last_run_time",
                &gc_time_text(run),
                "The time when last GC starts. (DO NOT EDIT)",
            ),
        ),
        (
            6,
            var(
                "tikv_gc_safe_point",
                &gc_time_text(m.safe_point),
                "All versions after safe point can be accessed. (DO NOT EDIT)",
            ),
        ),
    ];
    g.insert_many(MYSQL_TIDB, rows, 2, v2);
    m.gc = g.tick();

    // ---- After the safe point: versions newer than it survive GC.
    g.update(USERS, 2, vec![("score", V::I(2))]);
    g.delete(USERS, 9); // a delete after the safe point: kept, so never resurrected
    let rows = vec![(61, user(&mut g.rng, 61))];
    g.insert_many(USERS, rows, 1, v2);
    g.update(NOTES, 12, vec![("flag", V::I(0))]);
    m.store4 = g.tick();
    // Case (d): region 12 gets three empty entries (leader changes); store3's learner receives a
    // snapshot at that index (higher than store4's) and has ingested only orders 31..45.
    for _ in 0..3 {
        c.noop(g, 12);
    }
    m.store3 = g.tick();
    g.update(USERS, 8, vec![("name", s("user8, newest write"))]);
    m.store1 = g.tick();
    m
}

fn stores(m: &Moments) -> Vec<Store> {
    let tp = tg::table_prefix;
    let cover = |start: Vec<u8>, end: Vec<u8>, cut: u64| Cover { start, end, cut };
    let rep = |region, state, at| Replica { region, state, at };
    use PeerState::*;
    vec![
        // store1 (id 1): newest image, GC'd at the safe point; tombstones of the GC left in L0.
        Store {
            dir: "store1",
            store_id: 1,
            cluster_id: CLUSTER_ID,
            covers: vec![
                cover(Vec::new(), rk(USERS, 21), m.store1),
                cover(tp(ORDERS), rk(ORDERS, 31), m.store1),
                cover(rk(NOTES, 11), Vec::new(), m.store1),
            ],
            gc: Some(Gc {
                safe_point: m.safe_point,
                at: m.gc,
                compact: false,
            }),
            replicas: vec![
                rep(2, Normal, m.store1),
                rep(4, Normal, m.store1),
                rep(6, Normal, m.store1),
                rep(10, Normal, m.store1),
                rep(16, Normal, m.store1),
                // The merge source: Tombstone with its post-PrepareMerge epoch.
                rep(18, Tombstone, u64::MAX),
            ],
        },
        // store2 (id 4): imaged before the deletes, the split, the merge and the drop; no GC.
        Store {
            dir: "store2",
            store_id: 4,
            cluster_id: CLUSTER_ID,
            covers: vec![
                cover(Vec::new(), tp(ORDERS), m.store2),
                cover(rk(NOTES, 11), Vec::new(), m.store2),
            ],
            gc: None,
            replicas: vec![
                rep(2, Normal, m.store2),
                rep(4, Normal, m.store2),
                rep(6, Normal, m.store2),
                rep(8, Normal, m.store2),
                rep(14, Tombstone, 0),
                rep(16, Normal, m.store2),
                rep(18, Normal, m.store2),
            ],
        },
        // store3 (id 5): leftovers of region 10 (Tombstone) and region 12 being applied from a
        // snapshot (Applying, half its keys); no Normal region, no GC.
        Store {
            dir: "store3",
            store_id: 5,
            cluster_id: CLUSTER_ID,
            covers: vec![
                cover(tp(ORDERS), rk(ORDERS, 31), m.r10_left_store3),
                cover(rk(ORDERS, 31), rk(ORDERS, 46), m.store3),
            ],
            gc: None,
            replicas: vec![rep(10, Tombstone, 0), rep(12, Applying, m.store3)],
        },
        // store4 (id 7): the regions of the split and region 12; GC'd and compacted.
        Store {
            dir: "store4",
            store_id: 7,
            cluster_id: CLUSTER_ID,
            covers: vec![
                cover(rk(USERS, 21), tp(ORDERS), m.store4),
                cover(rk(ORDERS, 31), rk(ORDERS, 61), m.store4),
            ],
            gc: Some(Gc {
                safe_point: m.safe_point,
                at: m.gc,
                compact: true,
            }),
            replicas: vec![
                rep(8, Normal, m.store4),
                rep(12, Normal, m.store4),
                rep(20, Normal, m.store4),
            ],
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// GC and the logical content of a store
// ---------------------------------------------------------------------------------------------

/// Tables whose meta was deleted at or before `safe` (DROP DATABASE): GC destroys their ranges.
fn destroyed(dropped: &[(i64, u64)], safe: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    dropped
        .iter()
        .filter(|(_, ts)| *ts <= safe)
        .map(|(id, _)| (tg::table_prefix(*id), tg::table_prefix(id + 1)))
        .collect()
}

/// What TiKV's GC removes at `safe`: for each key, among its versions <= safe, everything but the
/// newest Put or Delete (Lock and Rollback records included), and that newest one too when it
/// is a Delete (the key's history up to the safe point vanishes).
fn gc_removed(vers: &Versions, safe: u64) -> Vec<(Vec<u8>, LWrite)> {
    let mut out = Vec::new();
    for (raw, vs) in vers {
        let mut kept = false;
        for w in vs.values().rev().filter(|w| w.key_ts <= safe) {
            if !kept && matches!(w.kind, WriteType::Put | WriteType::Delete) {
                kept = true;
                if w.kind == WriteType::Put {
                    continue;
                }
            }
            out.push((raw.clone(), w.clone()));
        }
    }
    out
}

/// The write-CF versions a store holds before GC.
fn held(g: &Gen, st: &Store) -> Versions {
    let mut out: Versions = BTreeMap::new();
    for w in g.writes.iter().filter(|w| st.has(&w.raw, w.time)) {
        out.entry(w.raw.clone())
            .or_default()
            .insert(w.key_ts, w.clone());
    }
    out
}

/// The store's versions at GC time, what GC removes from them, and the destroyed ranges.
type GcPlan = (Vec<(Vec<u8>, LWrite)>, Vec<(Vec<u8>, Vec<u8>)>);

fn gc_plan(g: &Gen, st: &Store, dropped: &[(i64, u64)]) -> Option<GcPlan> {
    let gc = st.gc.as_ref()?;
    assert!(gc.safe_point < gc.at && gc.at <= st.cutoff());
    let vers = held(g, st);
    for w in vers.values().flat_map(|v| v.values()) {
        assert!(w.time <= gc.at || w.key_ts > gc.safe_point);
    }
    let ranges = destroyed(dropped, gc.safe_point);
    for w in vers.values().flat_map(|v| v.values()) {
        let in_destroyed = ranges.iter().any(|(a, b)| in_range(&w.raw, a, b));
        assert!(
            !in_destroyed || w.time <= gc.at,
            "write into a destroyed range"
        );
    }
    Some((gc_removed(&vers, gc.safe_point), ranges))
}

/// The write-CF versions a store holds when imaged (after its GC).
fn store_versions(g: &Gen, st: &Store, dropped: &[(i64, u64)]) -> Versions {
    let mut vers = held(g, st);
    if let Some((removed, ranges)) = gc_plan(g, st, dropped) {
        for (raw, w) in removed {
            vers.get_mut(&raw).unwrap().remove(&w.key_ts).unwrap();
        }
        vers.retain(|raw, v| !v.is_empty() && !ranges.iter().any(|(a, b)| in_range(raw, a, b)));
    }
    vers
}

// ---------------------------------------------------------------------------------------------
// Local keys (protobuf, proto3: zero fields omitted)
// ---------------------------------------------------------------------------------------------

fn pbv(out: &mut Vec<u8>, field: u32, v: u64) {
    if v != 0 {
        tg::pb_varint(out, field, v);
    }
}

fn pbb(out: &mut Vec<u8>, field: u32, b: &[u8]) {
    if !b.is_empty() {
        tg::pb_bytes(out, field, b);
    }
}

/// metapb.Region.
fn region_pb(id: u64, v: &RVer) -> Vec<u8> {
    let mut r = Vec::new();
    pbv(&mut r, 1, id);
    pbb(&mut r, 2, &enc(&v.start));
    pbb(&mut r, 3, &enc(&v.end));
    let mut epoch = Vec::new();
    pbv(&mut epoch, 1, v.conf_ver);
    pbv(&mut epoch, 2, v.version);
    tg::pb_bytes(&mut r, 4, &epoch);
    for &(store, role) in &v.peers {
        let mut p = Vec::new();
        pbv(&mut p, 1, id * 100 + store);
        pbv(&mut p, 2, store);
        pbv(&mut p, 3, role);
        tg::pb_bytes(&mut r, 5, &p);
    }
    r
}

fn raft_key(prefix: u8, id: u64, suffix: u8) -> Vec<u8> {
    let mut k = vec![0x01, prefix];
    k.extend_from_slice(&id.to_be_bytes());
    k.push(suffix);
    k
}

/// A replica's epoch and applied index (None for a Tombstone: no RaftApplyState).
fn replica_state<'a>(g: &Gen, c: &'a Cluster, r: &Replica) -> (&'a RVer, Option<u64>) {
    let reg = &c.regions[&r.region];
    let v = match r.state {
        PeerState::Tombstone if r.at == u64::MAX => reg.last(),
        PeerState::Tombstone => reg.vers.iter().rev().find(|v| v.from <= r.at).unwrap(),
        _ => reg.at(r.at).unwrap(),
    };
    let applied = (r.state != PeerState::Tombstone).then(|| c.applied(g, r.region, r.at));
    (v, applied)
}

fn local_keys(g: &Gen, c: &Cluster, st: &Store) -> Vec<(&'static str, Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut ident = Vec::new();
    pbv(&mut ident, 1, st.cluster_id);
    pbv(&mut ident, 2, st.store_id);
    out.push(("default", vec![0x01, 0x01], ident));
    for r in &st.replicas {
        let (v, applied) = replica_state(g, c, r);
        assert!(
            v.peers.iter().any(|p| p.0 == st.store_id),
            "{}: region {} lists no peer of the store",
            st.dir,
            r.region
        );
        if r.state != PeerState::Tombstone {
            // The replica's data must be complete for its range (Applying: by design not).
            for w in g
                .writes
                .iter()
                .filter(|w| w.time <= r.at && v.contains(&w.raw))
            {
                assert!(
                    st.has(&w.raw, w.time) || r.state == PeerState::Applying,
                    "{}: region {} lacks data",
                    st.dir,
                    r.region
                );
            }
        }
        let mut state = Vec::new();
        pbv(&mut state, 1, r.state.code());
        tg::pb_bytes(&mut state, 2, &region_pb(r.region, v));
        out.push(("raft", raft_key(0x03, r.region, 0x01), state));
        if let Some(applied) = applied {
            // RaftApplyState {1 applied_index, 2 truncated_state {index, term}, 4 commit_index,
            // 5 commit_term}; an Applying replica's truncated state is the snapshot's index.
            let mut trunc = Vec::new();
            let applying = r.state == PeerState::Applying;
            pbv(&mut trunc, 1, if applying { applied } else { INIT_INDEX });
            pbv(&mut trunc, 2, if applying { TERM } else { INIT_TERM });
            let mut a = Vec::new();
            pbv(&mut a, 1, applied);
            tg::pb_bytes(&mut a, 2, &trunc);
            pbv(&mut a, 4, applied);
            pbv(
                &mut a,
                5,
                if applied > INIT_INDEX {
                    TERM
                } else {
                    INIT_TERM
                },
            );
            out.push(("raft", raft_key(0x02, r.region, 0x03), a));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Writing a store
// ---------------------------------------------------------------------------------------------

fn write(g: &Gen, c: &Cluster, st: &Store, out: &Path, dropped: &[(i64, u64)]) -> Live {
    let plan = gc_plan(g, st, dropped);
    let mut done = plan.is_none();
    let gc_at = st.gc.as_ref().map_or(u64::MAX, |x| x.at);
    let compact = st.gc.as_ref().is_some_and(|x| x.compact);
    let live = replay_store(
        g,
        st.dir,
        &out.join(st.dir).join("db"),
        local_keys(g, c, st),
        st.cutoff(),
        |p| st.has(&p.raw, p.time).then_some(p.val.as_ref()),
        |t, db, live| {
            if done || t <= gc_at {
                return;
            }
            done = true;
            let (removed, ranges) = plan.as_ref().unwrap();
            let mut b = WriteBatch::default();
            let mut del = |cf: &'static str, k: Vec<u8>, live: &mut Live| {
                assert!(live.get_mut(cf).unwrap().remove(&k).is_some());
                b.delete_cf(&db.cf_handle(cf).unwrap(), &k);
            };
            for (raw, w) in removed {
                del("write", tg::ts_key(raw, w.key_ts), live);
                if w.kind == WriteType::Put && w.rec.short_value.is_none() {
                    del("default", tg::ts_key(raw, w.start_ts), live);
                }
            }
            // UnsafeDestroyRange of the dropped tables, by key.
            for (a, z) in ranges {
                let (a, z) = (tg::lock_key(a), tg::lock_key(z));
                for cf in ["default", "write", "lock"] {
                    let keys: Vec<Vec<u8>> = live[cf]
                        .range(a.clone()..z.clone())
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in keys {
                        del(cf, k, live);
                    }
                }
            }
            db.write(b).unwrap();
            for cf in CFS {
                db.flush_cf(&db.cf_handle(cf).unwrap()).unwrap();
            }
            if compact {
                for cf in ["default", "write", "lock"] {
                    let mut co = rocksdb::CompactOptions::default();
                    co.set_bottommost_level_compaction(rocksdb::BottommostLevelCompaction::Force);
                    db.compact_range_cf_opt(
                        &db.cf_handle(cf).unwrap(),
                        None::<&[u8]>,
                        None::<&[u8]>,
                        &co,
                    );
                }
            }
        },
    );
    // The write CF holds exactly the modelled versions.
    let want: BTreeSet<Vec<u8>> = store_versions(g, st, dropped)
        .iter()
        .flat_map(|(raw, vs)| vs.keys().map(|ts| tg::ts_key(raw, *ts)))
        .collect();
    let got: BTreeSet<Vec<u8>> = live["write"].keys().cloned().collect();
    assert!(want == got, "{}: write CF differs from the model", st.dir);
    live
}

// ---------------------------------------------------------------------------------------------
// Expected results
// ---------------------------------------------------------------------------------------------

fn same(a: &Payload, b: &Payload) -> bool {
    match (a, b) {
        (Payload::Row(x), Payload::Row(y)) => Rc::ptr_eq(x, y),
        (Payload::Table(x), Payload::Table(y)) => Rc::ptr_eq(x, y),
        (Payload::Db(i, n), Payload::Db(j, m)) => i == j && n == m,
        (Payload::Raw(x), Payload::Raw(y)) => x == y,
        (Payload::None, Payload::None) => true,
        _ => false,
    }
}

fn write_tables(dir: &Path, state: &BTreeMap<Vec<u8>, Payload>) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let mut counts = Vec::new();
    for t in live_tables(state).values() {
        let db = &state[&tg::meta_hash_key("DBs", &format!("DB:{}", t.db_id))];
        assert!(matches!(db, Payload::Db(id, n) if *id == t.db_id && *n == t.db));
        let rows = table_rows(t, state);
        counts.push(format!("{}.{}: {} rows", t.db, t.name, rows.len()));
        let f = dir.join(format!("{}.{}.json", t.db, t.name));
        std::fs::write(f, table_file(t, &rows, &[])).unwrap();
    }
    counts
}

fn hexb(raw: &[u8]) -> String {
    hex::encode(enc(raw))
}

/// Per replica: (store index, store id, state, epoch, applied index).
type Rep<'a> = (usize, u64, PeerState, &'a RVer, Option<u64>);

pub fn main(out: Option<PathBuf>) {
    let out =
        out.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus/tikv-regions"));
    assert_eq!(
        gc_time_text(tg::tso(1_729_157_412_345, 7)),
        "20241017-09:30:12.345 +0000"
    );
    assert_eq!(
        gc_time_text(tg::tso(951_868_799_999, 0)),
        "20000229-23:59:59.999 +0000"
    );
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let mut g = Gen::new();
    g.rng = Rng::new(0x7265_6769_6f6e);
    let mut c = layout();
    let m = script(&mut g, &mut c);
    let dropped = m.dropped.clone();
    let sts = stores(&m);
    for st in &sts {
        write(&g, &c, st, &out, &dropped);
    }
    for (i, a) in sts.iter().enumerate() {
        let la = held(&g, a);
        for b in &sts[i + 1..] {
            for (raw, vs) in held(&g, b) {
                for (ts, w) in vs {
                    if let Some(x) = la.get(&raw).and_then(|v| v.get(&ts)) {
                        assert!(x.rec == w.rec, "conflict at {}", hex::encode(&raw));
                    }
                }
            }
        }
    }
    let other = write_other_cluster(&g, &out);

    // Region choice: per region id, ignore Tombstone, Applying last, then newest epoch
    // (version, conf_ver), then the highest applied index.
    let mut reps: BTreeMap<u64, Vec<Rep>> = BTreeMap::new();
    for (si, st) in sts.iter().enumerate() {
        for r in &st.replicas {
            let (v, applied) = replica_state(&g, &c, r);
            reps.entry(r.region)
                .or_default()
                .push((si, st.store_id, r.state, v, applied));
        }
    }
    let rank = |r: &Rep| (r.2 != PeerState::Applying, r.3.version, r.3.conf_ver, r.4);
    let mut winners: Vec<(u64, Rep)> = Vec::new();
    for (id, rs) in &reps {
        let usable: Vec<&Rep> = rs.iter().filter(|r| r.2 != PeerState::Tombstone).collect();
        if let Some(best) = usable.iter().max_by_key(|r| rank(r)) {
            assert_eq!(
                usable.iter().filter(|r| rank(r) == rank(best)).count(),
                1,
                "region {id}: tie"
            );
            winners.push((*id, **best));
        }
    }
    // Lay the winners newest epoch first; one overlapping a range already taken is superseded.
    winners.sort_by_key(|(id, r)| (std::cmp::Reverse((r.3.version, r.3.conf_ver)), *id));
    let mut taken: Vec<(u64, Rep)> = Vec::new();
    let mut superseded: BTreeMap<u64, u64> = BTreeMap::new();
    for (id, r) in &winners {
        let hit = taken
            .iter()
            .find(|(_, t)| overlaps((&t.3.start, &t.3.end), (&r.3.start, &r.3.end)));
        match hit {
            Some((tid, t)) => {
                // Only whole containment here, so "drop" and "clip" read the same.
                assert!(
                    t.3.start <= r.3.start
                        && (t.3.end.is_empty() || (!r.3.end.is_empty() && r.3.end <= t.3.end))
                );
                superseded.insert(*id, *tid);
            }
            None => taken.push((*id, *r)),
        }
    }
    taken.sort_by(|a, b| a.1 .3.start.cmp(&b.1 .3.start));
    let mut lost: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut cur: Option<Vec<u8>> = Some(Vec::new());
    for (_, t) in &taken {
        let c0 = cur.clone().expect("a region after the unbounded one");
        assert!(c0 <= t.3.start);
        if c0 < t.3.start {
            lost.push((c0, t.3.start.clone()));
        }
        cur = (!t.3.end.is_empty()).then(|| t.3.end.clone());
    }
    if let Some(c0) = cur {
        lost.push((c0, Vec::new()));
    }
    assert_eq!(
        lost,
        vec![(rk(ORDERS, 61), rk(NOTES, 11))],
        "the lost range is region 14's"
    );

    // The truth: the newest committed state of the whole history, minus the lost range and the
    // dropped tables' ranges (no table to show them; GC destroyed them).
    let mut all: Versions = BTreeMap::new();
    for w in &g.writes {
        all.entry(w.raw.clone())
            .or_default()
            .insert(w.key_ts, w.clone());
    }
    let gone_ranges = destroyed(&dropped, u64::MAX);
    let truth: BTreeMap<Vec<u8>, Payload> = resolve(&all)
        .into_iter()
        .filter(|(k, _)| {
            !lost
                .iter()
                .chain(&gone_ranges)
                .any(|(a, b)| in_range(k, a, b))
        })
        .collect();
    // The same state from the chosen replicas alone (each only for its own range): the
    // authoritative replicas are not stale, so the expectation is the truth.
    let store_vers: Vec<Versions> = sts
        .iter()
        .map(|st| store_versions(&g, st, &dropped))
        .collect();
    let mut chosen: Versions = BTreeMap::new();
    for (_, t) in &taken {
        for (raw, vs) in &store_vers[t.0] {
            if t.3.contains(raw) {
                chosen.insert(raw.clone(), vs.clone());
            }
        }
    }
    let chosen = resolve(&chosen);
    for (k, p) in &chosen {
        assert!(
            truth.get(k).is_some_and(|q| same(p, q)),
            "chosen replicas: {}",
            hex::encode(k)
        );
    }
    for k in truth.keys() {
        assert!(
            chosen.contains_key(k),
            "chosen replicas lack {}",
            hex::encode(k)
        );
    }

    // Today's key-level merge: per key the newest commit over store1..store4 (first store wins
    // a tie).
    let mut union: Versions = BTreeMap::new();
    for sv in &store_vers {
        for (raw, vs) in sv {
            let e = union.entry(raw.clone()).or_default();
            for (ts, w) in vs {
                e.entry(*ts).or_insert_with(|| w.clone());
            }
        }
    }
    let keys = resolve(&union);
    let mut resurrected = Vec::new();
    for (k, p) in &keys {
        assert!(!lost.iter().any(|(a, b)| in_range(k, a, b)));
        match truth.get(k) {
            Some(q) => assert!(same(p, q), "stale value at {}", hex::encode(k)),
            None => {
                if let Payload::Row(r) = p {
                    let t = &g.tables[&r.table];
                    resurrected.push(json!({"db": t.db, "table": t.name, "handle": r.handle}));
                }
            }
        }
    }
    let ex = out.join("expected");
    let mut counts = write_tables(&ex.join("regions"), &truth);
    assert_eq!(live_tables(&truth).len(), 4);
    counts.extend(
        write_tables(&ex.join("keys"), &keys)
            .into_iter()
            .map(|s| format!("keys {s}")),
    );
    assert_eq!(live_tables(&keys).len(), 5);

    let regions: Vec<Value> = reps
        .iter()
        .map(|(id, rs)| {
            let w = winners.iter().find(|(i, _)| i == id).map(|x| x.1);
            let newest = rs
                .iter()
                .max_by_key(|r| (r.3.version, r.3.conf_ver))
                .unwrap();
            let v = w.map_or(newest.3, |w| w.3);
            json!({
                "region_id": id,
                "authoritative_store_id": w.map(|w| w.1),
                "start": hexb(&v.start),
                "end": hexb(&v.end),
                "epoch": {"conf_ver": v.conf_ver, "version": v.version},
                "applied_index": w.and_then(|w| w.4),
                "superseded_by": superseded.get(id),
                "replicas": rs.iter().map(|r| json!({
                    "store_id": r.1,
                    "state": r.2.name(),
                    "conf_ver": r.3.conf_ver,
                    "version": r.3.version,
                    "start": hexb(&r.3.start),
                    "end": hexb(&r.3.end),
                    "applied_index": r.4,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let table_ids = |a: &[u8], b: &[u8]| -> Vec<i64> {
        let mut ids: Vec<i64> = g
            .tables
            .values()
            .flat_map(|t| t.physical_ids())
            .filter(|&id| overlaps((a, b), (&tg::table_prefix(id), &tg::table_prefix(id + 1))))
            .collect();
        ids.sort();
        ids
    };
    let j = json!({
        "cluster_id": CLUSTER_ID,
        "gc_safe_point": m.safe_point,
        "gc_safe_point_text": gc_time_text(m.safe_point),
        "stores": sts.iter().map(|st| json!({
            "dir": st.dir,
            "store_id": st.store_id,
            "regions": st.replicas.len(),
            "gc_safe_point": st.gc.as_ref().map(|x| x.safe_point),
        })).collect::<Vec<_>>(),
        "other_clusters": [other],
        "regions": regions,
        "lost": lost.iter().map(|(a, b)| json!({
            "start": hexb(a),
            "end": hexb(b),
            "table_ids": table_ids(a, b),
        })).collect::<Vec<_>>(),
        "resurrected": resurrected,
    });
    std::fs::write(
        ex.join("regions.json"),
        serde_json::to_string_pretty(&j).unwrap() + "\n",
    )
    .unwrap();
    for s in counts {
        eprintln!("  {s}");
    }
    eprintln!("gen-tikv --regions: wrote {}", out.display());
}

/// Case (f): `other-cluster/db`, store 1 of another cluster (one region ["", "")) holding the
/// rescue schema and three users rows written later than anything in the main cluster: merged
/// by mistake they would win every key they share.
fn write_other_cluster(main: &Gen, out: &Path) -> Value {
    let mut g = Gen::new();
    g.k = main.k + 100;
    g.rng = Rng::new(0x6f74_6865_7221);
    let mut c = Cluster::default();
    c.add(2, Vec::new(), Vec::new(), (1, 1), &[1]);
    g.create_db(RESCUE, "rescue");
    g.put_table(t_users());
    let rows: Vec<_> = [1, 5, 45]
        .into_iter()
        .map(|h| {
            let mut r = user(&mut g.rng, h);
            r[1].1 = s(&format!("other cluster {h}"));
            (h, r)
        })
        .collect();
    g.insert_many(USERS, rows, 3, |_| Fmt::V2);
    g.flush(&CFS);
    g.update(USERS, 1, vec![("score", V::I(-1))]);
    let end = g.tick();
    let st = Store {
        dir: "other-cluster",
        store_id: 1,
        cluster_id: OTHER_CLUSTER_ID,
        covers: vec![Cover {
            start: Vec::new(),
            end: Vec::new(),
            cut: end,
        }],
        gc: None,
        replicas: vec![Replica {
            region: 2,
            state: PeerState::Normal,
            at: end,
        }],
    };
    write(&g, &c, &st, out, &[]);
    json!({
        "dir": st.dir,
        "cluster_id": OTHER_CLUSTER_ID,
        "store_id": st.store_id,
        "regions": 1,
    })
}
