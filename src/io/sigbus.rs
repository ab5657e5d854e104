//! Surviving files that shrink under the reader (Linux).
//!
//! A read of a memory-mapped page that lies past the end of the file raises SIGBUS. That happens
//! when another process truncates a file while we read it, and also when the device fails to read a
//! page (EIO on page-in). By default SIGBUS kills the process, which would end a whole audit for one
//! file.
//!
//! Every mapping made by [`crate::io::Source::open`] is registered here (start, length) in a fixed
//! array of atomics, and a process-wide SIGBUS handler is installed on first use. When a fault hits
//! a registered mapping, the handler maps an anonymous zero-filled page over the faulting page
//! (`mmap(MAP_FIXED | MAP_ANONYMOUS)`), records the lowest faulting offset in the mapping's slot and
//! returns: the interrupted read resumes and sees zeros. The reader goes on to the end of the file;
//! the owner of the `Source` then asks [`Guard::fault_offset`] (through `Source::check_intact`) and
//! reports the file as unreadable instead of trusting what it read. A fault anywhere else is handed
//! to the handler that was installed before ours (Rust's stack-overflow reporter) or, if there was
//! none, to the default action, so unrelated crashes still crash.
//!
//! The zero pages stay until the `Source` is dropped (its munmap covers them). Faults are per page:
//! a file cut to nothing faults once per page read (about 4 µs each, 0.3 s for 256 MiB), which keeps
//! an I/O error on one bad page of a device from costing more than that page.
//!
//! The handler does only async-signal-safe work: lock-free atomic loads, stores and read-modify-
//! writes on a static array (no locks, no allocation), `sigaction`, and `mmap` (not on POSIX's list,
//! but on Linux a plain system call that takes no user-space lock); it saves and restores `errno`.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::OnceLock;

/// How many mappings can be guarded at once. Mappings beyond this many are left unguarded (a fault in
/// one kills the process, as it did before guarding existed). `salvage` keeps the blob files of a
/// database open while it works; 16384 is well above the number of files one database holds open.
const SLOTS: usize = 16384;

/// No fault recorded.
const NONE: usize = usize::MAX;

// Slot states (the low two bits of `Slot::state`; the bits above count reuses of the slot, so a
// handler that read a slot while it changed hands can tell, see `Slot::covers`).
const FREE: usize = 0;
const BUSY: usize = 1;
const LIVE: usize = 2;
const STATE_MASK: usize = 3;

struct Slot {
    state: AtomicUsize,
    start: AtomicUsize,
    len: AtomicUsize,
    /// Lowest faulting offset in the mapping, or `NONE`.
    fault: AtomicUsize,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            state: AtomicUsize::new(FREE),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            fault: AtomicUsize::new(NONE),
        }
    }

    /// The offset of `addr` in this slot's mapping, if the slot is live and covers it. The state is
    /// read before and after the bounds (a sequence lock): a slot that was released or reused in
    /// between is skipped. The slot of a mapping being read by the faulting thread cannot change hands
    /// meanwhile: the `Source` that owns it is borrowed by that read.
    fn covers(&self, addr: usize) -> Option<usize> {
        let s = self.state.load(SeqCst);
        if s & STATE_MASK != LIVE {
            return None;
        }
        let start = self.start.load(SeqCst);
        let len = self.len.load(SeqCst);
        if self.state.load(SeqCst) != s {
            return None;
        }
        addr.checked_sub(start).filter(|&off| off < len)
    }
}

static REGISTRY: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];
/// One past the highest slot ever taken: the handler scans no further (a truncated file faults once
/// per page, so the scan must stay short).
static HIGH: AtomicUsize = AtomicUsize::new(0);
static PAGE_SIZE: AtomicUsize = AtomicUsize::new(0);
/// The SIGBUS disposition found when ours was installed (set before ours is).
static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();
/// Whether our handler is in place (false if `sigaction` refused).
static INSTALLED: OnceLock<bool> = OnceLock::new();

/// A registered mapping; unregisters on drop. Must be dropped before the mapping is unmapped (after
/// munmap the addresses may be reused by a mapping whose faults must not be swallowed).
pub(crate) struct Guard {
    slot: usize,
}

impl Guard {
    /// Register the mapping `[start, start+len)`. `None` when the handler could not be installed or
    /// every slot is taken: the mapping is then read unguarded, as before.
    pub(crate) fn register(start: *const u8, len: usize) -> Option<Guard> {
        if !install() {
            return None;
        }
        let page = PAGE_SIZE.load(SeqCst);
        // Faults are per page: cover the whole last page.
        let len = len.checked_add(page - 1)? & !(page - 1);
        for (i, slot) in REGISTRY.iter().enumerate() {
            let s = slot.state.load(SeqCst);
            if s & STATE_MASK != FREE {
                continue;
            }
            if slot
                .state
                .compare_exchange(s, s | BUSY, SeqCst, SeqCst)
                .is_err()
            {
                continue;
            }
            slot.start.store(start as usize, SeqCst);
            slot.len.store(len, SeqCst);
            slot.fault.store(NONE, SeqCst);
            HIGH.fetch_max(i + 1, SeqCst);
            slot.state
                .store((s & !STATE_MASK).wrapping_add(4) | LIVE, SeqCst);
            return Some(Guard { slot: i });
        }
        None
    }

