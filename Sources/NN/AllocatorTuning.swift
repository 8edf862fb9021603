#if os(Linux)
/// glibc's `int mallopt(int param, int value)` (malloc.h is not part of the Glibc module).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// malloc.h: M_TRIM_THRESHOLD = -1, M_MMAP_MAX = -4, M_ARENA_MAX = -8.
private let trimThreshold: Int32 = -1
private let mmapMaximum: Int32 = -4
private let arenaMaximum: Int32 = -8
#endif

/// Process-wide memory-allocator setting for training programs (call once at start, from the tool).
///
/// Every batch allocates and frees activation tensors of tens of MiB. glibc serves blocks above its
/// mmap threshold (at most 32 MiB) with fresh `mmap`s, so each batch pays a page fault and a kernel
/// page clear for every 4 KiB touched: measured 20% of a training step's time (same3x3, 128 px,
/// batch 32: 1090-1180 ms per batch before, 700-780 ms after, same peak RSS). Serving every block from
/// the heap and never trimming it keeps the pages mapped and reused from batch to batch.
/// One arena for every thread: the evaluation and the denoiser allocate their activations in worker threads
/// (depth first, an image at a time), and glibc's per-thread arenas grow in heaps of their own that it unmaps
/// when they empty, whatever the trim threshold (at 256 px: 53 munmap calls against 17, and 0.4-0.5 s more system
/// time per `bench` run); the main arena keeps them.
public enum AllocatorTuning {
    /// Serve large blocks from the heap and keep freed memory in the process. Returns false where
    /// unsupported (non-glibc platforms).
    @discardableResult
    public static func retainFreedMemory() -> Bool {
        #if os(Linux)
        return glibcMallopt(mmapMaximum, 0) == 1 && glibcMallopt(trimThreshold, Int32.max) == 1
            && glibcMallopt(arenaMaximum, 1) == 1
        #else
        return false
        #endif
    }
}
