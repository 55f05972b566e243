import ContainerBasics
import ImageGenValues
import BuildContext
/// Reads a Dockerfile into its instructions as written: keyword, flags, arguments, where each
/// starts, and the comment lines directly above it. It follows the Dockerfile reference's
/// syntax (parser directives, the escape character, line continuations, comment lines inside
/// them, JSON and shell forms); what imagegen cannot express is left to ``DockerfileImporter``
/// to refuse at its line and column.
package struct DockerfileParser {
    struct Parsed: Equatable {
        /// Upper-cased: `RUN`, `COPY`…
        var keyword: String
        /// `--name=value` flags before the arguments, in order (`--link` has an empty value).
        var flags: [(name: String, value: String)]
        /// The arguments with continuation lines kept (`\` and newline), as the author wrote them.
        var text: String
        /// The JSON array form, when the arguments are one.
        var json: [String]?
        var location: SourceLocation
        var comments: [String]

        static func == (lhs: Parsed, rhs: Parsed) -> Bool {
            lhs.keyword == rhs.keyword && lhs.text == rhs.text && lhs.location == rhs.location
                && lhs.flags.map(\.name) == rhs.flags.map(\.name) && lhs.flags.map(\.value) == rhs.flags.map(\.value)
        }

        /// The arguments as one line: continuations joined with a space.
        func line(escape: Character) -> String {
            DockerfileParser.joinContinuations(text, escape: escape).trimmingCharacters(in: .whitespaces)
        }

        func flag(_ name: String) -> String? { flags.last { $0.name == name }?.value }
    }

    var file: String
    var escape: Character = "\\"
    var instructions: [Parsed] = []
    var diagnostics = Diagnostics()
    /// The comment lines above the first instruction, parser directives excluded.
    var leadingComments: [String] = []

    init(file: String, text: String) {
        self.file = file
        parse(text)
    }

    private mutating func parse(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        var index = 0
        // Parser directives: `# escape=`` ` and `# syntax=…`, before anything else.
        while index < lines.count, let directive = Self.directive(lines[index]) {
            if directive.name == "escape" {
                if directive.value == "`" || directive.value == "\\" {
                    escape = Character(directive.value)
                } else {
                    diagnostics.error("escape directive must be \\ or `, found '\(directive.value)'", at: SourceLocation(file: file, line: index + 1, column: 1))
                }
            }
            index += 1
        }
        var comments: [String] = []
        while index < lines.count {
            let raw = lines[index]
            let trimmed = raw.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty {
                if instructions.isEmpty, !comments.isEmpty { leadingComments += comments }
                comments = []
                index += 1
                continue
            }
            if trimmed.hasPrefix("#") {
                var comment = trimmed.dropFirst()
                if comment.hasPrefix(" ") { comment = comment.dropFirst() }
                comments.append(String(comment))
                index += 1
                continue
            }
            let start = index
            let column = raw.count - trimmed.count + 1
            // The instruction, with its continuation lines (comment lines inside are dropped).
            var body = String(trimmed)
            while Self.continues(body, escape: escape), index + 1 < lines.count {
                index += 1
                let next = lines[index]
                if next.drop(while: { $0 == " " || $0 == "\t" }).hasPrefix("#") { continue }
                body += "\n" + next
            }
            index += 1
            let keywordEnd = body.firstIndex { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == escape } ?? body.endIndex
            let keyword = body[..<keywordEnd].uppercased()
            var rest = String(body[keywordEnd...])
            if rest.hasPrefix(String(escape)) && rest.dropFirst().hasPrefix("\n") { rest = String(rest.dropFirst(2)) }
            rest = String(rest.drop { $0 == " " || $0 == "\t" })
            var flags: [(String, String)] = []
            if ["COPY", "ADD", "RUN", "FROM", "HEALTHCHECK"].contains(keyword) {
                while rest.hasPrefix("--") {
                    let end = rest.firstIndex { $0 == " " || $0 == "\t" || $0 == "\n" } ?? rest.endIndex
                    let flag = rest[rest.index(rest.startIndex, offsetBy: 2)..<end]
                    if let equals = flag.firstIndex(of: "=") {
                        flags.append((String(flag[..<equals]), String(flag[flag.index(after: equals)...])))
                    } else {
                        flags.append((String(flag), ""))
                    }
                    rest = String(rest[end...])
                    // Past the flag: spaces, or a continuation to the next line.
                    while true {
                        rest = String(rest.drop { $0 == " " || $0 == "\t" })
                        if rest.hasPrefix(String(escape) + "\n") {
                            rest = String(rest.dropFirst(2))
                        } else if rest.hasPrefix("\n") {
                            rest = String(rest.dropFirst())
                        } else {
                            break
                        }
                    }
                }
            }
            var parsed = Parsed(
                keyword: keyword, flags: flags, text: rest, json: nil, location: SourceLocation(file: file, line: start + 1, column: column),
                comments: comments)
            parsed.json = Self.jsonArray(parsed.line(escape: escape))
            comments = []
            instructions.append(parsed)
        }
    }

    /// `# name=value` at the top of the file.
    static func directive(_ line: String) -> (name: String, value: String)? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("#") else { return nil }
        let body = trimmed.dropFirst().trimmingCharacters(in: .whitespaces)
        guard let equals = body.firstIndex(of: "=") else { return nil }
        let name = body[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
        guard ["escape", "syntax", "check"].contains(name) else { return nil }
        return (name, body[body.index(after: equals)...].trimmingCharacters(in: .whitespaces))
    }

    /// Whether a line ends with the escape character (spaces after it allowed).
    static func continues(_ text: String, escape: Character) -> Bool {
        let last = text.split(separator: "\n", omittingEmptySubsequences: false).last ?? ""
        return last.trimmingCharacters(in: .whitespaces).hasSuffix(String(escape))
    }

    /// Continuation lines joined: the escape and the newline go, one space stays between parts.
    static func joinContinuations(_ text: String, escape: Character) -> String {
        continuationLines(text, escape: escape).joined(separator: " ")
    }

    /// The parts of an instruction's text on each line, escapes and surrounding spaces removed.
    static func continuationLines(_ text: String, escape: Character) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            var part = line.trimmingCharacters(in: .whitespaces)
            if part.hasSuffix(String(escape)) { part = String(part.dropLast()).trimmingCharacters(in: .whitespaces) }
            return part
        }.filter { !$0.isEmpty }
    }

    /// `["a", "b"]` as the Dockerfile's JSON form (strings only), or nil.
    static func jsonArray(_ text: String) -> [String]? {
        guard text.hasPrefix("["), text.hasSuffix("]"), let value = try? JSONValue(parsing: Array(text.utf8)), let items = value.arrayValue else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    /// Words of a shell-form argument list (`EXPOSE 80 443`, `COPY a b /c/`): split on spaces,
    /// quotes removed, the escape character taking the next one literally.
    static func words(_ text: String, escape: Character) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var escaped = false
        var started = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if character == escape, quote != "'" {
                escaped = true
                continue
            }
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
                continue
            }
            if character == "\"" || character == "'" {
                quote = character
                started = true
                continue
            }
            if character == " " || character == "\t" || character == "\n" {
                if started || !current.isEmpty { words.append(current) }
                current = ""
                started = false
                continue
            }
            current.append(character)
            started = true
        }
        if started || !current.isEmpty { words.append(current) }
        return words
    }

    /// `KEY=VALUE KEY2="VALUE 2"` (ENV, LABEL, ARG), or the old `KEY VALUE` form of ENV.
    static func pairs(_ text: String, escape: Character, legacy: Bool) -> [(String, String)]? {
        let words = words(text, escape: escape)
        guard let first = words.first else { return nil }
        if !first.contains("=") {
            guard legacy else { return nil }
            // `ENV KEY the rest`: everything after the key is the value.
            let rest = text.drop { $0 == " " || $0 == "\t" }.drop { $0 != " " && $0 != "\t" }.trimmingCharacters(in: .whitespaces)
            return [(first, Self.words(rest, escape: escape).joined(separator: " "))]
        }
        var result: [(String, String)] = []
        for word in words {
            guard let equals = word.firstIndex(of: "=") else { return nil }
            result.append((String(word[..<equals]), String(word[word.index(after: equals)...])))
        }
        return result
    }
}
