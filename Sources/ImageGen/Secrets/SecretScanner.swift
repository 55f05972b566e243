import CByteScan

/// A secret found in a file: which rule and where. It never holds the secret's value, so a
/// finding can be printed and logged safely.
public struct SecretFinding: Sendable, Hashable, CustomStringConvertible {
    public var rule: String
    public var summary: String
    /// 1-based, or 0 when the finding is about the file's name.
    public var line: Int
    public var column: Int

    public var description: String { "\(summary) [\(rule)] (value redacted)" }
}

/// Streaming detector for credentials in file contents: PEM private keys, AWS access key ids,
/// GitHub, OpenAI, Anthropic and Slack tokens, and (when `generic` is on) `key = value`
/// assignments whose value has the entropy of a real secret. Feed it chunks as they are read.
///
/// A small C kernel finds, sixteen bytes at a time, the few places where a secret can start;
/// only those are looked at further, so scanning keeps pace with hashing. Files with a NUL byte in their first 8000 bytes
/// are treated as binary and skipped, as git and trivy do.
public struct SecretScanner: Sendable {
    public struct Options: Sendable {
        /// The entropy-gated `password = …` rule (noisy on docs, so off for context files).
        public var generic = false
        /// `auths` entries with credentials in a Docker `config.json`.
        public var dockerConfig = false

        public init(generic: Bool = false, dockerConfig: Bool = false) {
            self.generic = generic
            self.dockerConfig = dockerConfig
        }
    }

    /// Longest stretch a rule reads past its first byte; bytes are scanned only once this much
    /// look-ahead has arrived (or the file ended).
    /// Bumped whenever a rule is added or changed, so that caches holding "this file has no
    /// secret" (``DigestCache``, ``LayerMemo``) scan again.
    public static let rulesVersion = 1

    static let lookahead = 320
    static let lookbehind = 64
    static let binarySniffLength = 8000

    private let options: Options
    /// Bytes kept from earlier chunks (look-behind) followed by bytes not scanned yet.
    private var window: [UInt8] = []
    /// Index in `window` of the first byte not scanned yet.
    private var next = 0
    private var line = 1
    private var lineStartOffset = 0
    /// Absolute offset of `window[0]` in the file.
    private var windowOffset = 0
    private var sniffed = 0
    public private(set) var isBinary = false
    public private(set) var findings: [SecretFinding] = []

