/// A double-quoted string as HTTP (RFC 9110 `quoted-string`) and Dockerfile `LABEL` values write
/// it: a backslash escapes the next character.
public enum QuotedString {
    /// Reads one quoted string from the start of `rest` (which begins with `"`), leaving `rest`
    /// after its closing quote; nil, and `rest` unchanged, if it does not begin with a quote.
    /// An unterminated string ends with `rest`.
    public static func read(_ rest: inout Substring) -> String? {
        guard rest.first == "\"" else { return nil }
        rest = rest.dropFirst()
        var value = ""
        var escaped = false
        while let character = rest.first {
            rest = rest.dropFirst()
            if escaped { value.append(character); escaped = false; continue }
            if character == "\\" { escaped = true; continue }
            if character == "\"" { break }
            value.append(character)
        }
        return value
    }
}
