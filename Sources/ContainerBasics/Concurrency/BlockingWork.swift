import Dispatch

/// Work that blocks a thread (libarchive reading a stream, hashing files with
/// `concurrentPerform`, a synchronous subprocess wait) run where it cannot starve Swift's
/// cooperative pool: on a queue of its own, the awaiting task suspended meanwhile. The one way
/// imagegen does that.
public enum BlockingWork {
    private static let queue = DispatchQueue(label: "imagegen.blocking", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` off the cooperative pool and returns its result.
    public static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Swift.Result { try body() })
            }
        }
    }

    /// `run` for work that does not throw.
    public static func run<Value: Sendable>(_ body: @escaping @Sendable () -> Value) async -> Value {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
