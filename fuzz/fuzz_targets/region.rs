#![no_main]
//! Any byte string as TiKV region metadata: the input is cut into records (a length byte, then
//! that many bytes) fed to the collector as StoreIdent, RegionLocalState and RaftApplyState values
//! of up to three stores; decoding and the region plan must never panic, and the plan's ranges
//! must be disjoint, in key order, and owned by a store that was given.
use libfuzzer_sys::fuzz_target;
use rockrescue::tikv::region::{plan, MetaCollector, STORE_IDENT_KEY};

fuzz_target!(|data: &[u8]| {
    let mut stores = vec![MetaCollector::default(), MetaCollector::default(), MetaCollector::default()];
    let mut i = 0;
    while i + 2 <= data.len() {
        let tag = data[i];
        let len = data[i + 1] as usize;
        let v = &data[i + 2..(i + 2 + len).min(data.len())];
        i += 2 + len;
        let c = &mut stores[(tag as usize >> 4) % 3];
        // Region ids 0..=3, so replicas of one region meet across stores.
        let id = (tag as u64 >> 2) & 3;
        match tag & 3 {
            0 => {
                c.begin_cf("default");
                c.entry(&STORE_IDENT_KEY, v);
            }
            1 => {
                let mut k = vec![1, 3];
                k.extend_from_slice(&id.to_be_bytes());
                k.push(1);
                c.begin_cf("raft");
                c.entry(&k, v);
            }
            2 => {
                let mut k = vec![1, 2];
                k.extend_from_slice(&id.to_be_bytes());
                k.push(3);
                c.begin_cf("raft");
                c.entry(&k, v);
            }
            _ => {
                c.begin_cf("raft");
                c.entry(v, v);
            }
        }
    }
    let metas: Vec<_> = stores
        .into_iter()
        .enumerate()
        .map(|(n, c)| c.finish(&format!("s{n}")))
        .collect();
    let p = plan(&metas);
    for w in p.ranges.windows(2) {
        assert!(!w[0].end.is_empty() && w[0].end <= w[1].start);
    }
    for r in &p.ranges {
        assert!(r.end.is_empty() || r.start < r.end);
        assert!(r.stores.iter().all(|s| *s < metas.len()));
        assert!(p.owner(&r.start).is_some_and(|o| o.start == r.start));
    }
});
