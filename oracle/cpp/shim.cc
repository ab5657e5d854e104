// rockrescue oracle shim: real RocksDB (the librocksdb-sys bundled 11.8.1
// build) dumps an SST file entry by entry.
//
// Point entries come from the public SstFileReader::NewTableIterator() +
// ParseTableIteratorKey() API.  Range tombstones are not returned by that
// iterator, so they are read from the file's "rocksdb.range_del" meta block
// with RocksDB's own internal meta-block reader (ReadMetaBlock) and block
// iterator (Block::NewDataIterator); this needs RocksDB-internal headers, which
// is why build.rs compiles this file with the same defines as librocksdb-sys.
// The tombstones are reported exactly as stored (raw, in block order, with the
// stored sequence numbers), not as the fragmented view a DB read would give.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_reader.h"
#include "rocksdb/table.h"
#include "rocksdb/table_properties.h"
#include "rocksdb/types.h"

// internal
#include "db/dbformat.h"
#include "file/random_access_file_reader.h"
#include "options/cf_options.h"
#include "table/block_based/block.h"
#include "table/block_based/block_type.h"
#include "table/format.h"
#include "table/meta_blocks.h"

using namespace ROCKSDB_NAMESPACE;

extern "C" {

// Entry type codes, same order as rocksdb::EntryType.
//  0 put, 1 delete, 2 single_delete, 3 merge, 4 range_delete, 5 blob_index,
//  6 delete_with_timestamp, 7 entity, 8 timed_put, 9 other
typedef int (*rr_entry_cb)(void* ctx, const char* key, size_t key_len,
                           uint64_t seq, int type, const char* val,
                           size_t val_len);

struct rr_props {
  uint64_t num_entries;
  uint64_t num_deletions;
  uint64_t num_merge_operands;
  uint64_t num_range_deletions;
  uint64_t format_version;
  uint64_t num_data_blocks;
  uint64_t column_family_id;
  uint64_t index_partitions;
  uint64_t index_key_is_user_key;
  uint64_t index_value_is_delta_encoded;
  uint64_t data_size;
  uint64_t index_size;
  uint64_t filter_size;
};

void rr_free(char* p) { std::free(p); }
}

static char* dup_err(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = 0;
  return p;
}

static Options oracle_options() {
  Options options;  // default: bytewise comparator, block-based table
  return options;
}

static int entry_type_code(EntryType t) {
  switch (t) {
    case kEntryPut: return 0;
    case kEntryDelete: return 1;
    case kEntrySingleDelete: return 2;
    case kEntryMerge: return 3;
    case kEntryRangeDeletion: return 4;
    case kEntryBlobIndex: return 5;
    case kEntryDeleteWithTimestamp: return 6;
    case kEntryWideColumnEntity: return 7;
    case kEntryTimedPut: return 8;
    default: return 9;
  }
}

// Reads the raw range-deletion meta block. Returns OK with *count = 0 if the
// file has none.
static Status dump_range_dels(const std::string& path, rr_entry_cb cb,
                              void* ctx, uint64_t* count, bool* stopped) {
  *count = 0;
  Options options = oracle_options();
  ImmutableOptions ioptions(options);
  const auto& fs = options.env->GetFileSystem();
  FileOptions fopts;
  uint64_t file_size = 0;
  IOStatus ios = fs->GetFileSize(path, fopts.io_options, &file_size, nullptr);
  if (!ios.ok()) return ios;
  std::unique_ptr<FSRandomAccessFile> file;
  ios = fs->NewRandomAccessFile(path, fopts, &file, nullptr);
  if (!ios.ok()) return ios;
  RandomAccessFileReader reader(std::move(file), path);
  ReadOptions ro;
  ro.verify_checksums = true;
  // Is there a range-deletion block at all? (metaindex lookup)
  {
    BlockContents meta_contents;
    Status s = ReadMetaIndexBlockInFile(&reader, file_size,
                                        kBlockBasedTableMagicNumber, ioptions,
                                        ro, &meta_contents);
    if (!s.ok()) return s;
    Block metaindex(std::move(meta_contents));
    std::unique_ptr<MetaBlockIter> mit(metaindex.NewMetaIterator());
    BlockHandle handle;
    s = FindOptionalMetaBlock(mit.get(), kRangeDelBlockName, &handle);
    if (!s.ok()) return s;
    if (handle.IsNull()) return Status::OK();
  }
  BlockContents contents;
  Status s = ReadMetaBlock(&reader, nullptr, file_size,
                           kBlockBasedTableMagicNumber, ioptions, ro,
                           kRangeDelBlockName, BlockType::kRangeDeletion,
                           &contents);
  if (!s.ok()) return s;
  Block block(std::move(contents));
  std::unique_ptr<DataBlockIter> it(
      block.NewDataIterator(BytewiseComparator(), kDisableGlobalSequenceNumber));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ParsedInternalKey pk;
    s = ParseInternalKey(it->key(), &pk, true);
    if (!s.ok()) return s;
    if (pk.type != kTypeRangeDeletion) {
      return Status::Corruption("non range-deletion entry in range_del block");
    }
    ++*count;
    Slice v = it->value();
    if (cb(ctx, pk.user_key.data(), pk.user_key.size(), pk.sequence, 4,
           v.data(), v.size()) != 0) {
      *stopped = true;
      return Status::OK();
    }
  }
  return it->status();
}