    public init(options: Options = Options()) {
        self.options = options
    }



    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        guard !isBinary, !chunk.isEmpty else { return }
        if sniffed < Self.binarySniffLength {
            let count = min(chunk.count, Self.binarySniffLength - sniffed)
            if chunk[0..<count].contains(0) {
                isBinary = true
                window = []
                return
            }
            sniffed += count
        }
        window.append(contentsOf: chunk)
        scan(until: window.count - Self.lookahead)
        // Keep a little look-behind for the generic rule and everything not scanned yet.
        let keepFrom = max(0, next - Self.lookbehind)
        if keepFrom > 65_536 || (keepFrom > 0 && keepFrom * 2 > window.count) {
            window.removeFirst(keepFrom)
            windowOffset += keepFrom
            next -= keepFrom
        }
    }

    public mutating func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Scans what is left; call once after the last chunk.
    public mutating func finish() -> [SecretFinding] {
        if !isBinary { scan(until: window.count) }
        window = []
        return findings
    }

    /// Findings for a whole buffer at once.
    public static func scan(_ bytes: [UInt8], options: Options = Options()) -> (findings: [SecretFinding], binary: Bool) {
        var scanner = SecretScanner(options: options)
        scanner.feed(bytes)
        let findings = scanner.finish()
        return (findings, scanner.isBinary)
    }

    // MARK: - The scan loop

    private mutating func scan(until end: Int) {
        guard end > next else { return }
        var found: [(offset: Int, rule: String, summary: String)] = []
        let start = next
        var position = start
        let options = self.options
        let flags = (options.generic ? UInt32(IMAGEGEN_SCAN_GENERIC) : 0) | (options.dockerConfig ? UInt32(IMAGEGEN_SCAN_DOCKER_CONFIG) : 0)
        window.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var i = start
            while i < end {
                // The C kernel skips, sixteen bytes at a time, to where a secret may start.
                i = imagegen_next_secret_candidate(base, buffer.count, i, end, flags)
                guard i < end else { break }
                if let (rule, summary, length) = Self.match(at: i, in: buffer, options: options) {
                    found.append((i, rule, summary))
                    i = min(i + max(length, 1), buffer.count)
                } else {
                    i += 1
                }
            }
            position = max(i, end)
        }
        // A finding's line and column are worked out only when there is one.
        var cursor = start
        for hit in found {
            advanceLines(from: cursor, to: hit.offset)
            cursor = hit.offset
            findings.append(SecretFinding(rule: hit.rule, summary: hit.summary, line: line, column: windowOffset + hit.offset - lineStartOffset + 1))
        }
        advanceLines(from: cursor, to: position)
        next = position
    }

    /// Counts the newlines in `window[from..<to]` into `line` and `lineStartOffset`.
    private mutating func advanceLines(from: Int, to: Int) {
        guard to > from else { return }
        var lastNewline = 0
        let count = window.withUnsafeBufferPointer { buffer in
            imagegen_count_newlines(buffer.baseAddress!, from, to, &lastNewline)
        }
        if count > 0 {
            line += count
            lineStartOffset = windowOffset + lastNewline + 1
        }
    }

    // MARK: - Rules

    private static func isAlnum(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    private static func isUpperOrDigit(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) }
    private static func isTokenByte(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F || b == 0x2D }

    private static func hasPrefix(_ buffer: UnsafeBufferPointer<UInt8>, _ i: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard i + count <= buffer.count else { return false }
        let bytes = prefix.utf8Start
        for k in 0..<count where buffer[i + k] != bytes[k] { return false }
        return true
    }

    /// Length of the run of bytes satisfying `accept` starting at `i`, at most `limit`.
    private static func run(_ buffer: UnsafeBufferPointer<UInt8>, from i: Int, limit: Int, _ accept: (UInt8) -> Bool) -> Int {
        var j = i
        let stop = min(buffer.count, i + limit)
        while j < stop, accept(buffer[j]) { j += 1 }
        return j - i
    }

    private static func boundaryBefore(_ buffer: UnsafeBufferPointer<UInt8>, _ i: Int) -> Bool {
        i == 0 || !isAlnum(buffer[i - 1])
    }

    private static let awsPrefixes: [StaticString] = ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"]
    private static let githubPrefixes: [StaticString] = ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]

    static func match(at i: Int, in b: UnsafeBufferPointer<UInt8>, options: Options) -> (String, String, Int)? {
        switch b[i] {
        case UInt8(ascii: "A"):
            guard boundaryBefore(b, i), i + 20 <= b.count else { return nil }
            guard awsPrefixes.contains(where: { hasPrefix(b, i, $0) }) else { return nil }
            guard run(b, from: i + 4, limit: 16, isUpperOrDigit) == 16 else { return nil }
            guard i + 20 == b.count || !isAlnum(b[i + 20]) else { return nil }
            return ("aws-access-key-id", "AWS access key id", 20)
        case UInt8(ascii: "g"):
            guard boundaryBefore(b, i) else { return nil }
            if hasPrefix(b, i, "github_pat_") {
                let length = run(b, from: i + 11, limit: 255, { isAlnum($0) || $0 == 0x5F })
                return length >= 22 ? ("github-token", "GitHub fine-grained token", 11 + length) : nil
            }
            for prefix in githubPrefixes where hasPrefix(b, i, prefix) {
                let length = run(b, from: i + 4, limit: 255, isAlnum)
                return length >= 36 ? ("github-token", "GitHub token", 4 + length) : nil
            }
            return nil
        case UInt8(ascii: "s"):
            guard boundaryBefore(b, i), hasPrefix(b, i, "sk-") else { return nil }
            if hasPrefix(b, i, "sk-ant-") {
                let length = run(b, from: i + 7, limit: 255, isTokenByte)
                return length >= 32 ? ("anthropic-api-key", "Anthropic API key", 7 + length) : nil
            }
            let length = run(b, from: i + 3, limit: 255, isTokenByte)
            guard length >= 32 else { return nil }
            var digits = 0, letters = 0
            for k in (i + 3)..<(i + 3 + length) {
                let byte = b[k]
                if byte >= 0x30 && byte <= 0x39 { digits += 1 } else if isAlnum(byte) { letters += 1 }
            }
            guard digits >= 2, letters >= 8 else { return nil }
            return ("openai-api-key", "OpenAI API key", 3 + length)
        case UInt8(ascii: "x"):
            guard boundaryBefore(b, i), hasPrefix(b, i, "xox"), i + 5 <= b.count,
                  "abprs".utf8.contains(b[i + 3]), b[i + 4] == UInt8(ascii: "-")
            else { return nil }
            let length = run(b, from: i + 5, limit: 255, { isAlnum($0) || $0 == 0x2D })
            return length >= 10 ? ("slack-token", "Slack token", 5 + length) : nil
        case UInt8(ascii: "-"):
            guard hasPrefix(b, i, "-----BEGIN ") else { return nil }
            let kind = run(b, from: i + 11, limit: 48, { ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x20 })
            let label = i + 11 + kind
            // "...PRIVATE KEY-----" or "PGP PRIVATE KEY BLOCK-----"
            let text = String(decoding: UnsafeBufferPointer(rebasing: b[(i + 11)..<label]), as: UTF8.self)
            guard text.hasSuffix("PRIVATE KEY") || text.hasSuffix("PRIVATE KEY BLOCK"),
                  hasPrefix(b, label, "-----")
            else { return nil }
            return ("private-key", "PEM private key", 16 + kind)
        case UInt8(ascii: "="), UInt8(ascii: ":"):
            return options.generic ? genericAssignment(at: i, in: b) : nil
        case UInt8(ascii: "\""):
            return options.dockerConfig ? dockerConfigAuth(at: i, in: b) : nil
        default:
            return nil
        }
    }

    // MARK: - Generic assignments

    static let secretKeyWords = ["password", "passwd", "secret", "token", "apikey", "api_key", "api-key",
                                 "access_key", "accesskey", "private_key", "client_secret", "auth"]

    /// `NAME = value` or `"name": "value"` where NAME names a credential and the value looks random.
    private static func genericAssignment(at i: Int, in b: UnsafeBufferPointer<UInt8>) -> (String, String, Int)? {
        // The key: identifier characters before the operator, skipping spaces and a closing quote.
        var k = i - 1
        while k >= 0, b[k] == 0x20 || b[k] == 0x22 || b[k] == 0x27 { k -= 1 }
        let keyEnd = k + 1
        while k >= 0, keyEnd - k <= 48, isAlnum(b[k]) || b[k] == 0x5F || b[k] == 0x2D || b[k] == 0x2E { k -= 1 }
        let keyStart = k + 1
        guard keyEnd > keyStart else { return nil }
        let key = String(decoding: UnsafeBufferPointer(rebasing: b[keyStart..<keyEnd]), as: UTF8.self).lowercased()
        guard secretKeyWords.contains(where: key.hasSuffix) || secretKeyWords.contains(where: { key.contains($0) && key.hasSuffix("key") }) else { return nil }
        // The value: after spaces and an opening quote, a run of characters a credential is made
        // of, which must end at a delimiter. Code (`strdup(x)`, `$obj->{key}`, `qr/[...]/`) stops at
        // a character that is neither, and is not a credential.
        var v = i + 1
        while v < b.count, b[v] == 0x20 || b[v] == 0x22 || b[v] == 0x27 { v += 1 }
        let valueStart = v
        while v < b.count, v - valueStart < 200, isCredentialByte(b[v]) { v += 1 }
        let value = UnsafeBufferPointer(rebasing: b[valueStart..<v])
        guard v == b.count || isDelimiter(b[v]), value.count >= 16, value.first != UInt8(ascii: "$") else { return nil }
        var digits = 0, letters = 0
        for byte in value {
            if byte >= 0x30 && byte <= 0x39 { digits += 1 } else if isAlnum(byte) { letters += 1 }
        }
        guard digits >= 2, letters >= 4, entropy(value) >= 3.5, !looksLikePlaceholder(value) else { return nil }
        return ("generic-secret", "credential assigned to '\(key)'", v - i)
    }

    /// Letters, digits and the punctuation passwords and tokens use.
    private static func isCredentialByte(_ byte: UInt8) -> Bool {
        isAlnum(byte) || "+/=_-.~!@#$%^*?:".utf8.contains(byte)
    }

    /// What may follow a value in configuration: the end of the line or string, or a separator.
    private static func isDelimiter(_ byte: UInt8) -> Bool {
        byte <= 0x20 || "\"'`,;&)}]".utf8.contains(byte)
    }

    /// Shannon entropy in bits per byte.
    static func entropy(_ bytes: UnsafeBufferPointer<UInt8>) -> Double {
        var counts = [Int](repeating: 0, count: 256)
        for byte in bytes { counts[Int(byte)] += 1 }
        let total = Double(bytes.count)
        var result = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / total
            result -= p * log2(p)
        }
        return result
    }

    private static func log2(_ x: Double) -> Double {
        // Foundation-free log2 via the natural logarithm series would be slow; use the C library.
        _log2(x)
    }

    private static func looksLikePlaceholder(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return text.hasPrefix("${") || text.hasPrefix("$(") || text.hasPrefix("<") || text.hasPrefix("{{")
            || text.contains("changeme") || text.contains("example") || text.contains("placeholder")
            || text.contains("xxxx") || text.contains("redacted")
    }

    // MARK: - Docker config

    private static func dockerConfigAuth(at i: Int, in b: UnsafeBufferPointer<UInt8>) -> (String, String, Int)? {
        guard hasPrefix(b, i, "\"auth\"") || hasPrefix(b, i, "\"identitytoken\"") else { return nil }
        var v = i + 1
        while v < b.count, b[v] != 0x22 { v += 1 }
        v += 1
        while v < b.count, b[v] == 0x20 || b[v] == 0x3A { v += 1 }
        guard v < b.count, b[v] == 0x22 else { return nil }
        let length = run(b, from: v + 1, limit: 4096, { $0 != 0x22 })
        return length >= 4 ? ("docker-config-auth", "Docker registry credentials in config.json", v + 1 + length - i) : nil
    }

    // MARK: - File names

    /// A finding for files whose very name says they hold secrets (`.env`, `id_rsa`, …).
    public static func nameFinding(for fileName: String) -> SecretFinding? {
        let benign = [".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"]
        if fileName == ".env" || (fileName.hasPrefix(".env.") && !benign.contains(fileName)) {
            return SecretFinding(rule: "dotenv-file", summary: "environment file '\(fileName)' (usually holds credentials)", line: 0, column: 0)
        }
        if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"].contains(fileName) {
            return SecretFinding(rule: "ssh-private-key-file", summary: "SSH private key file '\(fileName)'", line: 0, column: 0)
        }
        if [".git-credentials", ".netrc", ".pgpass"].contains(fileName) {
            return SecretFinding(rule: "credentials-file", summary: "credentials file '\(fileName)'", line: 0, column: 0)
        }
        return nil
    }
}

#if canImport(Glibc)
import Glibc
private func _log2(_ x: Double) -> Double { Glibc.log2(x) }
#elseif canImport(Darwin)
import Darwin
private func _log2(_ x: Double) -> Double { Darwin.log2(x) }
#endif
