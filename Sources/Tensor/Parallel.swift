import Dispatch

/// One level of threading for the whole package: our own work splits across `threads` with
/// `DispatchQueue.concurrentPerform` while OpenBLAS runs single-threaded inside each piece
/// (see `BLAS.setThreads`). Splitting is by contiguous chunks, so for a fixed thread count the
/// assignment of work to chunks, and hence every reduction order, is the same run after run.
public enum Parallel {
    /// Runs `body(chunk, range)` for `chunks` contiguous pieces of 0..<count, concurrently when
    /// `chunks > 1`. Chunk `c` covers `range(of: c)`; empty chunks are skipped.
    public static func forEachChunk(
        count: Int, chunks: Int, _ body: (_ chunk: Int, _ range: Range<Int>) -> Void
    ) {
        let pieces = Swift.max(1, Swift.min(chunks, count))
        if pieces == 1 {
            if count > 0 { body(0, 0..<count) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: pieces) { c in
                let range = chunkRange(count: count, chunks: pieces, chunk: c)
                if !range.isEmpty { box.value(c, range) }
            }
        }
    }

    /// The contiguous range of chunk `chunk` when 0..<count is split into `chunks` near-equal pieces.
    public static func chunkRange(count: Int, chunks: Int, chunk: Int) -> Range<Int> {
        let base = count / chunks
        let extra = count % chunks
        let start = chunk * base + Swift.min(chunk, extra)
        return start..<(start + base + (chunk < extra ? 1 : 0))
    }
}

/// Carries a non-Sendable value (a raw pointer, a closure over buffers) into concurrent code whose
/// safety the caller guarantees: each task writes only its own disjoint part.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}
