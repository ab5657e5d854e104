// gen-leveldb: writes real LevelDB tables (Debian libleveldb 1.23) into the
// corpus, and their expected entries read back by LevelDB's own table reader
// (leveldb::Table iterator over the stored internal keys; sequence number and
// type are the 8-byte internal-key trailer LevelDB stores with each key).
// Build and run through corpus/gen-leveldb.sh.
//   gen-leveldb OUT_DIR  -> OUT_DIR/NAME.sst + NAME.expected.jsonl, and prints
//                           one manifest fragment per table: NAME \t options \t covers
#include <leveldb/db.h>
#include <leveldb/env.h>
#include <leveldb/filter_policy.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/table.h>
#include <leveldb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <string>
#include <vector>

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

static const char* kWords[] = {"level", "db", "table", "block", "index", "filter", "log",
                               "compaction", "snapshot", "sequence", "footer", "crc"};

static std::string text(Rng& r, size_t len) {
  std::string v;
  while (v.size() < len) {
    v += kWords[r.next() % (sizeof kWords / sizeof *kWords)];
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

static std::vector<std::string> tables(const std::string& dir) {
  std::vector<std::string> v;
  DIR* d = opendir(dir.c_str());
  while (auto* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.size() > 4 && (n.substr(n.size() - 4) == ".ldb" || n.substr(n.size() - 4) == ".sst"))
      v.push_back(dir + "/" + n);
  }
  closedir(d);
  return v;
}

// Dumps with LevelDB's own Table reader; returns JSONL.
static std::string dump(const std::string& path) {
  leveldb::Env* env = leveldb::Env::Default();
  uint64_t size;
  check(env->GetFileSize(path, &size), "size");
  leveldb::RandomAccessFile* file;
  check(env->NewRandomAccessFile(path, &file), "open file");
  leveldb::Options opts;
  opts.paranoid_checks = true;
  leveldb::Table* table;
  check(leveldb::Table::Open(opts, file, size, &table), "Table::Open");
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  leveldb::Iterator* it = table->NewIterator(ro);
  std::string out;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    leveldb::Slice k = it->key();
    if (k.size() < 8) {
      fprintf(stderr, "short internal key\n");
      exit(1);
    }
    uint64_t tag = 0;
    for (int i = 7; i >= 0; i--) tag = (tag << 8) | (unsigned char)k[k.size() - 8 + i];
    uint64_t seq = tag >> 8;
    int type = tag & 0xff;
    const char* tn = type == 1 ? "put" : type == 0 ? "delete" : "other";
    char seqbuf[32];
    snprintf(seqbuf, sizeof seqbuf, "%llu", (unsigned long long)seq);
    out += "{\"key\":\"" + hex(leveldb::Slice(k.data(), k.size() - 8)) + "\",\"seq\":" + seqbuf +
           ",\"type\":\"" + tn + "\",\"value\":\"" + hex(it->value()) + "\"}\n";
  }
  check(it->status(), "iterate");
  delete it;
  delete table;
  delete file;
  return out;
}

static void make(const std::string& out, const std::string& name, leveldb::Options opts,
                 const std::vector<std::pair<int, std::pair<std::string, std::string>>>& ops) {
  std::string dir = "/tmp/rockrescue-gen-leveldb/" + name;
  system(("rm -rf " + dir).c_str());
  opts.create_if_missing = true;
  opts.write_buffer_size = 64 << 20;
  leveldb::DB* db;
  check(leveldb::DB::Open(opts, dir, &db), "open");
  for (auto& op : ops) {
    leveldb::WriteBatch b;
    if (op.first == 1) b.Put(op.second.first, op.second.second);
    else b.Delete(op.second.first);
    check(db->Write(leveldb::WriteOptions(), &b), "write");
  }
  delete db;
  // Reopening recovers the log into a memtable and writes it as a level-0
  // table (LevelDB does not flush on close); no compaction runs for 1 file.
  check(leveldb::DB::Open(opts, dir, &db), "reopen");
  delete db;
  auto t = tables(dir);
  if (t.size() != 1) {
    fprintf(stderr, "%s: %zu tables\n", name.c_str(), t.size());
    exit(1);
  }
  std::string dst = out + "/" + name + ".sst";
  if (system(("cp '" + t[0] + "' '" + dst + "'").c_str()) != 0) exit(1);
  std::string j = dump(dst);
  FILE* f = fopen((out + "/" + name + ".expected.jsonl").c_str(), "w");
  fwrite(j.data(), 1, j.size(), f);
  fclose(f);
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  std::string out = argv[1];
  system("mkdir -p /tmp/rockrescue-gen-leveldb");
  {
    Rng r{201};
    std::vector<std::pair<int, std::pair<std::string, std::string>>> ops;
    for (int i = 0; i < 400; i++) ops.push_back({1, {K(i), text(r, r.range(0, 80))}});
    for (int i = 0; i < 400; i += 9) ops.push_back({0, {K(i), ""}});
    for (int i = 0; i < 400; i += 13) ops.push_back({1, {K(i), text(r, r.range(0, 40))}});
    ops.push_back({0, {"zz-never-written", ""}});
    leveldb::Options o;
    o.compression = leveldb::kSnappyCompression;
    o.block_size = 1024;
    o.filter_policy = leveldb::NewBloomFilterPolicy(10);
    make(out, "leveldb-snappy-bloom", o, ops);
    printf("leveldb-snappy-bloom\tcompression=snappy;block_size=1024;block_restart_interval=16;filter_policy=leveldb.BuiltinBloomFilter2(10)\t"
           "real LevelDB table: snappy, bloom filter block, puts, deletes and overwritten keys (several versions per key)\n");
  }
  {
    Rng r{202};
    std::vector<std::pair<int, std::pair<std::string, std::string>>> ops;
    for (int b = 0; b < 256; b++) {
      std::string k(1, (char)b);
      ops.push_back({1, {k, std::string(b % 5, (char)(255 - b))}});
      ops.push_back({1, {k + std::string("\0\xff", 2) + k, ""}});
    }
    for (int i = 0; i < 200; i++) {
      std::string k;
      size_t n = r.range(1, 40);
      for (size_t j = 0; j < n; j++) k += (char)(r.next() & 0xff);
      std::string v;
      size_t m = r.range(0, 100);
      for (size_t j = 0; j < m; j++) v += (char)(r.next() & 0xff);
      ops.push_back({1, {k, v}});
    }
    std::string big;
    for (int i = 0; i < 70000; i++) big += (char)(r.next() & 0xff);
    ops.push_back({1, {"big-value", big}});
    ops.push_back({0, {std::string(1, '\0'), ""}});
    leveldb::Options o;
    o.compression = leveldb::kNoCompression;
    o.block_size = 4096;
    o.block_restart_interval = 4;
    make(out, "leveldb-nocompress-binary", o, ops);
    printf("leveldb-nocompress-binary\tcompression=none;block_size=4096;block_restart_interval=4\t"
           "real LevelDB table: uncompressed, binary keys with every byte value, random binary values, a 70000-byte value, a delete\n");
  }
  return 0;
}
