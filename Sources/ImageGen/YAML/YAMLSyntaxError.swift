import Yams

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
            return Diagnostic(.error, "invalid YAML: \(detail)", at: at(mark))
        case .reader(let problem, let offset, _, _):
            return Diagnostic(.error, "invalid YAML: \(problem)", at: location(ofOffset: offset ?? 0, in: text, file: file))
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? "?"
            let second = secondOccurrence(of: key, after: context.mark, in: text)
            let place = second.map { SourceLocation(file: file, line: $0.line, column: $0.column) } ?? at(context.mark)
            let first = second == nil ? "" : " (first defined at line \(context.mark.line))"
            let what = duplicates.count > 1 ? "duplicate keys \(duplicates.map { "'\($0)'" }.joined(separator: ", "))" : "duplicate key '\(key)'"
            return Diagnostic(.error, "\(what) in the same mapping\(first)", at: place)
        default:
            return Diagnostic(.error, "cannot parse YAML: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
        }
    }

    /// libyaml reports a duplicate at its first spelling; the mistake is usually the later one.
    /// Looks for the same key at the same indentation further down the same block.
    private static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let indent = mark.column - 1
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        var lineIndex = mark.line
        while lineIndex < lines.count {
            let line = lines[lineIndex]
            let leading = line.prefix { $0 == " " }.count
            let content = line.dropFirst(leading)
            lineIndex += 1
            if content.isEmpty || content.hasPrefix("#") { continue }
            if leading < indent { return nil }
            guard leading == indent else { continue }
            for candidate in [key, "\"\(key)\"", "'\(key)'"] where content.hasPrefix(candidate) {
                let after = content.dropFirst(candidate.count).drop { $0 == " " }
                if after.hasPrefix(":") { return (lineIndex, mark.column) }
            }
        }
        return nil
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
