import ContainerBasics
/// A position in a source file, 1-based, as editors and compilers print it.
public struct SourceLocation: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One finding about a recipe or its inputs, printed as `file:line:col: error: message`.
public struct Diagnostic: Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable, Comparable {
        case error, warning, note

        private var rank: Int {
            switch self {
            case .error: 0
            case .warning: 1
            case .note: 2
            }
        }

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    public var severity: Severity
    /// Where the problem is; a file with no position uses line 0.
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, _ message: String, at location: SourceLocation) {
        self.severity = severity
        self.message = message
        self.location = location
    }

    public var description: String {
        if location.line == 0 {
            return "\(location.file): \(severity.rawValue): \(message)"
        }
        return "\(location): \(severity.rawValue): \(message)"
    }
}

/// Collects every finding of a run so that a user sees all mistakes at once (as swift-format does),
/// then the command exits non-zero once.
public struct Diagnostics: Sendable, Sequence {
    public private(set) var items: [Diagnostic] = []

    public init() {}

    public mutating func error(_ message: String, at location: SourceLocation) {
        items.append(Diagnostic(.error, message, at: location))
    }

    public mutating func warning(_ message: String, at location: SourceLocation) {
        items.append(Diagnostic(.warning, message, at: location))
    }

    public mutating func append(_ diagnostic: Diagnostic) { items.append(diagnostic) }

    public mutating func append(contentsOf other: Diagnostics) { items.append(contentsOf: other.items) }

    public var hasErrors: Bool { items.contains { $0.severity == .error } }
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }
    public var isEmpty: Bool { items.isEmpty }

    /// Findings in file order, duplicates removed, so output is stable whatever order checks ran in.
    public var sorted: [Diagnostic] {
        var seen = Set<Diagnostic>()
        return
            items
            .filter { seen.insert($0).inserted }
            .sorted { ($0.location, $0.severity, $0.message) < ($1.location, $1.severity, $1.message) }
    }

    public func makeIterator() -> IndexingIterator<[Diagnostic]> { sorted.makeIterator() }
}
