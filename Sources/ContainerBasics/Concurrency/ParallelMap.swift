import Dispatch
import Foundation
import Synchronization

/// Runs `body` for indices `0..<count` on every core (as many workers as cores, each taking the
/// next index), returning the results in index order. It blocks the calling thread: call it
/// from synchronous code, or from a task through ``BlockingWork``.
public enum ParallelMap {
    public static func run<T: Sendable>(count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        let results = Locked<[T?]>(Array(repeating: nil, count: count))
        let next = Atomic<Int>(0)
        let workers = min(count, max(1, ProcessInfo.processInfo.activeProcessorCount))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while true {
                let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard index < count else { return }
                let result = body(index)
                results.withLock { $0[index] = result }
            }
        }
        return results.value.map { $0! }
    }
}
