import ContainerBasics
/// A value with the place in a source file it came from, so later stages can point at it.
public struct Located<Value: Sendable & Hashable>: Sendable, Hashable {
    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }
}

/// An ordered `key: value` pair from the recipe (env, labels, args).
public struct KeyValue: Sendable, Hashable {
    public var key: String
    public var value: String
    public var location: SourceLocation

    public init(key: String, value: String, location: SourceLocation) {
        self.key = key
        self.value = value
        self.location = location
    }
}
