import ContainerBasics
/// A semantic version as semver.org 2.0.0 defines it: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`.
///
/// Ordering follows the spec's precedence rules; build metadata does not take part in precedence,
/// so two versions that differ only in build metadata are ordered by that metadata's text purely
/// to keep `Comparable` a total order (use ``hasSamePrecedence(as:)`` to ask the spec's question).
public struct SemVer: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var major: UInt64
    public var minor: UInt64
    public var patch: UInt64
    public var prerelease: [String]
    public var build: [String]

    public init(major: UInt64, minor: UInt64, patch: UInt64, prerelease: [String] = [], build: [String] = []) {
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
    }

    public init(parsing text: String) throws(ValueError) {
        func fail(_ reason: String) -> ValueError { .semanticVersion(text, reason: reason) }
        var rest = Substring(text)
        var build: [String] = []
        if let plus = rest.firstIndex(of: "+") {
            build = try Self.identifiers(rest[rest.index(after: plus)...], kind: "build metadata", numericRule: false, text: text)
            rest = rest[..<plus]
        }
        var prerelease: [String] = []
        if let dash = rest.firstIndex(of: "-") {
            prerelease = try Self.identifiers(rest[rest.index(after: dash)...], kind: "pre-release", numericRule: true, text: text)
            rest = rest[..<dash]
        }
        let core = rest.split(separator: ".", omittingEmptySubsequences: false)
        guard core.count == 3 else { throw fail("expected MAJOR.MINOR.PATCH, e.g. 1.4.2") }
        var numbers: [UInt64] = []
        for (name, part) in zip(["major", "minor", "patch"], core) {
            guard !part.isEmpty, part.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw fail("\(name) version '\(part)' is not a non-negative integer")
            }
            guard part == "0" || part.first != "0" else { throw fail("\(name) version '\(part)' has a leading zero") }
            guard let value = UInt64(part) else { throw fail("\(name) version '\(part)' is too large") }
            numbers.append(value)
        }
        self.init(major: numbers[0], minor: numbers[1], patch: numbers[2], prerelease: prerelease, build: build)
    }

    private static func identifiers(_ text: Substring, kind: String, numericRule: Bool, text whole: String) throws(ValueError) -> [String] {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        var result: [String] = []
        for part in parts {
            guard !part.isEmpty else { throw .semanticVersion(whole, reason: "\(kind) has an empty identifier") }
            guard part.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw .semanticVersion(whole, reason: "\(kind) identifier '\(part)' may hold only [0-9A-Za-z-]")
            }
            if numericRule, part.count > 1, part.first == "0", part.allSatisfy(\.isNumber) {
                throw .semanticVersion(whole, reason: "numeric \(kind) identifier '\(part)' has a leading zero")
            }
            result.append(String(part))
        }
        return result
    }

    public var isPrerelease: Bool { !prerelease.isEmpty }

    public var description: String {
        var text = "\(major).\(minor).\(patch)"
        if !prerelease.isEmpty { text += "-" + prerelease.joined(separator: ".") }
        if !build.isEmpty { text += "+" + build.joined(separator: ".") }
        return text
    }

    /// The spec's precedence: -1, 0 or 1. Build metadata is ignored.
    public func comparePrecedence(_ other: SemVer) -> Int {
        for (a, b) in [(major, other.major), (minor, other.minor), (patch, other.patch)] where a != b {
            return a < b ? -1 : 1
        }
        switch (prerelease.isEmpty, other.prerelease.isEmpty) {
        case (true, true): return 0
        case (true, false): return 1
        case (false, true): return -1
        case (false, false): break
        }
        for (a, b) in zip(prerelease, other.prerelease) {
            let order = Self.compareIdentifier(a, b)
            if order != 0 { return order }
        }
        return prerelease.count == other.prerelease.count ? 0 : (prerelease.count < other.prerelease.count ? -1 : 1)
    }

    public func hasSamePrecedence(as other: SemVer) -> Bool { comparePrecedence(other) == 0 }

    private static func compareIdentifier(_ a: String, _ b: String) -> Int {
        let aNumeric = a.allSatisfy(\.isNumber), bNumeric = b.allSatisfy(\.isNumber)
        switch (aNumeric, bNumeric) {
        case (true, true):
            // No leading zeros, so the longer digit string is the larger number, without overflow.
            if a.count != b.count { return a.count < b.count ? -1 : 1 }
            return a == b ? 0 : (a < b ? -1 : 1)
        case (true, false): return -1
        case (false, true): return 1
        case (false, false): return a == b ? 0 : (Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) ? -1 : 1)
        }
    }

    public static func < (lhs: SemVer, rhs: SemVer) -> Bool {
        let order = lhs.comparePrecedence(rhs)
        if order != 0 { return order < 0 }
        return lhs.build.joined(separator: ".").utf8.lexicographicallyPrecedes(rhs.build.joined(separator: ".").utf8)
    }
}