extern "C" {

// Streams every entry of the SST at `path` through `cb`, point entries first
// (in file order), then range tombstones. Verifies block checksums first and
// checks the entry counts against the table properties. Returns NULL on
// success, otherwise a malloc'ed error message (free with rr_free).
char* rr_dump_sst(const char* path, rr_entry_cb cb, void* ctx) {
  try {
    SstFileReader reader(oracle_options());
    Status s = reader.Open(path);
    if (!s.ok()) return dup_err("open: " + s.ToString());
    s = reader.VerifyChecksum();
    if (!s.ok()) return dup_err("verify checksum: " + s.ToString());
    auto props = reader.GetTableProperties();
    if (!props) return dup_err("no table properties");
    uint64_t points = 0;
    {
      std::unique_ptr<Iterator> it = reader.NewTableIterator();
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ParsedEntryInfo info;
        Slice raw = it->key();
        s = reader.ParseTableIteratorKey(raw, &info);
        if (!s.ok()) return dup_err("parse key: " + s.ToString());
        if (info.timestamp.size() != 0) {
          return dup_err("user-defined timestamps are not supported");
        }
        Slice v = it->value();
        ++points;
        if (cb(ctx, info.user_key.data(), info.user_key.size(), info.sequence,
               entry_type_code(info.type), v.data(), v.size()) != 0) {
          return nullptr;
        }
      }
      if (!it->status().ok()) {
        return dup_err("iterate: " + it->status().ToString());
      }
    }
    uint64_t ranges = 0;
    bool stopped = false;
    s = dump_range_dels(path, cb, ctx, &ranges, &stopped);
    if (!s.ok()) return dup_err("range deletions: " + s.ToString());
    if (stopped) return nullptr;
    if (points + ranges != props->num_entries ||
        ranges != props->num_range_deletions) {
      return dup_err("entry count mismatch: read " + std::to_string(points) +
                     " point + " + std::to_string(ranges) +
                     " range entries, properties say num_entries=" +
                     std::to_string(props->num_entries) +
                     " num_range_deletions=" +
                     std::to_string(props->num_range_deletions));
    }
    return nullptr;
  } catch (const std::exception& e) {
    return dup_err(std::string("exception: ") + e.what());
  }
}

// Fills `out` and, if `text` is non-null, *text with TableProperties::ToString
// (malloc'ed). Returns NULL on success or a malloc'ed error.
char* rr_table_properties(const char* path, rr_props* out, char** text) {
  try {
    SstFileReader reader(oracle_options());
    Status s = reader.Open(path);
    if (!s.ok()) return dup_err("open: " + s.ToString());
    auto p = reader.GetTableProperties();
    if (!p) return dup_err("no table properties");
    out->num_entries = p->num_entries;
    out->num_deletions = p->num_deletions;
    out->num_merge_operands = p->num_merge_operands;
    out->num_range_deletions = p->num_range_deletions;
    out->format_version = p->format_version;
    out->num_data_blocks = p->num_data_blocks;
    out->column_family_id = p->column_family_id;
    out->index_partitions = p->index_partitions;
    out->index_key_is_user_key = p->index_key_is_user_key;
    out->index_value_is_delta_encoded = p->index_value_is_delta_encoded;
    out->data_size = p->data_size;
    out->index_size = p->index_size;
    out->filter_size = p->filter_size;
    if (text) {
      std::string t = p->ToString("\n", "=");
      for (const auto& kv : p->user_collected_properties) {
        t += "\n" + kv.first + "=";
        // user properties may be binary; keep printable ones only
        bool printable = true;
        for (unsigned char c : kv.second) {
          if (c < 0x20 || c >= 0x7f) printable = false;
        }
        t += printable ? kv.second : std::string("<binary>");
      }
      *text = dup_err(t);
    }
    return nullptr;
  } catch (const std::exception& e) {
    return dup_err(std::string("exception: ") + e.what());
  }
}

}  // extern "C"

