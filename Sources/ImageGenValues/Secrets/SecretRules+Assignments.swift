import CByteScan
import ContainerBasics

/// Secrets that are known by where they sit: passwords in URLs, credential-named keys, HTTP
/// authorization headers, docker config `auth` entries, `.netrc` passwords.
extension SecretRules {
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
            let documentation =
                ["example.com", "example.org", "example.net"].contains { hostName == $0 || hostName.hasSuffix("." + $0) }
                || hostName.hasSuffix(".example") || hostName.hasSuffix(".invalid") || hostName.hasSuffix(".test")
            // `redis://:password@host` has no user; its password must then look generated.
            let strongAlone = password.count >= 12 && count(password, isDigit) >= 1 && entropy(password) >= 3.3
            guard !user.isEmpty || strongAlone, password.count >= 6, !documentation, !isPlaceholder(password), !isPlaceholderWord(password),
                !isPlaceholder(user) || password.count >= 8
            else { return nil }
            // Default credentials of a local or compose-network service (`postgres:postgres@localhost`,
            // `app:app@db`) are what every development setup writes; detectors leave them alone.
            if Array(password) == Array(user) || (isLocalHost(hostName) && isDefaultPassword(password)) { return nil }
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
    static let secretKeySuffixes: [[UInt8]] = [
        "password", "passwd", "secret", "token", "apikey", "accesskey", "privatekey", "secretkey",
        "authkey", "masterkey", "signingkey", "encryptionkey", "secretkeybase",
    ].map { Array($0.utf8) }
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
            // npm's `_auth`: base64 of `user:password`.
            if key.count == 4, hasSuffix(key, "auth") {
                guard var match = basicValue(at: v, b) else { return nil }
                match.rule = "npmrc-auth"
                match.summary = "registry credentials (base64 user:password)"
                return match
            }
            // yarn's `npmAuthIdent: "user:password"`.
            if hasSuffix(key, "authident") { return userPassword(at: quote == nil ? v : v - 1, b) }
            // Laravel's `APP_KEY=base64:…` and the like: a key given as base64.
            if hasSuffix(key, "key"), hasPrefix(b, v, "base64:") {
                let length = run(b, from: v + 7, limit: 512, { isBase64($0) || $0 == c("=") })
                guard length >= 32, let decoded = decodeBase64(Bytes(rebasing: b[(v + 7)..<(v + 7 + length)])), decoded.count >= 16 else { return nil }
                return SecretMatch(
                    rule: "base64-key", summary: "key given as base64 to '\(String(decoding: Bytes(rebasing: b[keyStart..<keyEnd]), as: UTF8.self))'",
                    start: v, end: v + 7 + length)
            }
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
            let name = String(decoding: Bytes(rebasing: b[keyStart..<keyEnd]), as: UTF8.self)
            // A setting (`JWT_SECRET=…`, a YAML key on its own line), not a key in the middle of
            // code (a minified bundle's `{apiKey:"…"}`, which ships public search keys).
            let setting = name.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "_" } || startsLine(b, keyStart)
            return genericValue(at: v, quote: quote, b, password: isPassword, key: name, setting: setting)
        }
    }

    /// The value of a credential-named key, when it looks like a real one.
    static func genericValue(at v: Int, quote: UInt8?, _ b: Bytes, password: Bool, key: String, setting: Bool = true) -> SecretMatch? {
        var end = v
        if let quote {
            // Inside quotes too, a credential is made of credential characters only: a quoted
            // sentence ('Password used to generate key') or code is not one. Brackets and the
            // like are among them (Django's keys have them); the quote ends it.
            while end < b.count, end - v < 1024, b[end] != quote, isCredentialByte(b[end]) || "()[]{}<>|;,".utf8.contains(b[end]) { end += 1 }
            guard end < b.count, b[end] == quote else { return nil }
        } else {
            while end < b.count, end - v < 1024, isCredentialByte(b[end]) { end += 1 }
            guard end == b.count || isDelimiter(b[end]) else { return nil }
        }
        let value = Bytes(rebasing: b[v..<end])
        guard value.count >= 8, !isReference(value), !isPlaceholder(value), !isPlaceholderWord(value) else { return nil }
        // Code, not a credential: `password = config.password`, `token = self.tokens.next`.
        if quote == nil, isMemberAccess(value) { return nil }
        // Public by design: publishable keys (`pk_live_…`, Mapbox's `pk.…`).
        if hasPrefix(b, v, "pk.") || hasPrefix(b, v, "pk_") { return nil }
        // Encrypted to be committed: a sealed secret's `encryptedData`, SOPS's `ENC[…]`.
        if encryptedAbove(b, v) { return nil }
        let lower = count(value, isLower), upper = count(value, isUpper), digits = count(value, isDigit)
        let symbols = value.count - lower - upper - digits
        // Hex: a digest or an id more often than a credential, unless it is as long as keys are
        // (32 digits and more) and the name says secret (`JWT_SECRET`, `DD_API_KEY`).
        if value.allSatisfy(isLowerHex) || value.allSatisfy({ isDigit($0) || ($0 >= 0x41 && $0 <= 0x46) }) {
            guard !password, setting, value.count >= 32, entropy(value) >= 3.0, !isDigestName(key) else { return nil }
            return SecretMatch(rule: "generic-secret", summary: "credential assigned to '\(key)'", start: v, end: end)
        }
        // A UUID under a name that says token or key is one (Heroku, Consul, npm's legacy tokens):
        // its entropy is lower than a random string's of that length.
        if !password, isUUID(value) { return SecretMatch(rule: "generic-secret", summary: "credential assigned to '\(key)'", start: v, end: end) }
        if password {
            // A digit, as in every generated password and most chosen ones; a type or variable
            // name (`_PasswordType`) has none. npm's `_password` is base64: judged decoded.
            let classes = [lower, upper, digits, symbols].filter { $0 > 0 }.count
            let shaped = digits > 0 && (classes >= 3 || (value.count >= 12 && entropy(value) >= 3.0))
            guard shaped || decodedPasswordShape(value) else { return nil }
        } else {
            // Random tokens of 16 or more characters hold a digit (all but a few in a thousand);
            // names in code (`Client.Credentials`) do not.
            guard value.count >= 16, lower + upper >= 4, digits >= 1, entropy(value) >= 3.3,
                !value.contains(0x20)
            else { return nil }
        }
        return SecretMatch(rule: "generic-secret", summary: "credential assigned to '\(key)'", start: v, end: end)
    }

    /// Whether only spaces, a quote, `export ` or a list's `- ` stand between the line's start and `i`.
    static func startsLine(_ b: Bytes, _ i: Int) -> Bool {
        var k = i - 1
        while k >= 0, b[k] == 0x20 || b[k] == 0x09 || b[k] == 0x22 || b[k] == 0x27 || b[k] == c("-") { k -= 1 }
        if k >= 6, hasPrefix(b, k - 5, "export") { k -= 6 }
        while k >= 0, b[k] == 0x20 || b[k] == 0x09 { k -= 1 }
        return k < 0 || b[k] == 0x0A
    }

    /// A padded base64 value that decodes to a printable password with a digit and letters.
    static func decodedPasswordShape(_ value: Bytes) -> Bool {
        guard value.count >= 12, value.count % 4 == 0, value.allSatisfy({ isBase64($0) || $0 == c("=") }), let decoded = decodeBase64(value),
            decoded.count >= 8, decoded.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return false }
        return hasCredentialShape(decoded)
    }

    /// `8-4-4-4-12` hex digits.
    static func isUUID(_ value: Bytes) -> Bool {
        guard value.count == 36 else { return false }
        for (index, byte) in value.enumerated() {
            if [8, 13, 18, 23].contains(index) { if byte != c("-") { return false } } else if !isLowerHex(byte) && !(byte >= 0x41 && byte <= 0x46) { return false }
        }
        return true
    }

    /// A key that names a digest of a secret, not the secret (`token_sha256`, `secret_hash`).
    static func isDigestName(_ key: String) -> Bool {
        let lower = key.lowercased()
        return ["hash", "sha", "digest", "checksum", "fingerprint", "md5"].contains { lower.contains($0) }
    }

    /// Whether the value at `v` sits under an `encryptedData:` block (Bitnami sealed secrets)
    /// in the lines just above it.
    static func encryptedAbove(_ b: Bytes, _ v: Int) -> Bool {
        let start = max(0, v - 160)
        let text = String(decoding: Bytes(rebasing: b[start..<v]), as: UTF8.self)
        return text.contains("encryptedData:") || text.contains("ENC[")
    }

    /// `Basic base64(user:password)` or `Bearer token`.
    static func authorizationHeader(at v: Int, _ b: Bytes) -> SecretMatch? {
        if hasPrefix(b, v, "Basic ") || hasPrefix(b, v, "basic ") { return basicValue(at: v + 6, b) }
        if hasPrefix(b, v, "Bearer ") || hasPrefix(b, v, "bearer ") || hasPrefix(b, v, "token ") || hasPrefix(b, v, "SSWS ") {
            let start = v + (b[v] == c("t") ? 6 : b[v] == c("S") ? 5 : 7)
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
}
