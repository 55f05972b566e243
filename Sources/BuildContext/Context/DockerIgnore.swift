import ContainerBasics
import ImageGenValues
/// `.dockerignore` rules with the semantics of moby's patternmatcher (used by the docker CLI and
/// BuildKit): patterns are cleaned like Go's `filepath.Clean` with a leading `/` dropped; `*` and
/// `?` stop at `/`; `**` spans directories; `[...]` classes and `\` escapes work; a pattern that
/// matches a parent directory matches everything under it; the last matching pattern wins, and
/// `!pattern` re-includes.
public struct DockerIgnore: Sendable {
    struct Pattern: Sendable {
        var text: String
        var exclusion: Bool
        var tokens: [Token]
        /// moby matches `**` followed by plain text as a suffix test (`**foo` matches `barfoo`).
        var suffix: [UInt8]?
    }

    enum Token: Sendable, Equatable {
        case literal(UInt8)
        case anyRun  // *  : any bytes but '/'
        case anyOne  // ?  : one byte but '/'
        case anyDirs  // ** followed by more pattern: (.*/)?
        case anyTail  // ** at the end: .*
        case byteClass(negated: Bool, ranges: [ClosedRange<UInt8>])
    }

    public enum ParseError: Error, Sendable, CustomStringConvertible {
        case badPattern(line: Int, pattern: String, reason: String)

        public var description: String {
            switch self {
            case .badPattern(let line, let pattern, let reason): "line \(line): bad pattern '\(pattern)': \(reason)"
            }
        }
    }

    let patterns: [Pattern]

    /// No patterns: nothing is excluded.
    public init() { patterns = [] }

    public var hasExclusions: Bool { patterns.contains(where: \.exclusion) }
    public var isEmpty: Bool { patterns.isEmpty }

    public init(patterns lines: [String]) throws(ParseError) {
        var patterns: [Pattern] = []
        for (index, raw) in lines.enumerated() {
            var line = raw
            if index == 0, line.hasPrefix("\u{FEFF}") { line.removeFirst() }
            var pattern = line.trimmingWhitespace()
            if pattern.isEmpty || pattern.hasPrefix("#") { continue }
            let exclusion = pattern.hasPrefix("!")
            if exclusion { pattern = String(pattern.dropFirst()).trimmingWhitespace() }
            if exclusion, pattern.isEmpty {
                throw .badPattern(line: index + 1, pattern: raw, reason: "illegal exclusion pattern \"!\"")
            }
            pattern = Self.clean(pattern)
            if pattern.count > 1, pattern.hasPrefix("/") { pattern.removeFirst() }
            let tokens: [Token]
            do {
                tokens = try Self.compile(pattern)
            } catch {
                throw .badPattern(line: index + 1, pattern: raw, reason: error.reason)
            }
            var suffix: [UInt8]?
            if pattern.hasPrefix("**"), !pattern.dropFirst(2).contains(where: { "*?[]\\".contains($0) }) {
                suffix = Array(pattern.dropFirst(2).utf8)
            }
            patterns.append(Pattern(text: pattern, exclusion: exclusion, tokens: tokens, suffix: suffix))
        }
        self.patterns = patterns
    }

