// gen-old: writes the RocksDB-7.8.3 part of the corpus with Debian's
// librocksdb (format_version 0..5). Build and run through corpus/gen-old.sh.
//   gen-old OUT_DIR   -> OUT_DIR/NAME.sst for each case, and prints one
//                        manifest fragment per line: NAME \t writer \t options \t covers
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace rocksdb;

struct Rng {
  uint64_t s;
  uint64_t next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t range(uint64_t lo, uint64_t hi) { return lo + next() % (hi - lo + 1); }
};

static const char* kWords[] = {"rock", "rescue", "table", "block", "index", "filter", "level",
                               "flush", "merge", "delete", "range", "value", "key", "snapshot",
                               "footer", "checksum", "restart", "prefix", "hash", "bloom"};

static std::string text(Rng& r, size_t len) {
  std::string v;
  while (v.size() < len) {
    if (r.next() % 16 == 0) {
      char b[16];
      snprintf(b, sizeof b, "%llx", (unsigned long long)(r.next() % (1 << 20)));
      v += b;
    } else {
      v += kWords[r.next() % (sizeof kWords / sizeof *kWords)];
    }
    v += ' ';
  }
  v.resize(len);
  return v;
}

static std::string K(int i) {
  char b[32];
  snprintf(b, sizeof b, "key%08d", i);
  return b;
}

class Concat : public AssociativeMergeOperator {
 public:
  bool Merge(const Slice&, const Slice* existing, const Slice& value, std::string* new_value,
             Logger*) const override {
    new_value->clear();
    if (existing) {
      new_value->assign(existing->data(), existing->size());
      new_value->push_back(',');
    }
    new_value->append(value.data(), value.size());
    return true;
  }
  const char* Name() const override { return "rockrescue.concat"; }
};

enum OpKind { PUT, DEL, SDEL, MERGE, RANGE, SNAP };
struct Op {
  OpKind k;
  std::string a, b;
};

static std::vector<Op> puts(uint64_t seed, int n, int lo, int hi) {
  Rng r{seed};
  std::vector<Op> ops;
  for (int i = 0; i < n; i++) {
    size_t len = r.range(lo, hi);
    ops.push_back({PUT, K(i), text(r, len)});
  }
  return ops;
}

static std::vector<Op> mixed(uint64_t seed) {
  Rng r{seed};
  std::vector<Op> ops;
  for (int i = 0; i < 300; i++) ops.push_back({PUT, K(i), text(r, r.range(0, 60))});
  ops.push_back({SNAP, "", ""});
  for (int i = 0; i < 300; i += 7) ops.push_back({DEL, K(i), ""});
  for (int i = 3; i < 300; i += 11)
    if (i % 7 != 0 && i % 5 != 1 && (i - 2) % 13 != 0) ops.push_back({SDEL, K(i), ""});
  ops.push_back({SNAP, "", ""});
  for (int i = 1; i < 300; i += 5) ops.push_back({MERGE, K(i), "m" + std::to_string(i)});
  ops.push_back({SNAP, "", ""});
  ops.push_back({RANGE, K(20), K(60)});
  ops.push_back({RANGE, K(50), K(80)});
  ops.push_back({RANGE, K(250), "zzz"});
  for (int i = 2; i < 300; i += 13) ops.push_back({PUT, K(i), text(r, r.range(0, 30))});
  return ops;
}

static std::vector<Op> prefixed(uint64_t seed) {
  Rng r{seed};
  std::vector<Op> ops;
  for (int p = 0; p < 30; p++)
    for (int j = 0; j < 20; j++) {
      char b[32];
      snprintf(b, sizeof b, "p%03d-%05d", p, j);
      ops.push_back({PUT, b, text(r, r.range(10, 60))});
    }
  return ops;
}

static std::vector<std::string> list_sst(const std::string& dir) {
  std::vector<std::string> v;
  DIR* d = opendir(dir.c_str());
  if (!d) return v;
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && n.substr(n.size() - 4) == ".sst") v.push_back(dir + "/" + n);
  }
  closedir(d);
  std::sort(v.begin(), v.end());
  return v;
}

static void die(const std::string& what, const Status& s) {
  fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  exit(1);
}

static void copy_file(const std::string& from, const std::string& to) {
  std::string cmd = "cp '" + from + "' '" + to + "'";
  if (system(cmd.c_str()) != 0) exit(1);
}

static Options base_options(int fv, ChecksumType ck, CompressionType c, size_t block_size) {
  Options o;
  o.create_if_missing = true;
  o.disable_auto_compactions = true;
  o.write_buffer_size = 256 << 20;
  o.merge_operator = std::make_shared<Concat>();
  o.compression = c;
  BlockBasedTableOptions t;
  t.format_version = fv;
  t.checksum = ck;
  t.block_size = block_size;
  o.table_factory.reset(NewBlockBasedTableFactory(t));
  return o;
}

static BlockBasedTableOptions* topts(Options& o) {
  return o.table_factory->GetOptions<BlockBasedTableOptions>();
}