// ---------------------------------------------------------------------------
// Writer helper for what the rocksdb crate does not expose: an SstFileWriter
// file with wide-column entities (PutEntity) mixed with plain puts.
// Records: for i in 0..n: kinds[i] == 0 -> Put(key, val); kinds[i] == 7 ->
// PutEntity(key, columns decoded from val as repeated
// [u32 LE name_len][name][u32 LE value_len][value]).
// `options_str` is applied with GetOptionsFromString on top of defaults.
#include "rocksdb/convenience.h"
#include "rocksdb/sst_file_writer.h"
#include "rocksdb/wide_columns.h"

extern "C" char* rr_write_sst_with_entities(const char* path,
                                            const char* options_str, size_t n,
                                            const int* kinds,
                                            const char* const* keys,
                                            const size_t* key_lens,
                                            const char* const* vals,
                                            const size_t* val_lens) {
  try {
    Options base;
    Options options;
    ConfigOptions cfg;
    cfg.ignore_unknown_options = false;
    Status s = GetOptionsFromString(cfg, base, options_str, &options);
    if (!s.ok()) return dup_err("options: " + s.ToString());
    SstFileWriter w(EnvOptions(), options);
    s = w.Open(path);
    if (!s.ok()) return dup_err("open: " + s.ToString());
    for (size_t i = 0; i < n && s.ok(); i++) {
      Slice key(keys[i], key_lens[i]);
      if (kinds[i] == 0) {
        s = w.Put(key, Slice(vals[i], val_lens[i]));
      } else if (kinds[i] == 7) {
        std::vector<std::string> parts;
        const unsigned char* p = reinterpret_cast<const unsigned char*>(vals[i]);
        size_t len = val_lens[i], off = 0;
        while (off < len) {
          if (off + 4 > len) return dup_err("bad column encoding");
          uint32_t l = p[off] | (p[off + 1] << 8) | (p[off + 2] << 16) |
                       (uint32_t(p[off + 3]) << 24);
          off += 4;
          if (off + l > len) return dup_err("bad column encoding");
          parts.emplace_back(reinterpret_cast<const char*>(p + off), l);
          off += l;
        }
        if (parts.size() % 2) return dup_err("odd column parts");
        WideColumns cols;
        for (size_t j = 0; j < parts.size(); j += 2) {
          cols.emplace_back(parts[j], parts[j + 1]);
        }
        s = w.PutEntity(key, cols);
      } else {
        return dup_err("unsupported kind");
      }
    }
    if (s.ok()) s = w.Finish();
    if (!s.ok()) return dup_err("write: " + s.ToString());
    return nullptr;
  } catch (const std::exception& e) {
    return dup_err(std::string("exception: ") + e.what());
  }
}

// ---------------------------------------------------------------------------
// WAL dump: RocksDB's own log::Reader reassembles records (including
// compressed WALs and recyclable headers) and WriteBatch::Iterate decodes
// them.  Output is rockrescue's `wal dump --format jsonl` schema, one
// operation per line; the sequence number of a counted operation is the
// batch's sequence plus the number of counted operations before it.
#include "db/log_reader.h"
#include "db/write_batch_internal.h"
#include "file/sequence_file_reader.h"
#include "rocksdb/write_batch.h"

