import CByteScan

/// Where a rule matched: the secret's bytes are `start..<end` (positions in the buffer scanned),
/// which is what the redactor replaces. For assignments it is the value only, so that
/// `password=«redacted:generic-secret»` still says what was there.
struct SecretMatch {
    var rule: String
    var summary: String
    var start: Int
    var end: Int
}

/// The rules, each a check at a candidate position that the C kernel found (see scan.c for the
/// byte patterns that make a position a candidate). Every rule demands the shape of the real
/// credential (its prefix, alphabet and length) and turns away what people write in its place:
/// placeholders (`changeme`, `<YOUR_KEY>`, `xxxx…`, `your-token`), references (`${API_KEY}`,
/// `$(cat …)`, `os.environ[…]`), documentation keys (`…EXAMPLE…`), a PEM header without a key
/// body, public keys and certificates.
enum SecretRules {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    static func match(at i: Int, in b: Bytes) -> SecretMatch? {
        switch b[i] {
        case c("A"): return awsKeyID(i, b) ?? prefixed(i, b, "AIza", rule: "google-api-key", "Google API key", exactly: 35, of: isTokenByte)
        case c("g"): return github(i, b) ?? prefixed(i, b, "glpat-", rule: "gitlab-token", "GitLab personal access token", atLeast: 20, of: isTokenByte, digits: 1)
        case c("s"), c("r"): return stripe(i, b) ?? (b[i] == c("s") ? openAIOrAnthropic(i, b) : nil)
        case c("x"): return slack(i, b)
        case c("n"): return prefixed(i, b, "npm_", rule: "npm-token", "npm access token", exactly: 36, of: isAlnum, digits: 1)
        case c("p"):
            return prefixed(i, b, "pypi-AgEIcHlwaS5vcmc", rule: "pypi-token", "PyPI API token", atLeast: 50, of: isTokenByte) ?? netrcPassword(i, b)
        case c("h"): return prefixed(i, b, "hf_", rule: "huggingface-token", "Hugging Face token", atLeast: 30, of: isAlnum, mixedCase: true)
        case c("d"): return digitalOcean(i, b)
        case c("k"): return prefixed(i, b, "key-", rule: "mailgun-api-key", "Mailgun API key", exactly: 32, of: isLowerOrDigit, digits: 2)
        case c("S"):
            return prefixed(i, b, "SK", rule: "twilio-api-key", "Twilio API key", exactly: 32, of: isLowerHex, digits: 4) ?? sendGrid(i, b)
        case c("H"): return prefixed(i, b, "HRKU-", rule: "heroku-api-key", "Heroku API key", atLeast: 40, of: isTokenByte)
        case c("e"): return jwt(i, b)
        case c("L"): return base64PrivateKey(i, b)
        case c("M"), c("N"), c("O"): return discordToken(i, b)
        case c("-"): return privateKey(i, b)
        case c("="), c(":"): return b[i] == c(":") && hasPrefix(b, i + 1, "//") ? url(i, b) : assignment(i, b)
        case c("\""): return dockerConfigAuth(i, b)
        default: return nil
        }
    }

    // MARK: - Token formats

    private static let awsPrefixes: [StaticString] = ["AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA"]

