import Foundation
import Yams
import ContainerBasics

/// Typed reads of a composed YAML tree that record a diagnostic (with line and column) for every
/// mistake instead of stopping at the first, so `validate` can report them all at once.
package final class YAMLReader {
    let file: String
    package var diagnostics = Diagnostics()
    /// Arg values for `${NAME}` substitution in string values.
    package var args: [String: String] = [:]
    /// Args referenced since the last reset; the loader attributes them to a layer or toolset.
    package var usedArgs: Set<String> = []

    /// Secrets already reported, so a value and its substituted form do not both report one.
    private var reportedSecrets = Set<String>()
    /// The file's lines, for the comments written above a step.
    package var sourceLines: [Substring] = []
    /// Keys other tools use for what this format calls otherwise: `unknown key 'ports'` says
    /// to write `expose`.
    package var keyHints: [String: String] = [:]

    package init(file: String) { self.file = file }

    /// The `#` comment lines directly above `node`'s line (no blank line between), without `# `.
    package func comments(above node: Node) -> [String] {
        guard let line = node.mark?.line, line >= 2, line - 1 <= sourceLines.count else { return [] }
        var result: [String] = []
        var index = line - 2
        while index >= 0 {
            let text = sourceLines[index].drop { $0 == " " || $0 == "\t" }
            guard text.hasPrefix("#") else { break }
            var comment = text.dropFirst()
            if comment.hasPrefix(" ") { comment = comment.dropFirst() }
            result.insert(String(comment), at: 0)
            index -= 1
        }
        return result
    }

    /// Reports every secret in `text` (a value of the file) as an error at its position, naming
    /// the rule and never the value. Every string the file holds passes here: values as written
    /// and with args substituted, and keys.
    func refuseSecrets(_ text: String, in scalar: Node.Scalar?, at start: SourceLocation, what: String) {
        for finding in SecretScanner.scan(text) {
            let scalars = String(decoding: Array(text.utf8.prefix(finding.offset)), as: UTF8.self).unicodeScalars.count
            let at = scalar.map { position(of: scalars, in: $0, at: start) } ?? start
            guard reportedSecrets.insert("\(at) \(finding.rule)").inserted else { continue }
            diagnostics.error(
                "secret refused in \(what): \(finding.summary) [\(finding.rule)] (value not shown). A recipe is baked into images, "
                    + "their history and generated/: supply secrets at run time instead (docker run -e NAME, --env-file, a mounted secret)",
                at: at)
        }
    }

    package func location(_ node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    package func error(_ message: String, _ node: Node) { diagnostics.error(message, at: location(node)) }
    func warning(_ message: String, _ node: Node) { diagnostics.warning(message, at: location(node)) }

    package static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            if node.null != nil { return "nothing (null)" }
            if node.tag.rawValue == Tag.Name.bool.rawValue { return "a boolean" }
            if node.tag.rawValue == Tag.Name.int.rawValue { return "an integer" }
            if node.tag.rawValue == Tag.Name.float.rawValue { return "a number" }
            return "a string"
        }
    }

    // MARK: - Mappings

    /// The pairs of a mapping whose keys are strings; reports unknown keys with a suggestion.
    package func mapping(_ node: Node, what: String, allowed: [String]? = nil) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            error("\(what) must be a mapping, found \(Self.describe(node))", node)
            return nil
        }
        var pairs: [(String, Node, Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                error("keys in \(what) must be strings, found \(Self.describe(keyNode))", keyNode)
                continue
            }
            let key = scalar.string
            // A duplicate the composer already reported and set aside.
            if key.hasPrefix(YAMLComposer.setAsidePrefix) { continue }
            refuseSecrets(key, in: scalar, at: location(keyNode), what: "a key of \(what)")
            if let allowed, !allowed.contains(key) {
                let hint = keyHints[key.lowercased()].flatMap { allowed.contains(String($0.prefix { $0 != " " })) ? "; write \($0)" : nil }
                error("unknown key '\(key)' in \(what)\(hint ?? didYouMean(key, among: allowed))", keyNode)
                continue
            }
            pairs.append((key, keyNode, value))
        }
        return pairs
    }

    // MARK: - Scalars

    /// A string value with `${NAME}` substituted. Numbers and booleans are taken as their text.
    package func string(_ node: Node, what: String, interpolate: Bool = true) -> Located<String>? {
        guard case .scalar(let scalar) = node, node.null == nil else {
            error("\(what) must be a string, found \(Self.describe(node))", node)
            return nil
        }
        let at = location(node)
        refuseSecrets(scalar.string, in: scalar, at: at, what: what)
        guard interpolate else { return Located(scalar.string, at: at) }
        let result = Interpolation.apply(scalar.string, args: args)
        usedArgs.formUnion(result.used)
        for problem in result.problems {
            diagnostics.error(problem.message, at: position(of: problem.offset, in: scalar, at: at))
        }
        if result.value != scalar.string { refuseSecrets(result.value, in: nil, at: at, what: "\(what) (with args substituted)") }
        return Located(result.value, at: at)
    }

    /// Where the scalar's character at `offset` is, when the source spells the value on one line.
    private func position(of offset: Int, in scalar: Node.Scalar, at start: SourceLocation) -> SourceLocation {
        guard !scalar.string.contains("\n") else { return start }
        switch scalar.style {
        case .plain, .any:
            return SourceLocation(file: start.file, line: start.line, column: start.column + offset)
        case .singleQuoted where !scalar.string.contains("'"):
            return SourceLocation(file: start.file, line: start.line, column: start.column + 1 + offset)
        case .doubleQuoted where !scalar.string.contains("\\") && !scalar.string.contains("\""):
            return SourceLocation(file: start.file, line: start.line, column: start.column + 1 + offset)
        default:
            return start
        }
    }

    /// An integer, written as one or as a string of args that makes one (`uid: ${UID}`).
    package func int(_ node: Node, what: String, range: ClosedRange<Int>) -> Located<Int>? {
        var parsed: Int?
        if case .scalar(let scalar) = node, node.tag.rawValue == Tag.Name.int.rawValue {
            parsed = node.int
        } else if case .scalar(let scalar) = node, scalar.string.contains("${"), let text = string(node, what: what) {
            guard let number = Int(text.value.trimmingCharacters(in: .whitespaces)) else {
                error("\(what) must be an integer; with its args it is '\(text.value)'", node)
                return nil
            }
            parsed = number
        }
        guard let value = parsed else {
            error("\(what) must be an integer, found \(Self.describe(node))", node)
            return nil
        }
        guard range.contains(value) else {
            error("\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(value)", node)
            return nil
        }
        return Located(value, at: location(node))
    }

    package func bool(_ node: Node, what: String) -> Bool? {
        guard case .scalar = node, node.tag.rawValue == Tag.Name.bool.rawValue, let value = node.bool else {
            error("\(what) must be true or false, found \(Self.describe(node))", node)
            return nil
        }
        return value
    }

    package func size(_ node: Node, what: String) -> Located<ByteSize>? {
        guard let text = string(node, what: what) else { return nil }
        do {
            return Located(try ByteSize(parsing: text.value), at: text.location)
        } catch {
            self.error("\(what): \(error)", node)
            return nil
        }
    }

    // MARK: - Collections

    package func stringList(_ node: Node, what: String) -> [Located<String>] {
        guard case .sequence(let sequence) = node else {
            if node.null != nil { return [] }
            error("\(what) must be a list, found \(Self.describe(node)); write [\(node.string ?? "…")]", node)
            return []
        }
        return sequence.compactMap { string($0, what: "each entry of \(what)") }
    }

    /// A mapping of names to string values, in file order, e.g. `env:` or `labels:`.
    package func keyValues(
        _ node: Node, what: String, interpolate: Bool = true, validateKey: (String) -> String? = { _ in nil }
    ) -> [KeyValue] {
        if node.null != nil { return [] }
        guard let pairs = mapping(node, what: what) else { return [] }
        var result: [KeyValue] = []
        for (key, keyNode, value) in pairs {
            if let problem = validateKey(key) {
                error(problem, keyNode)
                continue
            }
            guard let text = string(value, what: "\(what).\(key)", interpolate: interpolate) else { continue }
            if text.value.contains("\n") {
                error("\(what).\(key) must be a single line", value)
                continue
            }
            result.append(KeyValue(key: key, value: text.value, location: location(keyNode)))
        }
        return result
    }
}
