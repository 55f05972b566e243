import Synchronization

/// A value shared between tasks and threads, reached only under its lock: the one way imagegen
/// shares mutable state that is not an actor's (caches read from synchronous code, progress
/// counters, registries of open connections). A `Mutex` inside a class, so that it can be
/// stored and passed around; `Sendable` by construction, no `@unchecked` needed.
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    public init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with the value, under the lock. Never call back into the same `Locked` from
    /// `body`: the lock does not re-enter.
    public func withLock<Result: Sendable>(_ body: (inout sending Value) throws -> sending Result) rethrows -> Result {
        try mutex.withLock(body)
    }

    /// The value now.
    public var value: Value { mutex.withLock { $0 } }

    /// Replaces the value.
    public func set(_ value: sending Value) {
        mutex.withLock { $0 = value }
    }
}
