import ContainerBasics
/// PEM private keys, as text and in base64.
extension SecretRules {
    // MARK: - Private keys

    /// `-----BEGIN … PRIVATE KEY-----` followed by a key body (a header in documentation, with
    /// `...` or nothing after it, is not a key); the match runs to the `-----END …-----` line.
    static func privateKey(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard hasPrefix(b, i, "-----BEGIN ") else { return nil }
        let kind = run(b, from: i + 11, limit: 48, { isUpper($0) || isDigit($0) || $0 == c(" ") })
        let label = i + 11 + kind
        let text = String(decoding: Bytes(rebasing: b[(i + 11)..<label]), as: UTF8.self)
        guard text.hasSuffix("PRIVATE KEY") || text.hasSuffix("PRIVATE KEY BLOCK"), hasPrefix(b, label, "-----") else { return nil }
        // The body: base64, across newlines (real or written `\n` inside a JSON string), after
        // optional `Proc-Type:`/`DEK-Info:` lines of an encrypted key.
        var j = label + 5
        var base64 = 0
        var headerLines = 0
        while j < b.count, base64 < 64 {
            let byte = b[j]
            if isBase64(byte) || byte == c("=") {
                // A `Name: value` header line of an encrypted PEM is not body.
                if base64 == 0, headerLines < 3, let colon = (j..<min(b.count, j + 20)).first(where: { b[$0] == c(":") }),
                    (j..<colon).allSatisfy({ isAlnum(b[$0]) || b[$0] == c("-") })
                {
                    while j < b.count, b[j] != 0x0A, !(b[j] == c("\\") && j + 1 < b.count && b[j + 1] == c("n")) { j += 1 }
                    headerLines += 1
                    continue
                }
                base64 += 1
                j += 1
            } else if byte == 0x0A || byte == 0x0D || byte == 0x20 || byte == 0x09 {
                j += 1
            } else if byte == c("\\"), j + 1 < b.count, b[j + 1] == c("n") || b[j + 1] == c("r") {
                j += 2
            } else {
                break
            }
        }
        guard base64 >= 40 else { return nil }
        var end = j
        var k = j
        while k + 8 < b.count, k < j + 16384 {
            if b[k] == c("-"), hasPrefix(b, k, "-----END ") {
                var close = k + 9
                while close < b.count, close < k + 80, !hasPrefix(b, close, "-----") { close += 1 }
                end = min(b.count, close + 5)
                break
            }
            k += 1
        }
        if end == j { end = j + run(b, from: j, limit: 16384, { isBase64($0) || $0 == c("=") || $0 == 0x0A || $0 == 0x0D }) }
        return SecretMatch(rule: "private-key", summary: "PEM private key", start: i, end: end)
    }

    /// A PEM private key in base64 (a kubeconfig's `client-key-data`, a Kubernetes secret).
    static func base64PrivateKey(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i, isBase64), hasPrefix(b, i, "LS0tLS1CRUdJTi") else { return nil }
        let length = run(b, from: i, limit: 65536, { isBase64($0) || $0 == c("=") })
        guard length >= 200, let decoded = decodeBase64(Bytes(rebasing: b[i..<(i + 64)])) else { return nil }
        let text = String(decoding: decoded, as: UTF8.self)
        guard text.hasPrefix("-----BEGIN "), text.contains("PRIVATE KEY") else { return nil }
        return SecretMatch(rule: "private-key", summary: "PEM private key (base64)", start: i, end: i + length)
    }
}
