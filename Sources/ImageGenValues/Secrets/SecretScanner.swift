import CByteScan
import ContainerBasics

/// A secret found in a file or a string: which rule and where. It never holds the secret's
/// value, so a finding can be printed and logged safely.
public struct SecretFinding: Sendable, Hashable, CustomStringConvertible {
    public var rule: String
    public var summary: String
    /// 1-based, or 0 when the finding is about the file's name.
    public var line: Int
    /// 1-based, in bytes from the line's start.
    public var column: Int
    /// Where the secret's bytes are, from the start of what was scanned (not kept in caches).
    public var offset: Int = 0
    public var length: Int = 0

    public init(rule: String, summary: String, line: Int, column: Int, offset: Int = 0, length: Int = 0) {
        self.rule = rule
        self.summary = summary
        self.line = line
        self.column = column
        self.offset = offset
        self.length = length
    }

    public var description: String { "\(summary) [\(rule)] (value redacted)" }

    // What a finding is does not depend on where its bytes were in a buffer.
    public static func == (lhs: SecretFinding, rhs: SecretFinding) -> Bool {
        (lhs.rule, lhs.summary, lhs.line, lhs.column) == (rhs.rule, rhs.summary, rhs.line, rhs.column)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rule)
        hasher.combine(summary)
        hasher.combine(line)
        hasher.combine(column)
    }
}

/// Streaming detector for credentials: the one rule set (``SecretRules``) that `validate` applies
/// to recipe values and baked files, `verify` to every file of every layer, and the redactor to
/// everything imagegen prints or writes. Feed it chunks as they are read.
///
/// A small C kernel finds, 16 or 32 bytes at a time, the few places where a secret can start;
/// only those are looked at further, so scanning keeps pace with hashing. Files with a NUL byte
/// in their first 8000 bytes are treated as binary and skipped, as git and trivy do.
public struct SecretScanner: Sendable {
    /// Bumped whenever a rule is added or changed, so that caches holding "this file has no
    /// secret" (``FileDigestCache``, ``LayerInputsCache``, the layer index) scan again.
    public static let rulesVersion = 6

    /// Longest stretch a rule reads past its first byte before it decides; bytes are scanned only
    /// once this much look-ahead has arrived (or the input ended).
    static let lookahead = 1024
    /// How far back a rule looks (a key before its `=`, the `machine` of a `.netrc` entry).
    static let lookbehind = 256
    static let binarySniffLength = 8000

    /// Bytes kept from earlier chunks (look-behind) followed by bytes not scanned yet.
    private var window: [UInt8] = []
    /// Index in `window` of the first byte not scanned yet.
    private var next = 0
    private var line = 1
    private var lineStartOffset = 0
    /// Absolute offset of `window[0]` in the input.
    private var windowOffset = 0
    private var sniffed = 0
    /// Off for text that is not a file (a recipe value, a log line): NUL bytes do not end the scan.
    private let sniffsBinary: Bool
    public private(set) var isBinary = false
    public private(set) var findings: [SecretFinding] = []

    public init(sniffsBinary: Bool = true) {
        self.sniffsBinary = sniffsBinary
    }

    public mutating func feed(_ chunk: UnsafeRawBufferPointer) {
        guard !isBinary, !chunk.isEmpty else { return }
        if sniffsBinary, sniffed < Self.binarySniffLength {
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
        // Keep the look-behind and everything not scanned yet.
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
    public static func scan(_ bytes: [UInt8], sniffsBinary: Bool = true) -> (findings: [SecretFinding], binary: Bool) {
        var scanner = SecretScanner(sniffsBinary: sniffsBinary)
        scanner.feed(bytes)
        let findings = scanner.finish()
        return (findings, scanner.isBinary)
    }

    /// Findings in a string (a recipe value, a line of output): never taken for binary.
    public static func scan(_ text: String) -> [SecretFinding] {
        guard !text.isEmpty else { return [] }
        return scan(Array(text.utf8), sniffsBinary: false).findings
    }

    // MARK: - The scan loop

    private mutating func scan(until end: Int) {
        guard end > next else { return }
        var found: [SecretMatch] = []
        let start = next
        var position = start
        window.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            var i = start
            while i < end {
                // The C kernel skips to where a secret may start.
                i = imagegen_next_secret_candidate(base, buffer.count, i, end)
                guard i < end else { break }
                if let match = SecretRules.match(at: i, in: buffer) {
                    found.append(match)
                    i = min(max(match.end, i + 1), buffer.count)
                } else {
                    i += 1
                }
            }
            position = max(i, end)
        }
        // A finding's line and column are worked out only when there is one.
        var cursor = start
        for hit in found {
            advanceLines(from: cursor, to: hit.start)
            cursor = hit.start
            findings.append(
                SecretFinding(
                    rule: hit.rule, summary: hit.summary, line: line, column: windowOffset + hit.start - lineStartOffset + 1,
                    offset: windowOffset + hit.start, length: hit.end - hit.start))
        }
        advanceLines(from: cursor, to: min(position, window.count))
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
