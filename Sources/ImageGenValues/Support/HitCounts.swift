/// How often a cache answered, and how often not.
package struct HitCounts: Sendable, Equatable {
    package var hits = 0
    package var misses = 0

    package init() {}

    package mutating func count(found: Bool) {
        if found { hits += 1 } else { misses += 1 }
    }
}