    /// The lowest offset at which a read of the mapping faulted (and was given zeros), if any.
    pub(crate) fn fault_offset(&self) -> Option<u64> {
        match REGISTRY[self.slot].fault.load(SeqCst) {
            NONE => None,
            off => Some(off as u64),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let slot = &REGISTRY[self.slot];
        let s = slot.state.load(SeqCst);
        slot.state
            .store((s & !STATE_MASK).wrapping_add(4) | FREE, SeqCst);
    }
}

/// The size of the pages faults are reported in.
#[cfg(test)]
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

/// Install the handler once per process; true if it is in place.
fn install() -> bool {
    *INSTALLED.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if page <= 0 || (page as usize) & (page as usize - 1) != 0 {
            return false;
        }
        PAGE_SIZE.store(page as usize, SeqCst);
        // SAFETY: sigaction with a null new action only reads the current disposition into `old`, a
        // valid, writable sigaction; zeroed is a valid bit pattern for this plain C struct.
        let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
        if unsafe { libc::sigaction(libc::SIGBUS, std::ptr::null(), &mut old) } != 0 {
            return false;
        }
        let _ = PREVIOUS.set(old);
        // SAFETY: as above for zeroed; sigemptyset initialises the mask it is given. The handler has
        // the three-argument signature SA_SIGINFO requires and is async-signal-safe (module docs).
        // SA_ONSTACK: run on the thread's alternate signal stack when it has one (Rust's threads do),
        // like the handler we chain to. No SA_RESETHAND (every fault must be caught), no SA_NODEFER
        // (a second SIGBUS inside the handler must not recurse), SA_RESTART is moot for faults.
        unsafe {
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = on_sigbus
                as extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void)
                as libc::sighandler_t;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut new.sa_mask);
            libc::sigaction(libc::SIGBUS, &new, std::ptr::null_mut()) == 0
        }
    })
}

extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    // SAFETY: __errno_location returns this thread's errno; saved here and restored below so the
    // interrupted code does not see the handler's system calls.
    let errno = unsafe { libc::__errno_location() };
    let saved = unsafe { *errno };
    // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers; si_addr is the faulting
    // address for SIGBUS.
    let addr = if info.is_null() {
        0
    } else {
        unsafe { (*info).si_addr() as usize }
    };
    let handled = addr != 0 && zero_fill(addr);
    // SAFETY: restoring the value read above.
    unsafe { *errno = saved };
    if !handled {
        chain(sig, info, ctx);
    }
}

/// If `addr` lies in a registered mapping, replace its page with zeros and record the fault.
fn zero_fill(addr: usize) -> bool {
    let page = PAGE_SIZE.load(SeqCst);
    let high = HIGH.load(SeqCst).min(SLOTS);
    for slot in &REGISTRY[..high] {
        let Some(off) = slot.covers(addr) else {
            continue;
        };
        let at = addr & !(page - 1);
        // SAFETY: `[at, at+page)` lies inside a live read-only mapping owned by a `Source` (the
        // registry covers only such mappings, rounded to whole pages) that is borrowed by the
        // faulting read, so replacing that page cannot clobber memory anyone else owns. The new page
        // is private, anonymous, read-only and zero-filled; the `Source`'s munmap covers it. mmap is
        // a plain system call on Linux (not on POSIX's async-signal-safe list, but it takes no
        // user-space locks).
        let r = unsafe {
            libc::mmap(
                at as *mut c_void,
                page,
                libc::PROT_READ,
                libc::MAP_FIXED | libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if r == libc::MAP_FAILED {
            return false;
        }
        slot.fault.fetch_min(off, SeqCst);
        return true;
    }
    false
}

/// Not ours: hand the fault to the previous handler, or restore the default action and return so
/// the faulting instruction runs again and the fault kills the process as it would have.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    if let Some(prev) = PREVIOUS.get() {
        let h = prev.sa_sigaction;
        if h != libc::SIG_DFL && h != libc::SIG_IGN {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: a handler registered with SA_SIGINFO has this signature; we call it with the
                // arguments the kernel gave us, as the kernel would have.
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut c_void) =
                    unsafe { std::mem::transmute(h) };
                f(sig, info, ctx);
            } else {
                // SAFETY: a handler registered without SA_SIGINFO takes the signal number only.
                let f: extern "C" fn(libc::c_int) = unsafe { std::mem::transmute(h) };
                f(sig);
            }
            return;
        }
    }
    // SAFETY: resetting SIGBUS to its default disposition; the struct is fully initialised. An
    // ignored synchronous SIGBUS is forced to the default action by the kernel anyway.
    unsafe {
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        libc::sigemptyset(&mut dfl.sa_mask);
        libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
    }
}
