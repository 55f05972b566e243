import Yams
import ContainerBasics

/// Turns libyaml's errors (through Yams) into located diagnostics.
enum YAMLSyntaxError {
    static func diagnostic(for error: any Error, in text: String, file: String) -> Diagnostic {
        func at(_ mark: Mark) -> SourceLocation { SourceLocation(file: file, line: mark.line, column: mark.column) }
        guard let error = error as? YamlError else {
            return Diagnostic(.error, "cannot parse YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let detail = context.map { "\(problem) \($0.text) (line \($0.mark.line))" } ?? problem
            return Diagnostic(.error, "invalid YAML: \(detail)\(flowHint(text, line: context?.mark.line ?? mark.line, to: mark.line))", at: at(mark))
        case .reader(let problem, let offset, _, _):
            return Diagnostic(.error, "invalid YAML: \(problem)", at: location(ofOffset: offset ?? 0, in: text, file: file))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let second = YAMLComposer.secondOccurrence(of: key, after: context.mark, in: text)
            let place = second.map { SourceLocation(file: file, line: $0.line, column: $0.column) } ?? at(context.mark)
            let first = second == nil ? "" : " (first defined at line \(context.mark.line))"
            let what = duplicates.count > 1 ? "duplicate keys \(duplicates.map { "'\($0)'" }.joined(separator: ", "))" : "duplicate key '\(key)'"
            return Diagnostic(.error, "\(what) in the same mapping\(first)", at: place)
        default:
            return Diagnostic(.error, "cannot parse YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// `{name: ${USER}}`: in a flow mapping or list, `{` opens a mapping, so an unquoted
    /// `${ARG}` breaks the line; say how to write it.
    private static func flowHint(_ text: String, line first: Int, to last: Int) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard first >= 1, last <= lines.count, first <= last else { return "" }
        for line in lines[(first - 1)..<last] {
            guard let range = line.range(of: "${") else { continue }
            let before = line[..<range.lowerBound]
            let opened = before.filter { $0 == "{" || $0 == "[" }.count > before.filter { $0 == "}" || $0 == "]" }.count
            let quoted = before.last { $0 != " " } == "\"" || before.last { $0 != " " } == "'"
            if opened, !quoted {
                let name = line[range.upperBound...].prefix { $0 != "}" }
                return "; inside { } or [ ], quote a value with an arg: \"${\(name)}\""
            }
        }
        return ""
    }

    private static func location(ofOffset offset: Int, in text: String, file: String) -> SourceLocation {
        var line = 1, column = 1
        for (index, scalar) in text.unicodeScalars.enumerated() {
            if index >= offset { break }
            if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
