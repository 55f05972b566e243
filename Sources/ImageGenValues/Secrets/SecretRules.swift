import CByteScan
import ContainerBasics

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
        case c("A"):
            return awsKeyID(i, b) ?? prefixed(i, b, "AIza", rule: "google-api-key", "Google API key", exactly: 35, of: isTokenByte)
                ?? prefixed(i, b, "AGE-SECRET-KEY-1", rule: "age-secret-key", "age secret key", exactly: 58, of: { isUpperOrDigit($0) }) ?? accountPair(i, b)
        case c("B"), c("b"): return basicCredentials(i, b)
        case c("g"): return github(i, b) ?? gitlab(i, b)
        case c("s"): return stripe(i, b) ?? openAIOrAnthropic(i, b)
        case c("r"): return stripe(i, b) ?? redisPassword(i, b)
        case c("x"): return slack(i, b)
        case c("n"): return prefixed(i, b, "npm_", rule: "npm-token", "npm access token", exactly: 36, of: isAlnum, digits: 1)
        case c("p"):
            return prefixed(i, b, "pypi-AgEIcHlwaS5vcmc", rule: "pypi-token", "PyPI API token", atLeast: 50, of: isTokenByte) ?? netrcPassword(i, b)
        case c("h"): return prefixed(i, b, "hf_", rule: "huggingface-token", "Hugging Face token", atLeast: 30, of: isAlnum, mixedCase: true)
        case c("d"): return digitalOcean(i, b) ?? doppler(i, b) ?? prefixed(i, b, "dapi", rule: "databricks-token", "Databricks token", atLeast: 32, of: isTokenByte, digits: 2)
        case c("k"): return prefixed(i, b, "key-", rule: "mailgun-api-key", "Mailgun API key", exactly: 32, of: isLowerOrDigit, digits: 2)
        case c("S"):
            return prefixed(i, b, "SK", rule: "twilio-api-key", "Twilio API key", exactly: 32, of: isLowerHex, digits: 4) ?? sendGrid(i, b)
        case c("H"): return prefixed(i, b, "HRKU-", rule: "heroku-api-key", "Heroku API key", atLeast: 40, of: isTokenByte)
        case c("P"): return postman(i, b)
        case c("e"): return jwt(i, b)
        case c("L"): return base64PrivateKey(i, b)
        case c("M"), c("N"), c("O"): return discordToken(i, b)
        case c("-"): return privateKey(i, b) ?? commandFlag(i, b)
        case c("<"): return xmlElement(i, b)
        case c(":"):
            if hasPrefix(b, i + 1, "//") { return url(i, b) }
            return telegram(i, b) ?? pgpass(i, b) ?? assignment(i, b)
        case c("="): return assignment(i, b)
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

    /// GitLab's tokens: personal, runner, deploy, trigger, CI build, OAuth app, feed tokens.
    static func gitlab(_ i: Int, _ b: Bytes) -> SecretMatch? {
        for prefix: StaticString in ["glpat-", "glrt-", "gldt-", "glptt-", "glcbt-", "gloas-", "glft-", "glsoat-"] where hasPrefix(b, i, prefix) {
            return prefixed(i, b, prefix, rule: "gitlab-token", "GitLab token", atLeast: 20, of: isTokenByte, digits: 1)
        }
        return nil
    }

    /// Doppler's tokens: `dp.st.` (service, with an environment segment), `dp.sa.`, `dp.ct.`,
    /// `dp.scim.`, `dp.audit.`.
    static func doppler(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "dp.") else { return nil }
        let length = run(b, from: i + 3, limit: 256, { isTokenByte($0) || $0 == c(".") })
        let body = Bytes(rebasing: b[(i + 3)..<(i + 3 + length)])
        guard length >= 40, body.contains(where: isUpper), body.contains(where: isLower), entropy(body) >= 4.0, !isPlaceholder(body) else { return nil }
        return SecretMatch(rule: "doppler-token", summary: "Doppler token", start: i, end: i + 3 + length)
    }

    /// `PMAK-` + 24 hex + `-` + 34 hex: a Postman API key.
    static func postman(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "PMAK-"), run(b, from: i + 5, limit: 25, isLowerHex) == 24, i + 29 < b.count, b[i + 29] == c("-"),
            run(b, from: i + 30, limit: 35, isLowerHex) == 34
        else { return nil }
        return SecretMatch(rule: "postman-api-key", summary: "Postman API key", start: i, end: i + 64)
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
        if hasPrefix(b, i, "xapp-"), boundaryBefore(b, i) {
            let length = run(b, from: i + 5, limit: 255, { isAlnum($0) || $0 == c("-") })
            guard length >= 30, count(Bytes(rebasing: b[(i + 5)..<(i + 5 + length)]), isDigit) >= 6 else { return nil }
            return SecretMatch(rule: "slack-token", summary: "Slack app token", start: i, end: i + 5 + length)
        }
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
}