namespace {

std::string hexs(const Slice& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (size_t i = 0; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s.data()[i]);
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

struct JsonlHandler : public WriteBatch::Handler {
  std::string* out;
  uint64_t seq;
  void line(bool counted, uint32_t cf, const char* type, const Slice& key,
            const Slice& value) {
    *out += "{\"seq\":";
    if (counted) {
      *out += std::to_string(seq++);
    } else {
      *out += "null";
    }
    *out += ",\"cf\":" + std::to_string(cf) + ",\"type\":\"" + type +
            "\",\"key\":\"" + hexs(key) + "\",\"value\":\"" + hexs(value) +
            "\"}\n";
  }
  Status PutCF(uint32_t cf, const Slice& k, const Slice& v) override {
    line(true, cf, "put", k, v);
    return Status::OK();
  }
  Status TimedPutCF(uint32_t cf, const Slice& k, const Slice& v,
                    uint64_t write_time) override {
    std::string stored = v.ToString();
    char buf[8];
    EncodeFixed64(buf, write_time);
    stored.append(buf, 8);
    line(true, cf, "timed_put", k, stored);
    return Status::OK();
  }
  Status PutEntityCF(uint32_t cf, const Slice& k, const Slice& e) override {
    line(true, cf, "entity", k, e);
    return Status::OK();
  }
  Status DeleteCF(uint32_t cf, const Slice& k) override {
    line(true, cf, "delete", k, Slice());
    return Status::OK();
  }
  Status SingleDeleteCF(uint32_t cf, const Slice& k) override {
    line(true, cf, "single_delete", k, Slice());
    return Status::OK();
  }
  Status DeleteRangeCF(uint32_t cf, const Slice& b, const Slice& e) override {
    line(true, cf, "range_delete", b, e);
    return Status::OK();
  }
  Status MergeCF(uint32_t cf, const Slice& k, const Slice& v) override {
    line(true, cf, "merge", k, v);
    return Status::OK();
  }
  Status PutBlobIndexCF(uint32_t cf, const Slice& k, const Slice& v) override {
    line(true, cf, "blob_index", k, v);
    return Status::OK();
  }
  void LogData(const Slice& blob) override {
    line(false, 0, "log_data", Slice(), blob);
  }
  Status MarkBeginPrepare(bool unprepare) override {
    line(false, 0, unprepare ? "begin_unprepare" : "begin_prepare", Slice(),
         Slice());
    return Status::OK();
  }
  Status MarkEndPrepare(const Slice& xid) override {
    line(false, 0, "end_prepare", Slice(), xid);
    return Status::OK();
  }
  Status MarkNoop(bool) override {
    line(false, 0, "noop", Slice(), Slice());
    return Status::OK();
  }
  Status MarkRollback(const Slice& xid) override {
    line(false, 0, "rollback", Slice(), xid);
    return Status::OK();
  }
  Status MarkCommit(const Slice& xid) override {
    line(false, 0, "commit", Slice(), xid);
    return Status::OK();
  }
};

struct CountingReporter : public log::Reader::Reporter {
  std::string* errors;
  void Corruption(size_t bytes, const Status& s, uint64_t) override {
    *errors += "corruption (" + std::to_string(bytes) + " bytes): " +
               s.ToString() + "\n";
  }
};

}  // namespace

// Dump every operation of the WAL at `path` (log number `log_num`) as JSONL
// into *out (malloc'ed, free with rr_free). Returns nullptr on success or an
// error message; corruption reports are appended to *errors (malloc'ed).
extern "C" char* rr_dump_wal(const char* path, uint64_t log_num, char** out,
                             char** errors) {
  std::shared_ptr<FileSystem> fs = FileSystem::Default();
  std::unique_ptr<FSSequentialFile> file;
  IOStatus ios =
      fs->NewSequentialFile(path, FileOptions(), &file, /*dbg=*/nullptr);
  if (!ios.ok()) {
    return strdup(ios.ToString().c_str());
  }
  std::unique_ptr<SequentialFileReader> reader(
      new SequentialFileReader(std::move(file), path));
  std::string text, errs;
  CountingReporter rep;
  rep.errors = &errs;
  log::Reader r(nullptr, std::move(reader), &rep, /*checksum=*/true, log_num);
  std::string scratch;
  Slice record;
  while (r.ReadRecord(&record, &scratch,
                      WALRecoveryMode::kTolerateCorruptedTailRecords)) {
    if (record.size() < WriteBatchInternal::kHeader) {
      errs += "short record\n";
      continue;
    }
    WriteBatch batch;
    Status s = WriteBatchInternal::SetContents(&batch, record);
    if (!s.ok()) {
      errs += s.ToString() + "\n";
      continue;
    }
    JsonlHandler h;
    h.out = &text;
    h.seq = WriteBatchInternal::Sequence(&batch);
    s = batch.Iterate(&h);
    if (!s.ok()) {
      errs += "iterate: " + s.ToString() + "\n";
    }
  }
  *out = strdup(text.c_str());
  *errors = strdup(errs.c_str());
  return nullptr;
}
