/// An async sequence of byte chunks made by a closure on demand: the consumer's pace is the
/// producer's pace, so nothing is buffered beyond one chunk.
public struct ChunkSequence: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Producer = () async throws -> [UInt8]?

    private let make: @Sendable () throws -> Producer

    /// `make` is called once per iteration and returns the function that yields each chunk
    /// (nil at the end).
    public init(_ make: @escaping @Sendable () throws -> Producer) {
        self.make = make
    }

    public static let empty = ChunkSequence { { nil } }

    public static func of(_ bytes: [UInt8]) -> ChunkSequence {
        ChunkSequence {
            var sent = false
            return {
                if sent { return nil }
                sent = true
                return bytes
            }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var producer: Producer?
        var failure: (any Error)?

        public mutating func next() async throws -> [UInt8]? {
            if let failure { throw failure }
            guard let producer else { return nil }
            while true {
                guard let chunk = try await producer() else {
                    self.producer = nil
                    return nil
                }
                if !chunk.isEmpty { return chunk }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        do {
            return AsyncIterator(producer: try make())
        } catch {
            return AsyncIterator(producer: nil, failure: error)
        }
    }
}
