// gen-leveldb-raw: writes LevelDB tables whose keys are raw user keys (no 8-byte
// sequence/type trailer), the way a program that calls LevelDB's public table API
// directly (leveldb::TableBuilder, include/leveldb/table_builder.h) writes them; a
// LevelDB database never does (its tables hold internal keys). Debian libleveldb 1.23.
// Build and run through corpus/gen-leveldb-raw.sh.
//   gen-leveldb-raw OUT_DIR -> OUT_DIR/NAME.sst + NAME.expected.jsonl, and prints one
//                              manifest fragment per table: NAME \t options \t covers
// The expectation is read back with LevelDB's own reader (leveldb::Table iterator,
// checksums verified) and must equal the generator's inputs, or the program fails.
// Each entry is written in rockrescue's dump contract for raw keys:
//   {"key":"<hex>","seq":0,"type":"put","value":"<hex>","raw_key":true}
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/table_builder.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

using KVs = std::vector<std::pair<std::string, std::string>>;

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

static const char* kWords[] = {"raw", "key", "table", "builder", "block", "index",
                               "filter", "snappy", "restart", "footer", "crc", "value"};

static std::string text(Rng& r, size_t len) {
  std::string v;
  while (v.size() < len) {
    v += kWords[r.next() % (sizeof kWords / sizeof *kWords)];
    v += ' ';
  }
  v.resize(len);
  return v;
}

static std::string bytes(Rng& r, size_t len) {
  std::string v;
  for (size_t i = 0; i < len; i++) v += (char)(r.next() & 0xff);
  return v;
}

// A key whose last 8 bytes read as a plausible internal-key trailer: a small
// sequence number and type byte 0 (deletion) or 1 (value), little-endian.
static std::string trailer_shaped(const std::string& prefix, uint64_t seq, int type) {
  std::string k = prefix;
  uint64_t packed = (seq << 8) | (uint64_t)type;
  for (int i = 0; i < 8; i++) k += (char)((packed >> (8 * i)) & 0xff);
  return k;
}

static void check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    exit(1);
  }
}

static std::string hex(const leveldb::Slice& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = s[i];
    o += d[c >> 4];
    o += d[c & 15];
  }
  return o;
}

// Reads the table back with LevelDB's own Table reader, checksums verified.
static KVs read_back(const std::string& path, const leveldb::Options& wopts) {
  leveldb::Env* env = leveldb::Env::Default();
  uint64_t size;
  check(env->GetFileSize(path, &size), "size");
  leveldb::RandomAccessFile* file;
  check(env->NewRandomAccessFile(path, &file), "open file");
  leveldb::Options opts;
  opts.paranoid_checks = true;
  opts.filter_policy = wopts.filter_policy;
  leveldb::Table* table;
  check(leveldb::Table::Open(opts, file, size, &table), "Table::Open");
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  leveldb::Iterator* it = table->NewIterator(ro);
  KVs out;
  for (it->SeekToFirst(); it->Valid(); it->Next())
    out.emplace_back(it->key().ToString(), it->value().ToString());
  check(it->status(), "iterate");
  delete it;
  delete table;
  delete file;
  return out;
}

