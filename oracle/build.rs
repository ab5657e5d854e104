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
    let mut codec_includes = Vec::new();
    for var in [
        "DEP_ZSTD_INCLUDE",
        "DEP_LZ4_INCLUDE",
        "DEP_Z_INCLUDE",
        "DEP_BZIP2_INCLUDE",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        // libz-sys may list several directories separated by commas.
        if let Ok(dirs) = env::var(var) {
            codec_includes.extend(dirs.split(',').filter(|d| !d.is_empty()).map(PathBuf::from));
        }
    }
    let mut b = cc::Build::new();
    b.cpp(true)
        .file("cpp/shim.cc")
        .include(src.join("rocksdb/include"))
        .include(src.join("rocksdb"))
        // RocksDB's util/compression.h includes every codec's header. Take them from where the
        // crates that build those codecs put them (snappy is bundled in librocksdb-sys, with its
        // generated stubs header at the crate root), never from system -dev packages: a fresh
        // machine has none of them.
        .include(src.join("snappy"))
        .include(&src)
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
        // A make-style dependency file beside the object: .ci/system-deps reads it to name every
        // system header the shim compiled against and checks .ci/run installs its package.
        .flag("-MD")
        .warnings(false);
    for dir in &codec_includes {
        b.include(dir);
    }
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
