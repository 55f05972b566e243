import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import DockerEngine

/// Carries chunks from an async producer (an HTTP body) to a consumer thread that reads them
/// synchronously (libarchive). At most `capacity` chunks wait in between: a slow consumer slows
/// the producer down instead of filling memory.
///
/// Unchecked because it is a channel, not a lock: the consumer thread waits on the condition for
/// the producer's next chunk, which a `Mutex` cannot do; every field is read and written with
/// the condition held.
final class ChunkPipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var finished = false
    private var failure: (any Error)?
    private var consumerGone = false
    private var waitingProducer: CheckedContinuation<Void, Never>?
    let capacity: Int

    init(capacity: Int = 16) { self.capacity = capacity }

    /// Adds a chunk, waiting while the pipe is full. False when the consumer has stopped.
    func push(_ chunk: [UInt8]) async -> Bool {
        while true {
            let accepted: Bool? = condition.withLock {
                if consumerGone { return false }
                guard chunks.count < capacity else { return nil }
                chunks.append(chunk)
                condition.signal()
                return true
            }
            if let accepted { return accepted }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = condition.withLock {
                    if chunks.count < capacity || consumerGone { return true }
                    waitingProducer = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// No more chunks; `error` when the producer failed.
    func finish(_ error: (any Error)? = nil) {
        condition.withLock {
            finished = true
            failure = error
            condition.broadcast()
        }
    }

    /// The next chunk (blocking the calling thread), or an empty array at the end.
    func pop() throws -> [UInt8] {
        condition.lock()
        while chunks.isEmpty, !finished { condition.wait() }
        if chunks.isEmpty {
            let failure = self.failure
            condition.unlock()
            if let failure { throw failure }
            return []
        }
        let chunk = chunks.removeFirst()
        let producer = waitingProducer
        waitingProducer = nil
        condition.unlock()
        producer?.resume()
        return chunk
    }

    /// The consumer stops early; a waiting producer is released.
    func close() {
        let producer: CheckedContinuation<Void, Never>? = condition.withLock {
            consumerGone = true
            defer { waitingProducer = nil }
            return waitingProducer
        }
        producer?.resume()
    }
}
