import Yams
import ContainerBasics

/// Composes a YAML document as libyaml (through Yams) does, except that a duplicate key does not
/// end the reading: it is reported at its second spelling, that spelling is set aside (the
/// first one counts), and the document is composed again, so that `validate` still reports
/// every other mistake of the file at once.
package enum YAMLComposer {
    /// Keys of spellings set aside start with this; ``YAMLReader/mapping(_:what:allowed:)`` skips them.
    static let setAsidePrefix = "__imagegen_duplicate_"

    /// The root node (nil for an empty document or a syntax error) and the findings.
    package static func compose(_ text: String, file: String) -> (Node?, [Diagnostic]) {
        var text = text
        var findings: [Diagnostic] = []
        for round in 0..<256 {
            do {
                return (try Yams.compose(yaml: text), findings)
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                guard let key = duplicates.first,
                    let second = secondOccurrence(of: key, after: context.mark, in: text),
                    let patched = setAside(at: second, in: text, round: round)
                else {
                    findings.append(YAMLSyntaxError.diagnostic(for: YamlError.duplicatedKeysInMapping(duplicates: duplicates, context: context), in: text, file: file))
                    return (nil, findings)
                }
                findings.append(
                    Diagnostic(
                        .error, "duplicate key '\(key)' in the same mapping (first defined at line \(context.mark.line)); this one is ignored",
                        at: SourceLocation(file: file, line: second.line, column: second.column)))
                text = patched
            } catch {
                findings.append(YAMLSyntaxError.diagnostic(for: error, in: text, file: file))
                return (nil, findings)
            }
        }
        return (nil, findings)
    }

    /// Replaces the key spelled at `position` with a name no file uses.
    private static func setAside(at position: (line: Int, column: Int), in text: String, round: Int) -> String? {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard position.line >= 1, position.line <= lines.count else { return nil }
        let line = Array(lines[position.line - 1])
        let start = position.column - 1
        guard start >= 0, start < line.count, let end = tokenEnd(line, from: start) else { return nil }
        lines[position.line - 1] = String(line[..<start]) + "\(setAsidePrefix)\(round)" + String(line[end...])
        return lines.joined(separator: "\n")
    }

    /// Where a key token (plain, or quoted) starting at `start` ends.
    private static func tokenEnd(_ line: [Character], from start: Int) -> Int? {
        if line[start] == "\"" || line[start] == "'" {
            var index = start + 1
            while index < line.count {
                if line[index] == "\\" && line[start] == "\"" { index += 2; continue }
                if line[index] == line[start] { return index + 1 }
                index += 1
            }
            return nil
        }
        var index = start
        while index < line.count, line[index] != ":" { index += 1 }
        while index > start, line[index - 1] == " " { index -= 1 }
        return index > start ? index : nil
    }

    // MARK: - Finding the second spelling

    /// libyaml reports a duplicate at its first spelling; the mistake is usually the later one:
    /// the same key at the same indentation further down the block, or after a comma in the
    /// same flow mapping.
    static func secondOccurrence(of key: String, after mark: Mark, in text: String) -> (line: Int, column: Int)? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0) }
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        let first = lines[mark.line - 1]
        let start = mark.column - 1
        guard start >= 0, start <= first.count else { return nil }
        let before = first[..<start].last { $0 != " " }
        if before == "{" || before == "," { return inFlow(key, lines: lines, line: mark.line - 1, start: start) }
        return inBlock(key, lines: lines, mark: mark)
    }

    private static func spellings(_ key: String) -> [[Character]] { [Array(key), Array("\"\(key)\""), Array("'\(key)'")] }

    /// Whether `line` at `index` spells `key` followed by `:`.
    private static func spellsKey(_ key: String, _ line: [Character], at index: Int) -> Bool {
        for candidate in spellings(key) where index + candidate.count <= line.count && Array(line[index..<(index + candidate.count)]) == candidate {
            var after = index + candidate.count
            while after < line.count, line[after] == " " { after += 1 }
            if after < line.count, line[after] == ":" { return true }
        }
        return false
    }

    private static func inBlock(_ key: String, lines: [[Character]], mark: Mark) -> (line: Int, column: Int)? {
        let indent = mark.column - 1
        var index = mark.line
        while index < lines.count {
            let line = lines[index]
            let leading = line.prefix { $0 == " " }.count
            index += 1
            if leading == line.count || line[leading] == "#" { continue }
            if leading < indent { return nil }
            guard leading == indent else { continue }
            // A list item's mapping keys sit after `- `; a new item ends this mapping.
            if spellsKey(key, line, at: leading) { return (index, mark.column) }
        }
        return nil
    }

    /// Scans the flow mapping the first spelling is in, across lines, skipping quoted text and
    /// nested collections, for the key after a comma.
    private static func inFlow(_ key: String, lines: [[Character]], line: Int, start: Int) -> (line: Int, column: Int)? {
        var depth = 0
        var row = line
        var column = start + 1
        var afterComma = false
        while row < lines.count {
            let text = lines[row]
            while column < text.count {
                let character = text[column]
                if afterComma, character != " " {
                    if depth == 0, spellsKey(key, text, at: column) { return (row + 1, column + 1) }
                    afterComma = false
                }
                switch character {
                case "\"", "'":
                    var index = column + 1
                    while index < text.count, text[index] != character { index += character == "\"" && text[index] == "\\" ? 2 : 1 }
                    column = index
                case "{", "[": depth += 1
                case "}", "]":
                    if depth == 0 { return nil }
                    depth -= 1
                case ",": if depth == 0 { afterComma = true }
                case "#" where column > 0 && text[column - 1] == " ": column = text.count
                default: break
                }
                column += 1
            }
            row += 1
            column = 0
        }
        return nil
    }
}
