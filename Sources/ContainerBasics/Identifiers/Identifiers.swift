/// Why a string is not the identifier it should be.
public struct IdentifierError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// How many hex digits name a hash or a digest in short: in tags (`base:3b3b7aeed397`) and messages.
public let shortHashLength = 12

/// A layer's content hash: the SHA-256 of its canonical hash inputs, 64 lowercase hex digits.
/// Its first 12 digits are the layer's image tag.
public struct ContentHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let hex: String

    public init(parsing text: String) throws(IdentifierError) {
        guard text.utf8.count == 64, text.utf8.allSatisfy(isLowerHex) else {
            throw IdentifierError("'\(text)' is not a content hash (64 lowercase hex digits)")
        }
        hex = text
    }

    /// The hash's first digits, as messages and tags show it.
    public var short: String { String(hex.prefix(shortHashLength)) }
    /// The tag that names a layer's image by content.
    public var tag: Tag { Tag(unchecked: short) }
    public var description: String { hex }

    public static func < (lhs: ContentHash, rhs: ContentHash) -> Bool { lhs.hex < rhs.hex }
}

/// A content-addressed identifier, `algorithm:hex` (`sha256:…`): image IDs, diff IDs, manifest
/// and blob digests.
public struct Digest: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let algorithm: String
    public let hex: String

    public init(parsing text: String) throws(IdentifierError) {
        guard let colon = text.firstIndex(of: ":") else { throw IdentifierError("'\(text)' is not a digest (algorithm:hex, e.g. sha256:…)") }
        let algorithm = String(text[..<colon]), hex = String(text[text.index(after: colon)...])
        let algorithmOK =
            algorithm.first.map { $0.isASCII && $0.isLetter } == true
            && algorithm.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "+.-_".contains($0)) }
        let hexOK = hex.utf8.count >= 32 && hex.utf8.allSatisfy(isLowerHex)
        guard algorithmOK, hexOK, algorithm != "sha256" || hex.utf8.count == 64 else {
            throw IdentifierError("'\(text)' is not a digest (algorithm:hex, e.g. sha256: and 64 lowercase hex digits)")
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    /// `sha256:<hex>` of bytes already hashed.
    public init(sha256 hex: String) throws(IdentifierError) {
        try self.init(parsing: "sha256:" + hex)
    }

    public var short: String { String(hex.prefix(shortHashLength)) }
    public var description: String { "\(algorithm):\(hex)" }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.description < rhs.description }
}

/// What an engine calls an image: the digest of its config.
public typealias ImageID = Digest

/// A tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
public struct Tag: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let value: String

    public init(parsing text: String) throws(IdentifierError) {
        guard Self.isValid(text) else { throw IdentifierError("tag '\(text)' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}") }
        value = text
    }

    /// For text already known to be a tag (a hash prefix, a literal).
    init(unchecked text: String) { value = text }

    public init(stringLiteral value: String) {
        precondition(Self.isValid(value), "'\(value)' is not a tag")
        self.value = value
    }

    public static let latest: Tag = "latest"
    public var description: String { value }

    public static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWordByte(first) else { return false }
        return bytes.dropFirst().allSatisfy { isWordByte($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}

/// A repository: `[registry[:port]/]path`, as an image reference names it without tag or digest.
public struct Repository: Hashable, Sendable, CustomStringConvertible {
    /// Registry host (with port), when the first path component names one.
    public let registry: String?
    /// Slash-separated path, e.g. `library/debian` or `team/opencode-sandbox-base`.
    public let path: String

    public init(parsing text: String) throws(IdentifierError) {
        do {
            let reference = try ImageReference(parsing: text)
            guard reference.tag == nil, reference.digest == nil else { throw IdentifierError("'\(text)' is a repository with a tag or digest") }
            self = reference.repository
        } catch let error as IdentifierError {
            throw error
        } catch {
            throw IdentifierError("'\(text)' is not a repository: \(error)")
        }
    }

    init(registry: String?, path: String) {
        self.registry = registry
        self.path = path
    }

    /// A repository on no registry whose path is already known to be valid (a recipe's image
    /// names, checked when the recipe is read).
    public init(validatedPath path: String) {
        self.registry = nil
        self.path = path
    }

    /// This repository in `registry/namespace` (`127.0.0.1:5000/team` + `app` → `127.0.0.1:5000/team/app`).
    public func prefixed(with prefix: String) throws(IdentifierError) -> Repository {
        let trimmed = prefix.trimmingSlashes
        return trimmed.isEmpty ? self : try Repository(parsing: trimmed + "/" + description)
    }

    public var description: String { registry.map { "\($0)/\(path)" } ?? path }

    /// `repository:tag`, as the engine and `docker` take it.
    public func reference(_ tag: Tag) -> String { "\(description):\(tag)" }
    public func reference(_ digest: Digest) -> String { "\(description)@\(digest)" }
}

@inline(__always) func isLowerHex(_ byte: UInt8) -> Bool { (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66) }

@inline(__always) func isWordByte(_ byte: UInt8) -> Bool {
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
}

extension String {
    var trimmingSlashes: String {
        var text = Substring(self)
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return String(text)
    }
}

// MARK: - JSON

extension ContentHash: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)")) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

extension Digest: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)")) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension IdentifierError: ClassifiedError {
    public var exitStatus: ExitStatus { .badInput }
}
