import Foundation

/// Thread-safe counts of requests by call name.
public final class RequestStatistics: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init() {}

    func record(_ name: String) {
        lock.lock()
        counts[name, default: 0] += 1
        lock.unlock()
    }

    public func count(_ name: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return counts[name, default: 0]
    }

    public var all: [String: Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}
