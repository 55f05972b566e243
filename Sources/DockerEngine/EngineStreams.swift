import ContainerBasics
import Foundation

/// The decoded messages of a build, as they arrive.
public struct BuildMessageStream: AsyncSequence, Sendable {
    public typealias Element = BuildMessage
    let body: ChunkSequence

    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: ChunkSequence.AsyncIterator
        var decoder = JSONLineDecoder()
        var queued: [BuildMessage] = []
        var ended = false

        public mutating func next() async throws -> BuildMessage? {
            while queued.isEmpty {
                if ended { return nil }
                if let chunk = try await chunks.next() {
                    queued = decoder.feed(chunk)
                } else {
                    ended = true
                    queued = decoder.finish()
                }
            }
            return queued.removeFirst()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: body.makeAsyncIterator()) }
}

/// Splits the engine's multiplexed log stream: frames of an 8-byte header (stream 1 or 2,
/// three zero bytes, a big-endian length) and that many bytes.
struct LogDemultiplexer {
    let limit: Int
    var pending: [UInt8] = []
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func feed(_ chunk: [UInt8]) {
        pending.append(contentsOf: chunk)
        var offset = 0
        while pending.count - offset >= 8 {
            let stream = pending[offset]
            let length = Int(pending[offset + 4]) << 24 | Int(pending[offset + 5]) << 16 | Int(pending[offset + 6]) << 8 | Int(pending[offset + 7])
            guard pending.count - offset - 8 >= length else { break }
            let payload = pending[(offset + 8)..<(offset + 8 + length)]
            if stream == 2 {
                if stderr.count < limit { stderr.append(contentsOf: payload.prefix(limit - stderr.count)) }
            } else if stdout.count < limit {
                stdout.append(contentsOf: payload.prefix(limit - stdout.count))
            }
            offset += 8 + length
        }
        pending.removeFirst(offset)
    }
}
