/// A Docker image reference, `[registry[:port]/]path[:tag][@algorithm:hex]`, validated by the
/// grammar of the distribution project's reference package (the one the engine itself uses).
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host (with port), when the first path component names one.
    public var registry: String?
    /// Slash-separated repository path, e.g. `library/debian` or `debian`.
    public var path: String
    public var tag: Tag?
    public var digest: Digest?

    public init(registry: String? = nil, path: String, tag: Tag? = nil, digest: Digest? = nil) {
        self.registry = registry
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    public init(_ repository: Repository, tag: Tag? = nil, digest: Digest? = nil) {
        self.init(registry: repository.registry, path: repository.path, tag: tag, digest: digest)
    }

    public init(parsing text: String) throws(IdentifierError) {
        func fail(_ reason: String) -> IdentifierError { IdentifierError("invalid image reference '\(text)': \(reason)") }
        guard !text.isEmpty else { throw fail("it is empty") }
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            let digest = String(rest[rest.index(after: at)...])
            guard let parsed = try? Digest(parsing: digest) else { throw fail("digest '\(digest)' is not algorithm:hex (e.g. sha256: and 64 hex digits)") }
            self.digest = parsed
            rest = rest[..<at]
        }
        // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
        let lastSlash = rest.lastIndex(of: "/")
        if let colon = rest.lastIndex(of: ":"), lastSlash.map({ colon > $0 }) ?? true {
            let tag = String(rest[rest.index(after: colon)...])
            guard Tag.isValid(tag) else { throw fail("tag '\(tag)' must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}") }
            self.tag = Tag(unchecked: tag)
            rest = rest[..<colon]
        }
        var components = rest.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard let first = components.first, !first.isEmpty else { throw fail("the repository name is empty") }
        if components.count > 1,
            first.contains(".") || first.contains(":") || first == "localhost"
                || first.contains(where: \.isUppercase)
        {
            guard Self.isValidDomain(first) else { throw fail("registry '\(first)' is not a valid host[:port]") }
            registry = first
            components.removeFirst()
        }
        for component in components {
            guard Self.isValidPathComponent(component) else {
                throw fail("repository component '\(component)' must be lowercase letters and digits separated by '.', '_', '__' or '-'")
            }
        }
        path = components.joined(separator: "/")
        guard (registry.map { $0.count + 1 } ?? 0) + path.count <= 255 else { throw fail("the name is longer than 255 characters") }
    }

    /// `registry/path` without tag or digest.
    public var repository: Repository { Repository(registry: registry, path: path) }

    public var description: String {
        var text = repository.description
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }

    /// True when a tag other than `latest`, or a digest, fixes what the reference names.
    public var isPinned: Bool { digest != nil || (tag != nil && tag != "latest") }

    // MARK: - Grammar

    private static func isWord(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    private static func isLowerAlnum(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x7A)
    }

    /// alpha-numeric (separator alpha-numeric)*, separator := [_.] | __ | [-]+
    static func isValidPathComponent(_ component: String) -> Bool {
        let bytes = Array(component.utf8)
        guard let first = bytes.first, let last = bytes.last, isLowerAlnum(first), isLowerAlnum(last) else { return false }
        var index = 0
        while index < bytes.count {
            if isLowerAlnum(bytes[index]) { index += 1; continue }
            var end = index
            while end < bytes.count, !isLowerAlnum(bytes[end]) { end += 1 }
            let separator = bytes[index..<end]
            let ok =
                separator.elementsEqual([UInt8(ascii: "_")]) || separator.elementsEqual([UInt8(ascii: ".")])
                || separator.elementsEqual([UInt8(ascii: "_"), UInt8(ascii: "_")])
                || separator.allSatisfy { $0 == UInt8(ascii: "-") }
            guard ok else { return false }
            index = end
        }
        return true
    }

    static func isValidDomain(_ domain: String) -> Bool {
        var host = Substring(domain)
        if let colon = domain.lastIndex(of: ":"), !domain.hasPrefix("[") || domain[..<colon].hasSuffix("]") {
            let port = domain[domain.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            host = domain[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") {
            return host.dropFirst().dropLast().allSatisfy { $0.isHexDigit || $0 == ":" }
        }
        return !host.isEmpty
            && host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
                let bytes = Array(part.utf8)
                guard let first = bytes.first, let last = bytes.last else { return false }
                let alnum: (UInt8) -> Bool = { isWord($0) && $0 != 0x5F }
                return alnum(first) && alnum(last) && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: "-") }
            }
    }
}
