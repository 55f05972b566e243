import ContainerBasics
/// Secrets in the places build files put them besides `NAME=value`: command-line flags
/// (`docker login -p`, `curl -u USER:PASSWORD`, `--password X`, `mysql -pX`), config formats of
/// their own (`.pgpass` lines, `requirepass`, XML `<password>`), HTTP Basic credentials anywhere,
/// and an account id with the token that goes with it in the lines around it.
extension SecretRules {
    // MARK: - HTTP Basic

    /// `Basic base64(user:password)`, in a header, a proxy's config, a JSON document or a script.
    static func basicCredentials(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "Basic ") || hasPrefix(b, i, "basic ") else { return nil }
        return basicValue(at: i + 6, b)
    }

    /// The base64 `user:password` at `start`, when its password is one.
    static func basicValue(at start: Int, _ b: Bytes) -> SecretMatch? {
        let length = run(b, from: start, limit: 1024, { isBase64($0) || $0 == c("=") })
        guard length >= 8, boundaryAfter(b, start + length), let decoded = decodeBase64(Bytes(rebasing: b[start..<(start + length)])),
            let colon = decoded.firstIndex(of: c(":")), colon > 0, colon + 1 < decoded.count,
            decoded.allSatisfy({ $0 >= 0x20 && $0 < 0x7F })
        else { return nil }
        let user = Array(decoded[..<colon]), password = Array(decoded[(colon + 1)...])
        guard isRealPassword(password, user: user) else { return nil }
        return SecretMatch(rule: "http-basic-auth", summary: "HTTP Basic credentials", start: start, end: start + length)
    }

    /// A password written out, not a placeholder, a reference, a default (`guest`, the user's
    /// own name) or a word.
    static func isRealPassword(_ password: [UInt8], user: [UInt8]) -> Bool {
        password.withUnsafeBufferPointer { value in
            value.count >= 6 && !isReference(value) && !isPlaceholder(value) && !isPlaceholderWord(value) && !isDefaultPassword(value)
        } && password != user
    }

    /// What services ship as their password, or what a local development setup uses.
    static func isDefaultPassword(_ value: Bytes) -> Bool {
        let text = String(decoding: value, as: UTF8.self).lowercased()
        return [
            "postgres", "mysql", "mariadb", "redis", "rabbitmq", "mongo", "mongodb", "guest", "admin", "root", "test", "dev", "development",
            "app", "user", "password", "secret", "changeit", "example",
        ].contains(text)
    }

    // MARK: - An account id and its token

    /// `AC` and 32 hex digits (a Twilio account SID, and ids of the same shape), with a 32-hex
    /// token in the lines around it: an id and its auth token together. The id alone is not a
    /// secret, and a 32-hex value alone is a checksum as often as a token: the pair is.
    static func accountPair(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard boundaryBefore(b, i), hasPrefix(b, i, "AC"), run(b, from: i + 2, limit: 33, isLowerHex) == 32, boundaryAfter(b, i + 34) else { return nil }
        let from = max(0, i - 240), to = min(b.count, i + 34 + 240)
        var j = from
        while j < to {
            guard isLowerHex(b[j]), boundaryBefore(b, j) else { j += 1; continue }
            let length = run(b, from: j, limit: 33, isLowerHex)
            if length == 32, j != i + 2, boundaryAfter(b, j + 32), !labelledAsDigest(b, before: j),
                count(Bytes(rebasing: b[j..<(j + 32)]), isDigit) >= 4, count(Bytes(rebasing: b[j..<(j + 32)]), isLower) >= 4
            {
                return SecretMatch(rule: "account-auth-token", summary: "auth token next to its account id (AC…)", start: j, end: j + 32)
            }
            j += max(1, length)
        }
        return nil
    }

    /// `md5: `, `sha1sum`, `checksum = `… just before `j`: a digest, not a token.
    static func labelledAsDigest(_ b: Bytes, before j: Int) -> Bool {
        let start = max(0, j - 24)
        let text = String(decoding: Bytes(rebasing: b[start..<j]), as: UTF8.self).lowercased()
        return ["md5", "sha", "checksum", "digest", "hash", "etag", "integrity", "fingerprint"].contains { text.contains($0) }
    }

    // MARK: - Command lines

    /// A flag whose value is a credential: `--password X`, `--token=X`, `-u USER:PASSWORD`
    /// (curl), `-p X` of `docker login` and `sshpass`, `-pX` of the MySQL clients, `-a X` of
    /// `redis-cli`, and PowerShell's `ConvertTo-SecureString "X" -AsPlainText`.
    static func commandFlag(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard i + 2 < b.count, i == 0 || b[i - 1] == 0x20 || b[i - 1] == 0x09 || b[i - 1] == 0x0A || b[i - 1] == c("\"") || b[i - 1] == c("'") else {
            return secureString(i, b)
        }
        if b[i + 1] == c("-") {
            let nameLength = run(b, from: i + 2, limit: 40, { isLower($0) || $0 == c("-") })
            guard nameLength >= 4 else { return nil }
            let name = String(decoding: Bytes(rebasing: b[(i + 2)..<(i + 2 + nameLength)]), as: UTF8.self).replacingOccurrences(of: "-", with: "")
            let after = i + 2 + nameLength
            guard after < b.count, b[after] == c("=") || b[after] == 0x20 else { return nil }
            if name == "user" { return userPassword(at: after + 1, b) }
            let isPassword = name.hasSuffix("password") || name.hasSuffix("passwd")
            guard isPassword || name.hasSuffix("token") || name.hasSuffix("secret") || name.hasSuffix("apikey") else { return nil }
            return flagValue(at: after + 1, b, password: isPassword, flag: "--" + String(decoding: Bytes(rebasing: b[(i + 2)..<after]), as: UTF8.self))
        }
        let flag = b[i + 1]
        guard flag == c("p") || flag == c("u") || flag == c("a"), i + 2 < b.count else { return nil }
        if flag == c("u") {
            guard b[i + 2] == 0x20 else { return nil }
            return userPassword(at: i + 3, b)
        }
        let line = lineText(b, around: i)
        let mysql = line.contains("mysql") || line.contains("mariadb")
        if flag == c("a") {
            guard line.contains("redis-cli"), b[i + 2] == 0x20 else { return nil }
            return flagValue(at: i + 3, b, password: true, flag: "redis-cli -a")
        }
        if b[i + 2] == 0x20 {
            // `mysql -p db`: a prompt for the password, then the database's name.
            guard line.contains("docker login") || line.contains("podman login") || line.contains("buildah login") || line.contains("sshpass") else { return nil }
            return flagValue(at: i + 3, b, password: true, flag: "-p")
        }
        guard mysql || line.contains("sshpass") else { return nil }
        return flagValue(at: i + 2, b, password: true, flag: "-p")
    }

    /// `ConvertTo-SecureString "X" -AsPlainText`: the `-` of the cmdlet's name is at `i`.
    static func secureString(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard i >= 9, hasPrefix(b, i - 9, "ConvertTo-SecureString") else { return nil }
        var v = i + 13
        while v < b.count, b[v] == 0x20 || b[v] == c("(") { v += 1 }
        return flagValue(at: v, b, password: true, flag: "ConvertTo-SecureString")
    }

    /// The value after a flag, quoted or not.
    static func flagValue(at v: Int, _ b: Bytes, password: Bool, flag: String) -> SecretMatch? {
        guard v < b.count, b[v] != c("-") else { return nil }
        var quote: UInt8?
        var start = v
        if b[v] == 0x22 || b[v] == 0x27 {
            quote = b[v]
            start += 1
        }
        guard var match = genericValue(at: start, quote: quote, b, password: password, key: flag) else { return nil }
        match.summary = "credential given to \(flag)"
        return match
    }

    /// `USER:PASSWORD` (curl's `-u`, `--user`, yarn's `npmAuthIdent`): the password.
    static func userPassword(at v: Int, _ b: Bytes) -> SecretMatch? {
        var start = v
        var quote: UInt8?
        if start < b.count, b[start] == 0x22 || b[start] == 0x27 {
            quote = b[start]
            start += 1
        }
        let length = run(b, from: start, limit: 256, { isCredentialByte($0) && $0 != quote })
        let value = Array(b[start..<(start + length)])
        guard let colon = value.firstIndex(of: c(":")), colon > 0 else { return nil }
        let user = Array(value[..<colon]), password = Array(value[(colon + 1)...])
        guard !user.contains(c("$")), isRealPassword(password, user: user), hasCredentialShape(password) else { return nil }
        return SecretMatch(rule: "user-password", summary: "password of a USER:PASSWORD pair", start: start + colon + 1, end: start + length)
    }

    /// A password as people generate or choose them: a digit, and letters.
    static func hasCredentialShape(_ value: [UInt8]) -> Bool {
        value.withUnsafeBufferPointer { count($0, isDigit) >= 1 && count($0, isLetter) >= 2 && entropy($0) >= 2.5 }
    }

    /// The text of the line `i` is on.
    static func lineText(_ b: Bytes, around i: Int) -> String {
        var start = i
        while start > 0, b[start - 1] != 0x0A, i - start < 512 { start -= 1 }
        var end = i
        while end < b.count, b[end] != 0x0A, end - i < 512 { end += 1 }
        return String(decoding: Bytes(rebasing: b[start..<end]), as: UTF8.self)
    }

    // MARK: - Config formats

    /// A `.pgpass` line: `host:port:database:user:password`, the port a number or `*`. `i` is
    /// one of its colons; the match is the password.
    static func pgpass(_ i: Int, _ b: Bytes) -> SecretMatch? {
        var start = i
        while start > 0, b[start - 1] != 0x0A, i - start < 256 { start -= 1 }
        var end = i
        while end < b.count, b[end] != 0x0A, b[end] != 0x0D, end - i < 256 { end += 1 }
        let line = Array(b[start..<end])
        guard !line.contains(0x20), !line.contains(0x09) else { return nil }
        let fields = line.split(separator: c(":"), omittingEmptySubsequences: false)
        guard fields.count == 5, let colon4 = (start..<end).filter({ b[$0] == c(":") }).last, colon4 == i,
            fields[1] == [c("*")] || (!fields[1].isEmpty && fields[1].allSatisfy(isDigit)), fields.allSatisfy({ !$0.isEmpty })
        else { return nil }
        let host = String(decoding: fields[0], as: UTF8.self).lowercased()
        let user = Array(fields[3]), password = Array(fields[4])
        guard isRealPassword(password, user: user), !(isLocalHost(host) && password.withUnsafeBufferPointer(isDefaultPassword)) else { return nil }
        return SecretMatch(rule: "pgpass-password", summary: "password in a .pgpass line", start: i + 1, end: end)
    }

    /// Hosts of a development machine or a compose network: `localhost`, loopback addresses,
    /// and a single-label service name (`db`).
    static func isLocalHost(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" || host == "0.0.0.0" || host == "*"
            || host.hasSuffix(".localhost") || host.hasSuffix(".local") || !host.contains(".")
    }

    /// `requirepass X` and `masterauth X` in a redis.conf.
    static func redisPassword(_ i: Int, _ b: Bytes) -> SecretMatch? {
        guard hasPrefix(b, i, "requirepass "), i == 0 || b[i - 1] == 0x0A || b[i - 1] == 0x20 else { return nil }
        var v = i + 12
        while v < b.count, b[v] == 0x20 { v += 1 }
        return flagValue(at: v, b, password: true, flag: "requirepass")
    }

    /// `<password>X</password>`, `<token>`, `<secretKey>`…: an XML element named as a credential
    /// (Maven's settings.xml, NuGet.Config, server configs).
    static func xmlElement(_ i: Int, _ b: Bytes) -> SecretMatch? {
        let nameLength = run(b, from: i + 1, limit: 40, { isAlnum($0) || $0 == c("_") || $0 == c("-") })
        let close = i + 1 + nameLength
        guard nameLength >= 5, close < b.count, b[close] == c(">") else { return nil }
        let name = String(decoding: Bytes(rebasing: b[(i + 1)..<close]), as: UTF8.self).lowercased().replacingOccurrences(of: "-", with: "")
            .replacingOccurrences(of: "_", with: "")
        guard secretKeySuffixes.contains(where: { name.utf8.reversed().starts(with: $0.reversed()) }) else { return nil }
        let isPassword = passwordSuffixes.contains { name.utf8.reversed().starts(with: $0.reversed()) }
        return genericValue(at: close + 1, quote: c("<"), b, password: isPassword, key: name)
    }

    // MARK: - Bots

    /// A Telegram bot token: the bot's numeric id, `:`, and 35 characters. `i` is the colon.
    static func telegram(_ i: Int, _ b: Bytes) -> SecretMatch? {
        var s = i
        while s > 0, i - s < 11, isDigit(b[s - 1]) { s -= 1 }
        guard (8...10).contains(i - s), boundaryBefore(b, s), run(b, from: i + 1, limit: 36, isTokenByte) == 35, boundaryAfter(b, i + 36) else { return nil }
        let body = Bytes(rebasing: b[(i + 1)..<(i + 36)])
        guard body.contains(where: isUpper), body.contains(where: isLower) else { return nil }
        return SecretMatch(rule: "telegram-bot-token", summary: "Telegram bot token", start: s, end: i + 36)
    }
}
