import ContainerBasics
/// Environment variable names that hold secrets by convention (`GITHUB_TOKEN`, `OPENAI_API_KEY`,
/// `DB_PASSWORD`, `AWS_SECRET_ACCESS_KEY`). A value under such a name in `ENV` is baked into
/// every image of the family, and `docker inspect` shows it to anyone who pulls one.
public enum SecretNames {
    static let secretWords: Set<String> = ["TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "CREDENTIALS", "CREDENTIAL", "APIKEY", "PRIVATEKEY"]
    static let keyQualifiers: Set<String> = ["API", "ACCESS", "SECRET", "PRIVATE", "AUTH", "MASTER", "SIGNING", "ENCRYPTION", "CLIENT", "LICENSE"]
    /// A last word that says the variable holds where the secret is, or something about it.
    static let pointerWords: Set<String> = [
        "FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST", "PORT", "NAME", "ID", "TYPE", "MODE",
        "LENGTH", "TTL", "ENABLED", "ENV", "REF", "SOURCE", "LOCATION", "HEADER", "COMMAND", "CMD", "HELPER",
    ]

    public static func looksSecret(_ name: String) -> Bool {
        let words = name.uppercased().split(separator: "_").map(String.init)
        guard let last = words.last, !pointerWords.contains(last), name.uppercased() != "PWD" else { return false }
        if words.contains(where: secretWords.contains) { return true }
        if last == "KEY", words.count >= 2, keyQualifiers.contains(words[words.count - 2]) { return true }
        return last.hasSuffix("APIKEY") || last.hasSuffix("TOKEN") || last.hasSuffix("SECRET") || last.hasSuffix("PASSWORD")
    }
}
