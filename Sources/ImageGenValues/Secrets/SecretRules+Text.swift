#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ContainerBasics

/// What is not a secret (placeholders, references, documentation keys), and the byte classes
/// and helpers the rules are written with.
extension SecretRules {
    // MARK: - What is not a secret

    /// A value that names where the secret comes from instead of holding it.
    static func isReference(_ value: Bytes) -> Bool {
        guard let first = value.first else { return true }
        if first == c("$") || first == c("%") || first == c("<") || first == c("{") || first == c("/") || first == c("~") || first == c("@") { return true }
        let text = String(decoding: value, as: UTF8.self)
        return text.hasPrefix("./") || text.contains("://") || text.hasPrefix("os.environ") || text.hasPrefix("process.env")
            || text.hasPrefix("env:") || text.hasPrefix("ENV[") || text.hasPrefix("secret:") || text.hasPrefix("vault:")
            || text.hasPrefix("arn:") || text.hasPrefix("file:")
    }

    /// What people write where a credential goes, in documentation and templates.
    static func isPlaceholder(_ value: Bytes) -> Bool {
        if value.isEmpty { return true }
        let text = String(decoding: value, as: UTF8.self).lowercased()
        if text.hasPrefix("${") || text.hasPrefix("$(") || text.hasPrefix("<") || text.hasPrefix("{{") || text.hasPrefix("%(") { return true }
        for word in [
            "changeme", "change-me", "change_me", "example", "placeholder", "xxxx", "****", "redacted", "your-", "your_", "yourkey",
            "yourtoken", "yourpassword", "yoursecret", "replace", "insert", "dummy", "sample", "todo", "fixme", "0000000000", "1234567890",
            "abcdefgh", "secret123", "password1",
        ]
        where text.contains(word) { return true }
        // One character repeated: `aaaaaaaa`.
        return value.allSatisfy { $0 == value[0] }
    }

    /// A whole value that is only a word such as "password" or "secret".
    static func isPlaceholderWord(_ value: Bytes) -> Bool {
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return [
            "password", "passwd", "pass", "secret", "token", "pwd", "user", "username", "apikey", "api_key", "none", "null", "nil", "true", "false",
            "empty", "test", "testing", "admin", "root", "guest", "default", "hunter2", "letmein", "qwerty", "p@ssw0rd", "s3cr3t",
        ].contains(text)
            || text.allSatisfy { $0 == "*" || $0 == "." || $0 == "x" }
            // VALUE, YOUR_PASSWORD: the name of what goes there.
            || (value.count >= 3 && value.allSatisfy { isUpper($0) || $0 == c("_") })
    }

    /// `name.name(.name)*`, identifiers joined by dots: a member access in code. A part as long
    /// and as mixed as a random token (`hvs.<90 characters>`) is not a name.
    static func isMemberAccess(_ value: Bytes) -> Bool {
        var sawDot = false
        var atStart = true
        var partStart = 0
        for (index, byte) in value.enumerated() {
            if byte == c(".") {
                if atStart { return false }
                if looksRandom(Bytes(rebasing: value[partStart..<index])) { return false }
                sawDot = true
                atStart = true
                partStart = index + 1
            } else if atStart {
                guard isLetter(byte) || byte == c("_") else { return false }
                atStart = false
            } else if !(isAlnum(byte) || byte == c("_")) {
                return false
            }
        }
        return sawDot && !atStart && !looksRandom(Bytes(rebasing: value[partStart...]))
    }

    /// 24 characters or more with digits and both cases, high in entropy: made, not named.
    static func looksRandom(_ part: Bytes) -> Bool {
        part.count >= 24 && count(part, isDigit) >= 2 && part.contains(where: isUpper) && part.contains(where: isLower) && entropy(part) >= 3.5
    }

    static func containsExample(_ b: Bytes, _ from: Int, _ to: Int) -> Bool {
        let text = String(decoding: Bytes(rebasing: b[from..<min(to, b.count)]), as: UTF8.self).uppercased()
        return text.contains("EXAMPLE")
    }