static void flush_case(const std::string& out, const std::string& tmp, const std::string& name,
                       Options o, const std::vector<Op>& ops) {
  std::string dir = tmp + "/" + name;
  DestroyDB(dir, o);
  DB* db;
  Status s = DB::Open(o, dir, &db);
  if (!s.ok()) die(name + " open", s);
  std::vector<const Snapshot*> snaps;
  for (auto& op : ops) {
    WriteBatch b;
    switch (op.k) {
      case PUT: b.Put(op.a, op.b); break;
      case DEL: b.Delete(op.a); break;
      case SDEL: b.SingleDelete(op.a); break;
      case MERGE: b.Merge(op.a, op.b); break;
      case RANGE: b.DeleteRange(op.a, op.b); break;
      case SNAP: snaps.push_back(db->GetSnapshot()); continue;
    }
    s = db->Write(WriteOptions(), &b);
    if (!s.ok()) die(name + " write", s);
  }
  s = db->Flush(FlushOptions());
  if (!s.ok()) die(name + " flush", s);
  for (auto* sn : snaps) db->ReleaseSnapshot(sn);
  delete db;
  auto files = list_sst(dir);
  if (files.size() != 1) {
    fprintf(stderr, "%s: %zu files\n", name.c_str(), files.size());
    exit(1);
  }
  copy_file(files[0], out + "/" + name + ".sst");
}

