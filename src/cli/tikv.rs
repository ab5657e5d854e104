//! `rockrescue tikv regions DATADIR...`: the region metadata of TiKV stores, the authoritative
//! replica of every region, and the key ranges no store holds.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};

use rockrescue::export::plan::read_cluster;
use rockrescue::export::regions::{Bound, RegionsReport};

use super::{EXIT_DAMAGE, EXIT_ERROR, EXIT_OK};

#[derive(Subcommand)]
pub enum TikvCommand {
    /// Every store's regions, the replica chosen for each, and the key ranges no store holds.
    #[command(after_help = REGIONS_HELP)]
    Regions(RegionsArgs),
}

const REGIONS_HELP: &str =
    "Reads only the region metadata of each store (StoreIdent in CF default,\n\
RegionLocalState and RaftApplyState in CF raft): seconds, whatever the data\n\
size. Per region, the replica `tidb export` reads is the newest epoch\n\
(version, then conf_ver), then the highest applied index; Tombstone replicas\n\
are ignored and Applying ones rank last. Winners are laid over the key space\n\
newest epoch first. Key ranges no usable replica covers are listed as lost,\n\
with the tables they may hold.\n\n\
Stores of different clusters are refused unless --force; the same store id\n\
twice is refused.\n\n\
Exit codes: 0 = every range covered, 1 = lost ranges, a replica behind, or\n\
undecodable metadata, 2 = usage or I/O error.\n\n\
Examples:\n  rockrescue tikv regions /data/tikv1 /data/tikv2 /data/tikv3\n  \
rockrescue tikv regions /data/tikv* --json > regions.json";

#[derive(Args)]
pub struct RegionsArgs {
    /// TiKV data directories (with a `db/` kv RocksDB) or kv DB directories.
    #[arg(required = true)]
    datadirs: Vec<PathBuf>,
    /// Read stores whose StoreIdents name different clusters together.
    #[arg(long)]
    force: bool,
    /// JSON output.
    #[arg(long)]
    json: bool,
    /// Directory for temporary files (default: the system's).
    #[arg(long, value_name = "DIR")]
    tmp_dir: Option<PathBuf>,
}

pub fn run(c: TikvCommand) -> i32 {
    match c {
        TikvCommand::Regions(a) => regions(&a),
    }
}

fn regions(a: &RegionsArgs) -> i32 {
    let tmp = a
        .tmp_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("rockrescue-regions-{}", std::process::id()));
    if let Err(e) = rockrescue::io::ensure_outside_inputs("temporary directory", &tmp, &a.datadirs)
    {
        eprintln!("rockrescue: {e}");
        return EXIT_ERROR;
    }
    // Region metadata and TiDB's schema keys only (the schema names the tables of lost ranges).
    let c = match read_cluster(&a.datadirs, &tmp, a.force) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    };
    let metas = &c.stores;
    let without: Vec<&str> = metas
        .iter()
        .filter(|m| !m.has_regions())
        .map(|m| m.path.as_str())
        .collect();
    let rep = RegionsReport::new(metas, &c.plan).with_tables(&c.lost);
    let mut o = BufWriter::new(io::stdout().lock());
    let r = if a.json {
        writeln!(
            o,
            "{}",
            serde_json::to_string_pretty(&rep).unwrap_or_default()
        )
    } else {
        human(&mut o, &rep, &without)
    };
    if let Err(e) = r.and_then(|_| o.flush()) {
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("rockrescue: {e}");
            return EXIT_ERROR;
        }
    }
    if rep.has_findings() || !without.is_empty() {
        EXIT_DAMAGE
    } else {
        EXIT_OK
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or("?".into(), |x| x.to_string())
}

fn span(s: &Bound, e: &Bound) -> String {
    format!("[{} .. {})", s.tidb, e.tidb)
}

