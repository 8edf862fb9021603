import Dispatch

/// One level of threading for the whole package: our own work splits across `threads` with
/// `DispatchQueue.concurrentPerform` while OpenBLAS runs single-threaded inside each piece
/// (see `BLAS.setThreads`). Splitting is by contiguous chunks; sums over items (a batch's parameter gradients,
/// the Hessian's sums over samples) use `forEachPiece`, whose pieces do not depend on the thread count, so results
/// are the same bytes at any thread count.
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

    /// Pieces a reduction over items (images of a batch) is split into, whatever the thread count: each piece sums
    /// its items in order into its own accumulator, and the accumulators are added in piece order, so a result
    /// does not depend on `threads` (the same bytes at 1, 2 or 3 threads).
    public static let reductionPieces = 8

    /// Runs `body(piece, range)` for the `pieces` contiguous pieces of 0..<count (empty ones skipped), with the pieces
    /// dealt out to `threads` workers in contiguous runs. Which items form a piece depends only on `count` and
    /// `pieces`, never on `threads`: per-piece accumulators then give thread-count-independent sums.
    public static func forEachPiece(
        count: Int, pieces: Int, threads: Int, _ body: (_ piece: Int, _ range: Range<Int>) -> Void
    ) {
        let pieceCount = Swift.max(1, Swift.min(pieces, count))
        forEachChunk(count: pieceCount, chunks: threads) { _, pieceRange in
            for piece in pieceRange {
                let range = chunkRange(count: count, chunks: pieceCount, chunk: piece)
                if !range.isEmpty { body(piece, range) }
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
