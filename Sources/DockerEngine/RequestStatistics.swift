import ContainerBasics

/// Counts of requests by call name, shared by every task using one engine client.
public final class RequestStatistics: Sendable {
    private let counts = Locked<[String: Int]>([:])

    public init() {}

    func record(_ name: String) {
        counts.withLock { $0[name, default: 0] += 1 }
    }

    public func count(_ name: String) -> Int { counts.value[name, default: 0] }

    public var all: [String: Int] { counts.value }
}
