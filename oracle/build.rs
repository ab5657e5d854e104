// Compiles cpp/shim.cc against the RocksDB sources bundled in librocksdb-sys
// (the same 11.8.1 that crate builds into librocksdb.a) with the same defines
// librocksdb-sys's build.rs uses, so internal class layouts match.
use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=cpp/shim.cc");
    println!("cargo:rerun-if-changed=build.rs");
    let src = PathBuf::from(
        env::var("DEP_ROCKSDB_CARGO_MANIFEST_DIR")
            .expect("DEP_ROCKSDB_CARGO_MANIFEST_DIR (exported by librocksdb-sys)"),
    );
    let target = env::var("TARGET").unwrap();
    let mut b = cc::Build::new();
    b.cpp(true)
        .file("cpp/shim.cc")
        .include(src.join("rocksdb/include"))
        .include(src.join("rocksdb"))
        .define("NDEBUG", Some("1"))
        .define("HAVE_ALIGNED_NEW", None)
        .define("SNAPPY", Some("1"))
        .define("LZ4", Some("1"))
        .define("ZSTD", Some("1"))
        .define("ZLIB", Some("1"))
        .define("BZIP2", Some("1"))
        .flag("-std=c++20")
        .flag("-include")
        .flag("cstdint")
        .flag("-Wno-unused-parameter")
        .warnings(false);
    if !target.contains("msvc") {
        b.define("HAVE_UINT128_EXTENSION", None);
    }
    if target.contains("linux") {
        b.define("OS_LINUX", None)
            .define("ROCKSDB_PLATFORM_POSIX", None)
            .define("ROCKSDB_LIB_IO_POSIX", None)
            .define("ROCKSDB_SCHED_GETCPU_PRESENT", None)
            .define("ROCKSDB_AUXV_GETAUXVAL_PRESENT", None)
            .define("ROCKSDB_FALLOCATE_PRESENT", None)
            .define("ROCKSDB_RANGESYNC_PRESENT", None);
    } else if target.contains("darwin") {
        b.define("OS_MACOSX", None)
            .define("ROCKSDB_PLATFORM_POSIX", None)
            .define("ROCKSDB_LIB_IO_POSIX", None);
    }
    b.compile("rockrescue_oracle_shim");
}
