// gen-leveldb-newer: a real LevelDB (Debian libleveldb 1.23) directory whose MANIFEST lists no
// table while the directory holds a complete table made after the MANIFEST's last edit, the way a
// crash leaves it when a flush finished but its edit never reached the MANIFEST and the log it
// replaced is gone.
//   gen-leveldb-newer OUT_DIR -> OUT_DIR/leveldb-newer/ (CURRENT, MANIFEST-*, NNNNNN.ldb) and
//                                OUT_DIR/leveldb-newer.expected.jsonl (the final visible state,
//                                {"key","value"} in key order, from the generator's own inputs).
// How: write through LevelDB and close (the writes stay in the log, the MANIFEST lists no table);
// keep a copy of that directory; reopen, which replays the log into a level-0 table, writes a new
// MANIFEST and deletes the log; then lay the new table beside the old CURRENT and MANIFEST.
// Build and run through corpus/gen-leveldb-newer.sh.
#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

static void check(const leveldb::Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    exit(1);
  }
}

static std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string o;
  for (unsigned char c : s) {
    o += d[c >> 4];
    o += d[c & 15];
  }
  return o;
}

static int sh(const std::string& cmd) {
  int rc = system(cmd.c_str());
  if (rc != 0) {
    fprintf(stderr, "failed: %s\n", cmd.c_str());
    exit(1);
  }
  return rc;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: gen-leveldb-newer OUT_DIR\n");
    return 2;
  }
  std::string out = argv[1];
  std::string work = "/tmp/rockrescue-gen-leveldb-newer";
  sh("rm -rf " + work + " && mkdir -p " + work);
  std::string live = work + "/db", before = work + "/before";

  leveldb::Options opts;
  opts.create_if_missing = true;
  opts.compression = leveldb::kSnappyCompression;
  std::map<std::string, std::string> state;  // the expected final state
  leveldb::DB* db;
  check(leveldb::DB::Open(opts, live, &db), "open");
  for (int i = 0; i < 300; i++) {
    char k[32], v[64];
    snprintf(k, sizeof k, "user%05d", i);
    snprintf(v, sizeof v, "value-%d-%s", i, i % 7 == 0 ? "seventh" : "plain");
    check(db->Put(leveldb::WriteOptions(), k, v), "put");
    state[k] = v;
  }
  for (int i = 0; i < 300; i += 10) {  // overwrite some
    char k[32];
    snprintf(k, sizeof k, "user%05d", i);
    check(db->Put(leveldb::WriteOptions(), k, "overwritten"), "put");
    state[k] = "overwritten";
  }
  leveldb::WriteBatch b;  // delete some in one batch
  for (int i = 5; i < 300; i += 25) {
    char k[32];
    snprintf(k, sizeof k, "user%05d", i);
    b.Delete(k);
    state.erase(k);
  }
  check(db->Write(leveldb::WriteOptions(), &b), "write");
  delete db;  // the writes are only in the log; the MANIFEST lists no table
  sh("cp -a " + live + " " + before);
  check(leveldb::DB::Open(opts, live, &db), "reopen");  // log -> level-0 table, new MANIFEST
  delete db;

  std::string dst = out + "/leveldb-newer";
  sh("rm -rf " + dst + " && mkdir -p " + dst);
  sh("cp " + before + "/CURRENT " + before + "/MANIFEST-* " + dst + "/");
  sh("cp " + live + "/*.ldb " + dst + "/");
  FILE* f = fopen((out + "/leveldb-newer.expected.jsonl").c_str(), "w");
  for (auto& kv : state)
    fprintf(f, "{\"key\":\"%s\",\"value\":\"%s\"}\n", hex(kv.first).c_str(), hex(kv.second).c_str());
  fclose(f);
  sh("ls -l " + dst + " >&2");
  sh("rm -rf " + work);
  return 0;
}