static void writer_case(const std::string& out, const std::string& name, Options o,
                        const std::vector<Op>& ops) {
  SstFileWriter w(EnvOptions(), o);
  Status s = w.Open(out + "/" + name + ".sst");
  if (!s.ok()) die(name + " open", s);
  for (auto& op : ops) {
    if (op.k == PUT) s = w.Put(op.a, op.b);
    else if (op.k == MERGE) s = w.Merge(op.a, op.b);
    else if (op.k == DEL) s = w.Delete(op.a);
    else if (op.k == RANGE) s = w.DeleteRange(op.a, op.b);
    if (!s.ok()) die(name + " add", s);
  }
  s = w.Finish();
  if (!s.ok()) die(name + " finish", s);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: gen-old OUT_DIR\n");
    return 2;
  }
  std::string out = argv[1];
  std::string tmp = "/tmp/rockrescue-gen-old";
  system(("rm -rf " + tmp + " && mkdir -p " + tmp).c_str());
  auto row = [](const std::string& name, const std::string& writer, const std::string& opts,
                const std::string& covers) {
    printf("%s\t%s\t%s\t%s\n", name.c_str(), writer.c_str(), opts.c_str(), covers.c_str());
  };
  const std::string FL = "rocksdb-7.8.3 DB flush (Debian librocksdb7.8)";
  const std::string SW = "rocksdb-7.8.3 SstFileWriter (Debian librocksdb7.8)";

  {
    Options o = base_options(0, kCRC32c, kSnappyCompression, 4096);
    flush_case(out, tmp, "old-fv0-crc32c-snappy", o, puts(101, 400, 10, 100));
    row("old-fv0-crc32c-snappy", FL, "format_version=0;checksum=kCRC32c;compression=kSnappyCompression;block_size=4096",
        "format_version 0 (legacy footer, LevelDB magic), snappy");
  }
  {
    Options o = base_options(0, kCRC32c, kZlibCompression, 1024);
    flush_case(out, tmp, "old-fv0-zlib-mixed", o, mixed(102));
    row("old-fv0-zlib-mixed", FL, "format_version=0;checksum=kCRC32c;compression=kZlibCompression;block_size=1024",
        "format_version 0 with zlib (pre-fv2 compressed block format), put/delete/single_delete/merge/range deletions, snapshots");
  }
  {
    Options o = base_options(0, kCRC32c, kNoCompression, 256);
    flush_case(out, tmp, "old-fv0-none-256", o, puts(103, 400, 0, 50));
    row("old-fv0-none-256", FL, "format_version=0;checksum=kCRC32c;compression=kNoCompression;block_size=256",
        "format_version 0, uncompressed, 256-byte blocks");
  }
  {
    Options o = base_options(1, kxxHash, kLZ4Compression, 4096);
    flush_case(out, tmp, "old-fv1-xxhash-lz4", o, puts(104, 400, 10, 100));
    row("old-fv1-xxhash-lz4", FL, "format_version=1;checksum=kxxHash;compression=kLZ4Compression;block_size=4096",
        "format_version 1 (new footer with checksum type), kxxHash, lz4 in the pre-fv2 block format");
  }
  {
    Options o = base_options(1, kCRC32c, kBZip2Compression, 4096);
    flush_case(out, tmp, "old-fv1-crc32c-bzip2-mixed", o, mixed(105));
    row("old-fv1-crc32c-bzip2-mixed", FL, "format_version=1;checksum=kCRC32c;compression=kBZip2Compression;block_size=4096",
        "format_version 1, bzip2 (pre-fv2 format), mixed operations and range deletions");
  }
  {
    Options o = base_options(1, kxxHash64, kZlibCompression, 1024);
    o.prefix_extractor.reset(NewFixedPrefixTransform(4));
    topts(o)->index_type = BlockBasedTableOptions::kHashSearch;
    flush_case(out, tmp, "old-fv1-xxhash64-zlib-hash-index", o, prefixed(106));
    row("old-fv1-xxhash64-zlib-hash-index", FL,
        "format_version=1;checksum=kxxHash64;compression=kZlibCompression;block_size=1024;index_type=kHashSearch;prefix_extractor=fixed:4",
        "format_version 1, kxxHash64, zlib, hash index");
  }
  {
    Options o = base_options(1, kXXH3, kLZ4HCCompression, 2048);
    flush_case(out, tmp, "old-fv1-xxh3-lz4hc", o, puts(107, 400, 10, 100));
    row("old-fv1-xxh3-lz4hc", FL, "format_version=1;checksum=kXXH3;compression=kLZ4HCCompression;block_size=2048",
        "format_version 1, kXXH3, lz4hc (pre-fv2 format)");
  }
  {
    Options o = base_options(1, kNoChecksum, kNoCompression, 4096);
    flush_case(out, tmp, "old-fv1-nochecksum", o, puts(108, 400, 10, 100));
    row("old-fv1-nochecksum", FL, "format_version=1;checksum=kNoChecksum;compression=kNoCompression;block_size=4096",
        "format_version 1 with kNoChecksum");
  }
  {
    Options o = base_options(2, kxxHash64, kLZ4HCCompression, 512);
    topts(o)->index_type = BlockBasedTableOptions::kTwoLevelIndexSearch;
    topts(o)->metadata_block_size = 256;
    flush_case(out, tmp, "old-fv2-partitioned-index", o, puts(109, 800, 10, 40));
    row("old-fv2-partitioned-index", FL,
        "format_version=2;checksum=kxxHash64;compression=kLZ4HCCompression;block_size=512;index_type=kTwoLevelIndexSearch;metadata_block_size=256",
        "RocksDB 7.8 writer: format_version 2, partitioned index");
  }
  {
    Options o = base_options(3, kCRC32c, kZSTD, 4096);
    o.compression_opts.max_dict_bytes = 4096;
    o.compression_opts.zstd_max_train_bytes = 65536;
    flush_case(out, tmp, "old-fv3-zstd-dict", o, puts(110, 700, 50, 150));
    row("old-fv3-zstd-dict", FL,
        "format_version=3;checksum=kCRC32c;compression=kZSTD;max_dict_bytes=4096;zstd_max_train_bytes=65536;block_size=4096",
        "RocksDB 7.8 writer: format_version 3, zstd with dictionary");
  }
  {
    Options o = base_options(4, kxxHash, kSnappyCompression, 4096);
    std::vector<Op> ops;
    Rng r{111};
    for (int i = 0; i < 400; i++) {
      if (i % 10 == 3) ops.push_back({DEL, K(i), ""});
      else if (i % 10 == 6) ops.push_back({MERGE, K(i), "op" + std::to_string(i)});
      else ops.push_back({PUT, K(i), text(r, r.range(0, 100))});
    }
    ops.push_back({RANGE, K(300), K(350)});
    ops.push_back({RANGE, K(10), K(20)});
    writer_case(out, "old-fv4-sstwriter", o, ops);
    row("old-fv4-sstwriter", SW, "format_version=4;checksum=kxxHash;compression=kSnappyCompression;block_size=4096",
        "RocksDB 7.8 SstFileWriter (seq 0): put/delete/merge and unsorted range deletions");
  }
  {
    Options o = base_options(5, kXXH3, kZSTD, 1024);
    topts(o)->index_type = BlockBasedTableOptions::kTwoLevelIndexSearch;
    topts(o)->partition_filters = true;
    topts(o)->metadata_block_size = 512;
    topts(o)->filter_policy.reset(NewBloomFilterPolicy(10));
    flush_case(out, tmp, "old-fv5-partitioned-filters", o, puts(112, 900, 10, 50));
    row("old-fv5-partitioned-filters", FL,
        "format_version=5;checksum=kXXH3;compression=kZSTD;block_size=1024;index_type=kTwoLevelIndexSearch;partition_filters=true;filter_policy=bloomfilter:10",
        "RocksDB 7.8 writer: format_version 5, partitioned index and filters");
  }
  {
    Options o = base_options(5, kNoChecksum, kLZ4Compression, 4096);
    topts(o)->data_block_index_type = BlockBasedTableOptions::kDataBlockBinaryAndHash;
    topts(o)->index_type = BlockBasedTableOptions::kBinarySearchWithFirstKey;
    flush_case(out, tmp, "old-fv5-nochecksum-lz4-hash-first-key", o, mixed(113));
    row("old-fv5-nochecksum-lz4-hash-first-key", FL,
        "format_version=5;checksum=kNoChecksum;compression=kLZ4Compression;block_size=4096;data_block_index_type=kDataBlockBinaryAndHash;index_type=kBinarySearchWithFirstKey",
        "RocksDB 7.8 writer: kNoChecksum, data block hash index, binary search with first key, mixed ops");
  }
  return 0;
}