static void make(const std::string& out, const std::string& name, const leveldb::Options& opts,
                 KVs kvs) {
  // TableBuilder requires strictly increasing keys (bytewise comparator).
  std::sort(kvs.begin(), kvs.end());
  for (size_t i = 1; i < kvs.size(); i++)
    if (kvs[i].first == kvs[i - 1].first) {
      fprintf(stderr, "%s: duplicate key %s\n", name.c_str(), hex(kvs[i].first).c_str());
      exit(1);
    }
  std::string path = out + "/" + name + ".sst";
  leveldb::Env* env = leveldb::Env::Default();
  leveldb::WritableFile* wf;
  check(env->NewWritableFile(path, &wf), "NewWritableFile");
  leveldb::TableBuilder tb(opts, wf);
  for (auto& kv : kvs) tb.Add(kv.first, kv.second);
  check(tb.Finish(), "TableBuilder::Finish");
  check(wf->Sync(), "sync");
  check(wf->Close(), "close");
  delete wf;
  KVs got = read_back(path, opts);
  if (got != kvs) {
    fprintf(stderr, "%s: LevelDB reads back %zu entries, %zu were written, or they differ\n",
            name.c_str(), got.size(), kvs.size());
    exit(1);
  }
  std::string j;
  for (auto& kv : got)
    j += "{\"key\":\"" + hex(kv.first) + "\",\"seq\":0,\"type\":\"put\",\"value\":\"" +
         hex(kv.second) + "\",\"raw_key\":true}\n";
  FILE* f = fopen((out + "/" + name + ".expected.jsonl").c_str(), "w");
  fwrite(j.data(), 1, j.size(), f);
  fclose(f);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string out = argv[1];
  {
    // Snappy, small blocks: the empty key and text keys of 1..5 bytes, all shorter than
    // the 8 bytes of an internal-key trailer.
    Rng r{301};
    KVs kvs;
    kvs.push_back({"", "the empty key"});
    for (int i = 0; i < 26; i++) {
      kvs.push_back({std::string(1, (char)('a' + i)), text(r, r.range(0, 30))});
      kvs.push_back({std::string(2, (char)('a' + i)), text(r, r.range(0, 30))});
    }
    for (int i = 0; i < 300; i++) {
      char b[32];
      snprintf(b, sizeof b, "k%d", i * 7);
      kvs.push_back({b, text(r, r.range(0, 120))});
    }
    leveldb::Options o;
    o.compression = leveldb::kSnappyCompression;
    o.block_size = 1024;
    make(out, "leveldb-raw-snappy", o, kvs);
    printf("leveldb-raw-snappy\tTableBuilder;compression=snappy;block_size=1024;block_restart_interval=16\t"
           "raw user keys (no seq/type trailer) through leveldb::TableBuilder: snappy, the empty key, text keys of 1..5 bytes, several blocks\n");
  }
  {
    // Uncompressed, binary keys. The first data block holds only keys whose last 8
    // bytes look like a valid trailer (seq n, type 0 or 1): a reader that judged the
    // table by its first block would take them for internal keys. Later blocks hold
    // 1-byte keys and random binary keys.
    Rng r{302};
    KVs kvs;
    for (int i = 0; i < 120; i++) {
      std::string prefix = "\x01trap";
      prefix += (char)('A' + i / 26);
      prefix += (char)('a' + i % 26);
      kvs.push_back({trailer_shaped(prefix, 1000 + i, i % 2), bytes(r, r.range(0, 40))});
    }
    for (int b = 2; b < 256; b += 3) kvs.push_back({std::string(1, (char)b), bytes(r, b % 7)});
    for (int i = 0; i < 150; i++) kvs.push_back({"\x80" + bytes(r, r.range(1, 30)), bytes(r, r.range(0, 90))});
    kvs.push_back({"big-value", bytes(r, 20000)});
    leveldb::Options o;
    o.compression = leveldb::kNoCompression;
    o.block_size = 2048;
    o.block_restart_interval = 4;
    make(out, "leveldb-raw-nocompress-trap", o, kvs);
    printf("leveldb-raw-nocompress-trap\tTableBuilder;compression=none;block_size=2048;block_restart_interval=4\t"
           "raw user keys through leveldb::TableBuilder, uncompressed: the first data block holds only keys whose last 8 bytes look like a valid seq/type trailer; 1-byte keys, random binary keys, a 20000-byte value\n");
  }
  {
    // Bloom filter over the raw keys, no compression; every key is long and ends in a
    // trailer-shaped tail, so only the index (shortened separators) shows the keys are raw.
    Rng r{303};
    KVs kvs;
    for (int i = 0; i < 400; i++) {
      char b[32];
      snprintf(b, sizeof b, "user%05d", i * 3);
      kvs.push_back({trailer_shaped(b, r.range(1, 1 << 20), r.next() & 1), text(r, r.range(1, 60))});
    }
    leveldb::Options o;
    o.compression = leveldb::kNoCompression;
    o.block_size = 4096;
    o.filter_policy = leveldb::NewBloomFilterPolicy(10);
    make(out, "leveldb-raw-bloom", o, kvs);
    printf("leveldb-raw-bloom\tTableBuilder;compression=none;block_size=4096;block_restart_interval=16;filter_policy=leveldb.BuiltinBloomFilter2(10)\t"
           "raw user keys through leveldb::TableBuilder with a bloom filter block; every key ends in 8 bytes shaped like a valid seq/type trailer (only the shortened index separators are not)\n");
    delete o.filter_policy;
  }
  return 0;
}
