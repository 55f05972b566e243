import ContainerBasics
/// The one redactor for everything imagegen prints or writes: progress, JSON events, failure
/// reports, error messages, verify and release reports. Whatever a rule of ``SecretScanner``
/// matches is replaced by `«redacted:RULE»`, so a log says what was there without holding it.
public enum Redactor {
    public static func redact(_ text: String) -> String {
        let findings = SecretScanner.scan(text)
        guard !findings.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var cursor = 0
        for finding in findings.sorted(by: { $0.offset < $1.offset }) where finding.offset >= cursor {
            output += bytes[cursor..<finding.offset]
            output += Array("«redacted:\(finding.rule)»".utf8)
            cursor = min(bytes.count, finding.offset + max(finding.length, 1))
        }
        output += bytes[cursor...]
        return String(decoding: output, as: UTF8.self)
    }

    /// Whether the text holds anything the rules recognize.
    public static func holdsSecret(_ text: String) -> Bool { !SecretScanner.scan(text).isEmpty }
}

/// Redacts a stream of lines (a build step's output). A private key printed line by line is
/// recognized at its `BEGIN … PRIVATE KEY` line, and every line of its body is redacted until
/// its `END` line or a line that cannot be part of it.
public struct LineRedactor: Sendable {
    private var insidePrivateKey = false

    public init() {}

    public mutating func redact(_ line: String) -> String {
        if insidePrivateKey {
            if line.contains("-----END ") {
                insidePrivateKey = false
                return "«redacted:private-key»"
            }
            let trimmed = line.trimmingWhitespace()
            let bodyLike =
                trimmed.isEmpty || trimmed.utf8.allSatisfy { SecretRules.isBase64($0) || $0 == UInt8(ascii: "=") }
                || trimmed.hasPrefix("Proc-Type:") || trimmed.hasPrefix("DEK-Info:")
            if bodyLike { return "«redacted:private-key»" }
            insidePrivateKey = false
        }
        if let begin = line.range(of: "-----BEGIN "), line[begin.upperBound...].contains("PRIVATE KEY-----"), !line.contains("-----END ") {
            insidePrivateKey = true
            return Redactor.redact(String(line[..<begin.lowerBound])) + "«redacted:private-key»"
        }
        return Redactor.redact(line)
    }
}