fn human(o: &mut impl Write, rep: &RegionsReport, without: &[&str]) -> io::Result<()> {
    writeln!(o, "stores:")?;
    for s in &rep.stores {
        writeln!(
            o,
            "  [{}] {}: cluster {}, store {}, {} region replica(s)",
            s.store,
            s.path,
            opt(s.cluster_id),
            opt(s.store_id),
            s.regions
        )?;
        for p in &s.problems {
            writeln!(o, "      problem: {p}")?;
        }
    }
    for p in without {
        writeln!(
            o,
            "note: {p} has no region metadata (no RegionLocalState in CF raft): `tidb export` \
             merges key by key unless every store has it"
        )?;
    }
    writeln!(o, "regions:")?;
    for r in &rep.regions {
        let chosen = match (r.authoritative_store, r.authoritative_store_id) {
            (Some(i), id) if r.ranges == 0 => format!(
                "best replica [{i}] store {}, but newer regions cover its whole range: not read",
                opt(id)
            ),
            (Some(i), id) => format!("read from [{i}] store {}", opt(id)),
            (None, _) => "no usable replica".into(),
        };
        let mut flags = String::new();
        if r.behind {
            flags.push_str("; BEHIND another replica's applied index");
        }
        if r.superseded && r.ranges > 0 {
            flags.push_str("; partly covered by newer regions");
        }
        writeln!(o, "  region {}: {chosen}{flags}", r.region_id)?;
        for p in &r.replicas {
            writeln!(
                o,
                "    [{}] store {} {:<10} epoch v{} c{}  applied {}  {}  peers {}  -- {}",
                p.store,
                opt(p.store_id),
                p.state.name(),
                p.epoch.version,
                p.epoch.conf_ver,
                opt(p.applied_index),
                span(&p.start, &p.end),
                p.peers
                    .iter()
                    .map(|x| format!("{}@{}", x.id, x.store_id))
                    .collect::<Vec<_>>()
                    .join(","),
                p.why
            )?;
        }
    }
    writeln!(o, "key space ({} range(s)):", rep.ranges.len())?;
    for r in &rep.ranges {
        writeln!(
            o,
            "  {}  region {} from [{}]{}",
            span(&r.start, &r.end),
            r.region_id,
            r.stores.first().map_or("?".into(), |s| s.to_string()),
            if r.stores.len() > 1 {
                format!(" (then {:?})", &r.stores[1..])
            } else {
                String::new()
            }
        )?;
    }
    if rep.lost.is_empty() {
        writeln!(o, "every key range has a usable replica")?;
    } else {
        writeln!(
            o,
            "LOST: {} key range(s) no store given holds a usable replica of:",
            rep.lost.len()
        )?;
        for l in &rep.lost {
            let mut what = Vec::new();
            if l.meta {
                what.push("TiDB meta keys (schema)".to_string());
            }
            match l.table_ids {
                Some((a, b)) if a == b => what.push(format!("table id {a}")),
                Some((a, b)) => what.push(format!(
                    "table ids {}..={}",
                    if a == i64::MIN {
                        "min".into()
                    } else {
                        a.to_string()
                    },
                    if b == i64::MAX {
                        "max".into()
                    } else {
                        b.to_string()
                    }
                )),
                None => {}
            }
            if !l.tables.is_empty() {
                what = l
                    .tables
                    .iter()
                    .map(|t| {
                        let part = if t.physical_id != t.table_id {
                            format!(" partition {}", t.physical_id)
                        } else {
                            String::new()
                        };
                        format!(
                            "{}.{} (id {}{part}, handles {}..{})",
                            t.db,
                            t.table,
                            t.table_id,
                            t.handles_from.as_deref().unwrap_or("start"),
                            t.handles_to.as_deref().unwrap_or("end")
                        )
                    })
                    .chain(l.meta.then(|| "TiDB meta keys (schema)".to_string()))
                    .collect();
            }
            writeln!(
                o,
                "  {}  encoded [{}, {}): {}",
                span(&l.start, &l.end),
                l.start.encoded,
                l.end.encoded,
                if what.is_empty() {
                    "no TiDB table".into()
                } else {
                    what.join(", ")
                }
            )?;
        }
    }
    Ok(())
}
