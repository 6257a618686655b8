//! Allocator tuning for the large, short-lived buffers of the pipeline.
//!
//! glibc returns every allocation above `M_MMAP_THRESHOLD` (128 KiB by default, adapting
//! upwards) to the kernel on free, so a fresh 30 MB activation buffer faults in new zeroed pages
//! every time. PERFORMANCE.md measured that keeping such memory in the heap roughly doubled the
//! throughput of a forward pass at batch 101-256. The fast kernels also reuse their buffers; this
//! tuning helps everything else (candle, the stages' own vectors).

/// Keeps large allocations in the heap instead of mapping and unmapping them on every use:
/// sets glibc's `M_MMAP_THRESHOLD` to 1 GiB and `M_TRIM_THRESHOLD` to its maximum.
///
/// Call it once at the top of `main`, before any threads start. On targets other than
/// linux-gnu it does nothing.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only changes allocator parameters; it is safe to call at any time
        // (glibc serialises it with the arena locks), and failure is reported by a 0 return,
        // which just leaves the default behaviour in place.
        let ok_mmap = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30) };
        // SAFETY: as above.
        let ok_trim = unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, libc::c_int::MAX) };
        if ok_mmap == 0 || ok_trim == 0 {
            tracing::debug!("mallopt refused the allocator tuning; keeping glibc's defaults");
        }
    }
}