    // MARK: - Bytes

    @inline(__always) static func c(_ scalar: Unicode.Scalar) -> UInt8 { UInt8(scalar.value) }
    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
    static func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
    static func isLower(_ b: UInt8) -> Bool { b >= 0x61 && b <= 0x7A }
    static func isLetter(_ b: UInt8) -> Bool { isUpper(b) || isLower(b) }
    static func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isLetter(b) }
    static func isUpperOrDigit(_ b: UInt8) -> Bool { isDigit(b) || isUpper(b) }
    static func isLowerOrDigit(_ b: UInt8) -> Bool { isDigit(b) || isLower(b) }
    static func isLowerHex(_ b: UInt8) -> Bool { isDigit(b) || (b >= 0x61 && b <= 0x66) }
    static func isTokenByte(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F || b == 0x2D }
    static func isBase64(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2B || b == 0x2F }

    /// Letters, digits and the punctuation passwords and tokens use.
    static func isCredentialByte(_ byte: UInt8) -> Bool {
        isAlnum(byte) || "+/=_-.~!@#$%^*?:&".utf8.contains(byte)
    }

    /// What may follow an unquoted value: the end of the line or string, or a separator.
    static func isDelimiter(_ byte: UInt8) -> Bool {
        byte <= 0x20 || "\"'`,;)}]".utf8.contains(byte)
    }

    static func hasPrefix(_ buffer: Bytes, _ i: Int, _ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard i >= 0, i + count <= buffer.count else { return false }
        let bytes = prefix.utf8Start
        for k in 0..<count where buffer[i + k] != bytes[k] { return false }
        return true
    }

    static func hasSuffix(_ key: UnsafeBufferPointer<UInt8>, _ suffix: StaticString) -> Bool {
        let count = suffix.utf8CodeUnitCount
        guard key.count >= count else { return false }
        let bytes = suffix.utf8Start
        for k in 0..<count where key[key.count - count + k] != bytes[k] { return false }
        return true
    }

    static func hasSuffix(_ key: UnsafeBufferPointer<UInt8>, _ suffix: [UInt8]) -> Bool {
        guard key.count >= suffix.count else { return false }
        return suffix.indices.allSatisfy { key[key.count - suffix.count + $0] == suffix[$0] }
    }

    /// Length of the run of bytes satisfying `accept` from `i`, at most `limit`.
    static func run(_ buffer: Bytes, from i: Int, limit: Int, _ accept: (UInt8) -> Bool) -> Int {
        guard i >= 0 else { return 0 }
        var j = i
        let stop = min(buffer.count, i + limit)
        while j < stop, accept(buffer[j]) { j += 1 }
        return j - i
    }

    static func count(_ bytes: Bytes, _ accept: (UInt8) -> Bool) -> Int {
        var n = 0
        for byte in bytes where accept(byte) { n += 1 }
        return n
    }

    static func boundaryBefore(_ buffer: Bytes, _ i: Int, _ inside: (UInt8) -> Bool = isAlnum) -> Bool {
        i == 0 || !inside(buffer[i - 1])
    }

    static func boundaryAfter(_ buffer: Bytes, _ j: Int) -> Bool {
        j >= buffer.count || !isAlnum(buffer[j])
    }

    /// Shannon entropy in bits per byte.
    static func entropy(_ bytes: Bytes) -> Double {
        guard !bytes.isEmpty else { return 0 }
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

    /// Standard or URL-safe base64, padding optional; nil when it is not base64.
    static func decodeBase64(_ text: Bytes) -> [UInt8]? {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text {
            let value: UInt32
            switch byte {
            case 0x41...0x5A: value = UInt32(byte - 0x41)
            case 0x61...0x7A: value = UInt32(byte - 0x61 + 26)
            case 0x30...0x39: value = UInt32(byte - 0x30 + 52)
            case 0x2B, 0x2D: value = 62
            case 0x2F, 0x5F: value = 63
            case 0x3D: continue
            default: return nil
            }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }
}