    public init(contents: String) throws(ParseError) {
        try self.init(patterns: contents.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }

    /// True when a pattern matches `path` itself, parents not considered (for globs over image
    /// paths, where `/var/lib/apt/lists/*` must not match the directory's parent).
    public func matchesExactly(_ path: String) -> Bool {
        let file = Array(path.utf8)
        var matched = false
        for pattern in patterns where pattern.exclusion == matched && Self.match(pattern, file[...]) {
            matched = !pattern.exclusion
        }
        return matched
    }

    /// True when `path` (slash-separated, relative to the context root) is excluded.
    ///
    /// A walk that does not enter excluded directories can pass `parentsIncluded` when there are
    /// no `!` patterns: then no pattern matches a parent it entered, and only the path itself
    /// needs matching.
    public func excludes(_ path: String, parentsIncluded: Bool = false) -> Bool {
        guard !patterns.isEmpty else { return false }
        let file = Array((Self.isClean(path) ? path : Self.clean(path)).utf8)
        let checkParents = !(parentsIncluded && !hasExclusions)
        var matched = false
        for pattern in patterns where pattern.exclusion == matched {
            var match = Self.match(pattern, file[...])
            if !match, checkParents {
                // Each parent directory prefix: for `a/b/c`, `a` and `a/b`.
                match = file.indices.contains { file[$0] == UInt8(ascii: "/") && Self.match(pattern, file[..<$0]) }
            }
            if match { matched = !pattern.exclusion }
        }
        return matched
    }

    // MARK: - Compiling

    private struct CompileError: Error { var reason: String }

    private static func compile(_ pattern: String) throws(CompileError) -> [Token] {
        let bytes = Array(pattern.utf8)
        var tokens: [Token] = []
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "*"):
                if i + 1 < bytes.count, bytes[i + 1] == UInt8(ascii: "*") {
                    i += 2
                    if i < bytes.count, bytes[i] == UInt8(ascii: "/") { i += 1 }
                    tokens.append(i >= bytes.count ? .anyTail : .anyDirs)
                    continue
                }
                tokens.append(.anyRun)
            case UInt8(ascii: "?"):
                tokens.append(.anyOne)
            case UInt8(ascii: "\\"):
                if i + 1 < bytes.count {
                    i += 1
                    tokens.append(.literal(bytes[i]))
                } else {
                    tokens.append(.literal(byte))
                }
            case UInt8(ascii: "["):
                var j = i + 1
                var negated = false
                if j < bytes.count, bytes[j] == UInt8(ascii: "^") {
                    negated = true
                    j += 1
                }
                var ranges: [ClosedRange<UInt8>] = []
                var first = true
                while j < bytes.count, bytes[j] != UInt8(ascii: "]") || first {
                    first = false
                    var low = bytes[j]
                    if low == UInt8(ascii: "\\"), j + 1 < bytes.count { j += 1; low = bytes[j] }
                    var high = low
                    if j + 2 < bytes.count, bytes[j + 1] == UInt8(ascii: "-"), bytes[j + 2] != UInt8(ascii: "]") {
                        high = bytes[j + 2]
                        if high == UInt8(ascii: "\\"), j + 3 < bytes.count { j += 1; high = bytes[j + 2] }
                        j += 2
                    }
                    guard low <= high else { throw CompileError(reason: "character range is out of order") }
                    ranges.append(low...high)
                    j += 1
                }
                guard j < bytes.count else { throw CompileError(reason: "unterminated character class '['") }
                tokens.append(.byteClass(negated: negated, ranges: ranges))
                i = j
            default:
                tokens.append(.literal(byte))
            }
            i += 1
        }
        return tokens
    }

    // MARK: - Matching

    /// Whole-path match of a compiled pattern, with backtracking for `*` and `**`.
    static func match(_ pattern: Pattern, _ path: ArraySlice<UInt8>) -> Bool {
        if let suffix = pattern.suffix {
            if path.count >= suffix.count, path.suffix(suffix.count).elementsEqual(suffix) { return true }
            return suffix.first == UInt8(ascii: "/") && path.elementsEqual(suffix.dropFirst())
        }
        return matchFrom(pattern.tokens[...], path)
    }

    private static func matchFrom(_ tokens: ArraySlice<Token>, _ path: ArraySlice<UInt8>) -> Bool {
        var tokens = tokens
        var path = path
        while let token = tokens.first {
            switch token {
            case .literal(let byte):
                guard path.first == byte else { return false }
                path = path.dropFirst()
            case .anyOne:
                guard let first = path.first, first != UInt8(ascii: "/") else { return false }
                path = path.dropFirst()
            case .byteClass(let negated, let ranges):
                // As in moby, a class becomes a Go regexp class, which may match '/'.
                guard let first = path.first else { return false }
                let inside = ranges.contains { $0.contains(first) }
                guard inside != negated else { return false }
                path = path.dropFirst()
            case .anyTail:
                return true
            case .anyRun:
                let rest = tokens.dropFirst()
                var candidate = path
                while true {
                    if matchFrom(rest, candidate) { return true }
                    guard let first = candidate.first, first != UInt8(ascii: "/") else { return false }
                    candidate = candidate.dropFirst()
                }
            case .anyDirs:
                // (.*/)? : nothing, or any prefix that ends with '/'.
                let rest = tokens.dropFirst()
                if matchFrom(rest, path) { return true }
                var index = path.startIndex
                while index < path.endIndex {
                    if path[index] == UInt8(ascii: "/"), matchFrom(rest, path[(index + 1)...]) { return true }
                    index += 1
                }
                return false
            }
            tokens = tokens.dropFirst()
        }
        return path.isEmpty
    }

    // MARK: - Paths

    /// Already in `clean`'s form: relative, no empty, `.` or `..` components, no trailing `/`.
    static func isClean(_ path: String) -> Bool {
        let bytes = path.utf8
        guard let first = bytes.first, let last = bytes.last, first != 0x2F, last != 0x2F else { return false }
        var previous: UInt8 = 0x2F
        var componentLength = 0
        var dots = 0
        for byte in bytes {
            if byte == 0x2F {
                if previous == 0x2F || (componentLength == dots && dots <= 2) { return false }
                componentLength = 0
                dots = 0
            } else {
                componentLength += 1
                if byte == 0x2E { dots += 1 }
            }
            previous = byte
        }
        return !(componentLength == dots && dots <= 2)
    }

    /// Go's `filepath.Clean` for slash paths: collapse `//`, drop `.`, resolve `..` lexically.
    package static func clean(_ path: String) -> String {
        guard !path.isEmpty else { return "." }
        let rooted = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                } else if !rooted {
                    parts.append(part)
                }
                continue
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        if rooted { return "/" + joined }
        return joined.isEmpty ? "." : joined
    }
}

extension DockerIgnore.ParseError: ClassifiedError {
    public var exitStatus: ExitStatus { .badInput }
}