    /// An access key id; a secret access key right after it (a credentials CSV) is part of the match.
    static func awsKeyID(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), awsPrefixes.contains(where: { hasPrefix(b, i, $0) }),
              run(b, from: i + 4, limit: 16, isUpperOrDigit) == 16, boundaryAfter(b, i + 20), !containsExample(b, i, i + 20)
        else { return nil }
        var match = SecretMatch(rule: "aws-access-key-id", summary: "AWS access key id", start: i, end: i + 20)
        var j = i + 20
        while j < min(b.count, i + 24), b[j] == c(",") || b[j] == c(" ") || b[j] == c("\t") || b[j] == c(":") || b[j] == c("\"") || b[j] == c(";") { j += 1 }
        if j > i + 20, let end = awsSecret(at: j, b) {
            match.end = end
            match.summary = "AWS access key id and secret access key"
        }
        return match
    }

    /// The end of a 40-character secret access key starting at `j`, or nil.
    static func awsSecret(at j: Int, _ b: Bytes) -> Int? {
        let length = run(b, from: j, limit: 41, isBase64)
        guard length == 40, boundaryBefore(b, j, isBase64), !containsExample(b, j, j + 40) else { return nil }
        let value = Bytes(rebasing: b[j..<(j + 40)])
        guard value.contains(where: isUpper), value.contains(where: isLower), value.contains(where: isDigit), entropy(value) >= 4.0 else { return nil }
        return j + 40
    }

    static func github(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i) else { return nil }
        if let match = prefixed(i, b, "github_pat_", rule: "github-token", "GitHub fine-grained token", atLeast: 22, of: { isAlnum($0) || $0 == c("_") }, digits: 1) {
            return match
        }
        for prefix: StaticString in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] where hasPrefix(b, i, prefix) {
            return prefixed(i, b, prefix, rule: "github-token", "GitHub token", atLeast: 36, of: isAlnum, digits: 1, mixedCase: true)
        }
        return nil
    }

    static func stripe(_ i: Int, _ b: Bytes) -> SecretMatch? {
        for prefix: StaticString in ["sk_live_", "sk_test_", "rk_live_", "rk_test_"] where hasPrefix(b, i, prefix) {
            return prefixed(i, b, prefix, rule: "stripe-key", "Stripe secret key", atLeast: 20, of: isAlnum, digits: 1)
        }
        return nil
    }

    static func openAIOrAnthropic(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "sk-") else { return nil }
        if hasPrefix(b, i, "sk-ant-") {
            let length = run(b, from: i + 7, limit: 255, isTokenByte)
            let body = Bytes(rebasing: b[(i + 7)..<(i + 7 + length)])
            guard length >= 32, count(body, isDigit) >= 2, !isPlaceholder(body) else { return nil }
            return SecretMatch(rule: "anthropic-api-key", summary: "Anthropic API key", start: i, end: i + 7 + length)
        }
        let length = run(b, from: i + 3, limit: 255, isTokenByte)
        let body = Bytes(rebasing: b[(i + 3)..<(i + 3 + length)])
        guard length >= 32, count(body, isDigit) >= 2, count(body, isLetter) >= 8, !isPlaceholder(body) else { return nil }
        return SecretMatch(rule: "openai-api-key", summary: "OpenAI API key", start: i, end: i + 3 + length)
    }

    static func slack(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "xox"), i + 5 <= b.count, "abprse".utf8.contains(b[i + 3]), b[i + 4] == c("-") else { return nil }
        let length = run(b, from: i + 5, limit: 255, { isAlnum($0) || $0 == c("-") })
        let body = Bytes(rebasing: b[(i + 5)..<(i + 5 + length)])
        guard length >= 10, count(body, isDigit) >= 6 else { return nil }
        return SecretMatch(rule: "slack-token", summary: "Slack token", start: i, end: i + 5 + length)
    }

    static func digitalOcean(_ i: Int, _ b: Bytes) -> SecretMatch? {
        for prefix: StaticString in ["dop_v1_", "doo_v1_", "dor_v1_"] where hasPrefix(b, i, prefix) {
            return prefixed(i, b, prefix, rule: "digitalocean-token", "DigitalOcean token", exactly: 64, of: isLowerHex)
        }
        return nil
    }

    static func sendGrid(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "SG."), run(b, from: i + 3, limit: 22, isTokenByte) == 22,
              i + 25 < b.count, b[i + 25] == c("."), run(b, from: i + 26, limit: 44, isTokenByte) == 43
        else { return nil }
        return SecretMatch(rule: "sendgrid-api-key", summary: "SendGrid API key", start: i, end: i + 69)
    }

    static func discordToken(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i, isTokenByte) else { return nil }
        let first = run(b, from: i, limit: 27, isTokenByte)
        guard (24...26).contains(first), i + first < b.count, b[i + first] == c(".") else { return nil }
        let second = run(b, from: i + first + 1, limit: 7, isTokenByte)
        let third = i + first + 2 + second
        guard second == 6, third <= b.count, b[third - 1] == c(".") else { return nil }
        let length = run(b, from: third, limit: 64, isTokenByte)
        guard length >= 27, count(Bytes(rebasing: b[i..<(i + first)]), isDigit) >= 1 else { return nil }
        return SecretMatch(rule: "discord-token", summary: "Discord bot token", start: i, end: third + length)
    }

    /// `header.payload.signature`, each base64url, header and payload JSON objects (`eyJ` is `{"`).
    static func jwt(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i, isTokenByte), hasPrefix(b, i, "eyJ") else { return nil }
        let header = run(b, from: i, limit: 2048, isTokenByte)
        let dot1 = i + header
        guard header >= 10, dot1 < b.count, b[dot1] == c("."), hasPrefix(b, dot1 + 1, "eyJ") else { return nil }
        let payload = run(b, from: dot1 + 1, limit: 8192, isTokenByte)
        let dot2 = dot1 + 1 + payload
        guard payload >= 10, dot2 < b.count, b[dot2] == c(".") else { return nil }
        let signature = run(b, from: dot2 + 1, limit: 2048, isTokenByte)
        guard signature >= 16 else { return nil }
        return SecretMatch(rule: "jwt", summary: "JSON Web Token", start: i, end: dot2 + 1 + signature)
    }

    /// A token given by its prefix and what follows: `exactly` characters (then a boundary) or
    /// `atLeast` that many, with at least `digits` digits and, if asked, both cases.
    static func prefixed(
        _ i: Int, _ b: Bytes, _ prefix: StaticString, rule: String, _ summary: String, exactly: Int? = nil, atLeast: Int? = nil,
        of accept: (UInt8) -> Bool, digits: Int = 0, mixedCase: Bool = false
    ) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, prefix) else { return nil }
        let start = i + prefix.utf8CodeUnitCount
        let length = run(b, from: start, limit: exactly.map { $0 + 1 } ?? 512, accept)
        if let exactly {
            guard length == exactly, boundaryAfter(b, start + length) else { return nil }
        } else if let atLeast {
            guard length >= atLeast else { return nil }
        }
        let body = Bytes(rebasing: b[start..<(start + length)])
        guard count(body, isDigit) >= digits, !mixedCase || (body.contains(where: isUpper) && body.contains(where: isLower)),
              !isPlaceholder(body)
        else { return nil }
        return SecretMatch(rule: rule, summary: summary, start: i, end: start + length)
    }

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

    // MARK: - URLs

    /// `scheme://user:password@host` (the password), and webhook URLs whose path is the secret.
    static func url(_ colon: Int, _ b: Bytes) -> SecretMatch? {
        var s = colon
        while s > 0, colon - s < 24, isAlnum(b[s - 1]) || b[s - 1] == c("+") || b[s - 1] == c(".") || b[s - 1] == c("-") { s -= 1 }
        guard s < colon, isLetter(b[s]) else { return nil }
        let authorityStart = colon + 3
        var j = authorityStart
        var lastAt: Int?
        while j < b.count, j - authorityStart < 512 {
            let byte = b[j]
            if byte == c("/") || byte == c("?") || byte == c("#") || byte <= 0x20 || "\"'`<>()[]{}\\|^,".utf8.contains(byte) { break }
            if byte == c("@") { lastAt = j }
            j += 1
        }
        let authorityEnd = j
        if let at = lastAt {
            guard let separator = (authorityStart..<at).first(where: { b[$0] == c(":") }), separator + 1 < at else { return nil }
            let user = Bytes(rebasing: b[authorityStart..<separator])
            let password = Bytes(rebasing: b[(separator + 1)..<at])
            let host = String(decoding: Bytes(rebasing: b[(at + 1)..<authorityEnd]), as: UTF8.self).lowercased()
            let hostName = String(host.prefix { $0 != ":" })
            // Documentation's URLs: example domains (RFC 2606) and made-up short passwords.
            let documentation = ["example.com", "example.org", "example.net"].contains { hostName == $0 || hostName.hasSuffix("." + $0) }
                || hostName.hasSuffix(".example") || hostName.hasSuffix(".invalid") || hostName.hasSuffix(".test")
            guard !user.isEmpty, password.count >= 6, !documentation, !isPlaceholder(password), !isPlaceholderWord(password),
                  !isPlaceholder(user) || password.count >= 8
            else { return nil }
            return SecretMatch(rule: "url-credentials", summary: "password in a URL", start: separator + 1, end: at)
        }
        let host = String(decoding: Bytes(rebasing: b[authorityStart..<authorityEnd]), as: UTF8.self).lowercased()
        let pathEnd = authorityEnd + run(b, from: authorityEnd, limit: 512, { isTokenByte($0) || $0 == c("/") })
        let path = String(decoding: Bytes(rebasing: b[authorityEnd..<pathEnd]), as: UTF8.self)
        if host == "hooks.slack.com", path.hasPrefix("/services/") {
            let parts = path.dropFirst("/services/".count).split(separator: "/")
            guard parts.count >= 3, parts[0].hasPrefix("T"), parts[1].hasPrefix("B"), parts[2].count >= 20 else { return nil }
            return SecretMatch(rule: "slack-webhook", summary: "Slack webhook URL", start: authorityEnd + "/services/".count, end: pathEnd)
        }
        if ["discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"].contains(host), path.hasPrefix("/api/webhooks/") {
            let parts = path.dropFirst("/api/webhooks/".count).split(separator: "/")
            guard parts.count >= 2, parts[0].allSatisfy(\.isNumber), parts[1].count >= 60 else { return nil }
            return SecretMatch(rule: "discord-webhook", summary: "Discord webhook URL", start: authorityEnd + "/api/webhooks/".count, end: pathEnd)
        }
        return nil
    }

    // MARK: - Assignments and headers

    /// Names that say their value is a credential (compared lowercased, without `_`, `-`, `.`),
    /// as the last word of the key.
    static let secretKeySuffixes: [[UInt8]] = ["password", "passwd", "secret", "token", "apikey", "accesskey", "privatekey", "secretkey",
                                               "authkey", "masterkey", "signingkey", "encryptionkey"].map { Array($0.utf8) }
    static let passwordSuffixes: [[UInt8]] = ["password", "passwd"].map { Array($0.utf8) }

    /// `NAME = value`, `NAME: value`, `"name": "value"`, and HTTP `Authorization:` headers.
    static func assignment(_ i: Int, _ b: Bytes) -> SecretMatch? {
        // The key: identifier characters before the operator, after spaces and a closing quote.
        var k = i - 1
        while k >= 0, i - k <= 4, b[k] == 0x20 || b[k] == 0x22 || b[k] == 0x27 || b[k] == 0x09 { k -= 1 }
        let keyEnd = k + 1
        while k >= 0, keyEnd - k <= 64, isAlnum(b[k]) || b[k] == c("_") || b[k] == c("-") || b[k] == c(".") { k -= 1 }
        let keyStart = k + 1
        guard keyEnd > keyStart else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { buffer -> SecretMatch? in
            var length = 0
            for index in keyStart..<keyEnd {
                let byte = b[index]
                if byte == c("_") || byte == c("-") || byte == c(".") { continue }
                buffer[length] = isUpper(byte) ? byte | 0x20 : byte
                length += 1
            }
            let key = UnsafeBufferPointer(rebasing: buffer[0..<length])
            // The value: after spaces and an opening quote.
            var v = i + 1
            while v < b.count, v - i <= 4, b[v] == 0x20 || b[v] == 0x09 { v += 1 }
            var quote: UInt8?
            if v < b.count, b[v] == 0x22 || b[v] == 0x27 {
                quote = b[v]
                v += 1
            }
            // A token with a format of its own (`OPENAI_API_KEY=sk-…`) is named by its own rule.
            if v < b.count, b[v] != c("="), b[v] != c(":"), imagegen_is_secret_candidate(b.baseAddress!, b.count, v) != 0,
               let specific = match(at: v, in: b)
            {
                return specific
            }
            if hasSuffix(key, "authorization") { return authorizationHeader(at: v, b) }
            if hasSuffix(key, "accountkey") || hasSuffix(key, "sharedaccesskey") {
                let length = run(b, from: v, limit: 512, { isBase64($0) || $0 == c("=") })
                guard length >= 40 else { return nil }
                return SecretMatch(rule: "azure-storage-key", summary: "Azure storage or Service Bus key", start: v, end: v + length)
            }
            if hasSuffix(key, "secretaccesskey") || hasSuffix(key, "awssecretkey") {
                guard let end = awsSecret(at: v, b) else { return nil }
                return SecretMatch(rule: "aws-secret-access-key", summary: "AWS secret access key", start: v, end: end)
            }
            guard secretKeySuffixes.contains(where: { hasSuffix(key, $0) }) else { return nil }
            let isPassword = passwordSuffixes.contains { hasSuffix(key, $0) }
            return genericValue(at: v, quote: quote, b, password: isPassword, key: String(decoding: Bytes(rebasing: b[keyStart..<keyEnd]), as: UTF8.self))
        }
    }

    /// The value of a credential-named key, when it looks like a real one.
    static func genericValue(at v: Int, quote: UInt8?, _ b: Bytes, password: Bool, key: String) -> SecretMatch? {
        var end = v
        if let quote {
            // Inside quotes too, a credential is made of credential characters only: a quoted
            // sentence ('Password used to generate key') or code is not one.
            while end < b.count, end - v < 200, b[end] != quote, isCredentialByte(b[end]) { end += 1 }
            guard end < b.count, b[end] == quote else { return nil }
        } else {
            while end < b.count, end - v < 200, isCredentialByte(b[end]) { end += 1 }
            guard end == b.count || isDelimiter(b[end]) else { return nil }
        }
        let value = Bytes(rebasing: b[v..<end])
        guard value.count >= 8, !isReference(value), !isPlaceholder(value), !isPlaceholderWord(value) else { return nil }
        // Code, not a credential: `password = config.password`, `token = self.tokens.next`.
        if quote == nil, isMemberAccess(value) { return nil }
        let lower = count(value, isLower), upper = count(value, isUpper), digits = count(value, isDigit)
        let symbols = value.count - lower - upper - digits
        // A hex string assigned to a key is a digest or an id more often than a credential (the
        // formats that are hex have rules of their own).
        if value.allSatisfy(isLowerHex) || value.allSatisfy({ isDigit($0) || ($0 >= 0x41 && $0 <= 0x46) }) { return nil }
        if password {
            // A digit, as in every generated password and most chosen ones; a type or variable
            // name (`_PasswordType`) has none.
            let classes = [lower, upper, digits, symbols].filter { $0 > 0 }.count
            guard digits > 0, classes >= 3 || (value.count >= 12 && entropy(value) >= 3.0) else { return nil }
        } else {
            // Random tokens of 16 or more characters hold a digit (all but a few in a thousand);
            // names in code (`Client.Credentials`) do not.
            guard value.count >= 16, lower + upper >= 4, digits >= 1, entropy(value) >= 3.3,
                  !value.contains(0x20)
            else { return nil }
        }
        return SecretMatch(rule: "generic-secret", summary: "credential assigned to '\(key)'", start: v, end: end)
    }

    /// `Basic base64(user:password)` or `Bearer token`.
    static func authorizationHeader(at v: Int, _ b: Bytes) -> SecretMatch? {
        if hasPrefix(b, v, "Basic ") || hasPrefix(b, v, "basic ") {
            let start = v + 6
            let length = run(b, from: start, limit: 1024, { isBase64($0) || $0 == c("=") })
            guard length >= 8, let decoded = decodeBase64(Bytes(rebasing: b[start..<(start + length)])),
                  let colon = decoded.firstIndex(of: c(":")), colon > 0, colon + 1 < decoded.count,
                  decoded.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
            else { return nil }
            let password = Array(decoded[(colon + 1)...])
            let isWord = password.withUnsafeBufferPointer { isPlaceholder($0) || isPlaceholderWord($0) }
            guard !isWord else { return nil }
            return SecretMatch(rule: "http-basic-auth", summary: "HTTP Basic credentials", start: start, end: start + length)
        }
        if hasPrefix(b, v, "Bearer ") || hasPrefix(b, v, "bearer ") || hasPrefix(b, v, "token ") {
            let start = v + (b[v] == c("t") ? 6 : 7)
            let length = run(b, from: start, limit: 4096, { isTokenByte($0) || ".~+/=".utf8.contains($0) })
            let token = Bytes(rebasing: b[start..<(start + length)])
            guard length >= 20, !isPlaceholder(token), entropy(token) >= 3.3, count(token, isDigit) >= 1 else { return nil }
            return SecretMatch(rule: "bearer-token", summary: "HTTP bearer token", start: start, end: start + length)
        }
        return nil
    }

    /// `"auth": "base64(user:password)"` and `"identitytoken": "…"`, as docker config files hold
    /// them (in any file: a copy of one is as bad as the original).
    static func dockerConfigAuth(_ i: Int, _ b: Bytes) -> SecretMatch? {
        let isToken = hasPrefix(b, i, "\"identitytoken\"")
        guard isToken || hasPrefix(b, i, "\"auth\"") else { return nil }
        var v = i + (isToken ? 15 : 6)
        while v < b.count, b[v] == 0x20 || b[v] == c(":") { v += 1 }
        guard v < b.count, b[v] == 0x22 else { return nil }
        let start = v + 1
        let length = run(b, from: start, limit: 4096, { $0 != 0x22 && $0 != 0x0A })
        let value = Bytes(rebasing: b[start..<(start + length)])
        if isToken {
            guard length >= 8, !isReference(value), !isPlaceholder(value) else { return nil }
        } else {
            guard let decoded = decodeBase64(value), let colon = decoded.firstIndex(of: c(":")), colon > 0, colon + 1 < decoded.count else { return nil }
        }
        return SecretMatch(rule: "docker-config-auth", summary: "registry credentials as a docker config holds them", start: start, end: start + length)
    }

    /// `password VALUE` in a `.netrc` entry: `machine HOST [login USER] [account ACCOUNT] password
    /// VALUE` (or `default …`), on one line or several, the entry starting a line. Prose and code
    /// that mention a password near the word "login" are not entries.
    static func netrcPassword(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard hasPrefix(b, i, "password"), boundaryBefore(b, i), i + 9 < b.count, b[i + 8] == 0x20 || b[i + 8] == 0x09 else { return nil }
        let regionStart = max(0, i - 256)
        let region = Array(b[regionStart..<i])
        // The entry's first keyword: the last `machine` or `default` that starts a line.
        var entry: Int?
        var k = region.count - 7
        while k >= 0, entry == nil {
            if region[k...].starts(with: "machine".utf8) || region[k...].starts(with: "default".utf8) {
                var before = k - 1
                while before >= 0, region[before] == 0x20 || region[before] == 0x09 { before -= 1 }
                if before < 0 ? regionStart == 0 : region[before] == 0x0A { entry = k }
            }
            k -= 1
        }
        guard let entry else { return nil }
        let tokens = region[entry...].split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }).map { String(decoding: $0, as: UTF8.self) }
        var index = 0
        if tokens.first == "machine" {
            guard tokens.count >= 2 else { return nil }
            index = 2
        } else {
            index = 1
        }
        while index < tokens.count {
            guard ["login", "account", "port"].contains(tokens[index]), index + 1 < tokens.count else { return nil }
            // Anonymous FTP's password is an e-mail address by convention, not a secret.
            if tokens[index] == "login", ["anonymous", "ftp"].contains(tokens[index + 1]) { return nil }
            index += 2
        }
        var v = i + 8
        while v < b.count, b[v] == 0x20 || b[v] == 0x09 { v += 1 }
        var length = run(b, from: v, limit: 256, { $0 > 0x20 && $0 < 0x7F })
        // A quoted password: the quotes are not part of it.
        if length >= 2, b[v] == 0x22, b[v + length - 1] == 0x22 {
            v += 1
            length -= 2
        }
        let value = Bytes(rebasing: b[v..<(v + length)])
        guard length >= 4, !isReference(value), !isPlaceholder(value), !isPlaceholderWord(value) else { return nil }
        return SecretMatch(rule: "netrc-password", summary: "password in a .netrc entry", start: v, end: v + length)
    }

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
        for word in ["changeme", "change-me", "change_me", "example", "placeholder", "xxxx", "****", "redacted", "your-", "your_", "yourkey",
                     "yourtoken", "yourpassword", "yoursecret", "replace", "insert", "dummy", "sample", "todo", "fixme", "0000000000", "1234567890",
                     "abcdefgh", "secret123", "password1"]
        where text.contains(word) { return true }
        // One character repeated: `aaaaaaaa`.
        return value.allSatisfy { $0 == value[0] }
    }

    /// A whole value that is only a word such as "password" or "secret".
    static func isPlaceholderWord(_ value: Bytes) -> Bool {
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return ["password", "passwd", "pass", "secret", "token", "pwd", "user", "username", "apikey", "api_key", "none", "null", "nil", "true", "false",
                "empty", "test", "testing", "admin", "root", "guest", "default", "hunter2", "letmein", "qwerty", "p@ssw0rd", "s3cr3t"].contains(text)
            || text.allSatisfy { $0 == "*" || $0 == "." || $0 == "x" }
            // VALUE, YOUR_PASSWORD: the name of what goes there.
            || (value.count >= 3 && value.allSatisfy { isUpper($0) || $0 == c("_") })
    }

    /// `name.name(.name)*`, identifiers joined by dots: a member access in code.
    static func isMemberAccess(_ value: Bytes) -> Bool {
        var sawDot = false
        var atStart = true
        for byte in value {
            if byte == c(".") {
                if atStart { return false }
                sawDot = true
                atStart = true
            } else if atStart {
                guard isLetter(byte) || byte == c("_") else { return false }
                atStart = false
            } else if !(isAlnum(byte) || byte == c("_")) {
                return false
            }
        }
        return sawDot && !atStart
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

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
