import ContainerBasics
import ImageGenValues
import BuildContext
/// A recipe as `imagegen import` writes it: plain YAML, keys in the reference's order, strings
/// quoted only where YAML would read them otherwise, comments above the steps they belong to.
public struct ImportedRecipe: Sendable, Equatable {
    public var name: String
    public var args: [(String, String)] = []
    public var variants: [(String, [String])] = []
    public var tags: [String] = []
    public var layers: [Layer] = []
    /// Lines for the top of the file (what was imported, and from where).
    public var header: [String] = []

    public struct Layer: Sendable, Equatable {
        public var name: String
        public var from: String
        public var image: String?
        public var release = true
        public var steps: [Step] = []
        public var comments: [String] = []
    }

    public struct Step: Sendable, Equatable {
        public var key: String
        public var value: YAMLValue
        public var comments: [String] = []
    }

    public static func == (lhs: ImportedRecipe, rhs: ImportedRecipe) -> Bool {
        lhs.name == rhs.name && lhs.args.map(\.0) == rhs.args.map(\.0) && lhs.args.map(\.1) == rhs.args.map(\.1)
            && lhs.variants.map(\.0) == rhs.variants.map(\.0) && lhs.variants.map(\.1) == rhs.variants.map(\.1) && lhs.tags == rhs.tags
            && lhs.layers == rhs.layers
    }
}

/// A YAML value, for writing.
public indirect enum YAMLValue: Sendable, Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case list([YAMLValue])
    case map([Entry])
    /// A `|` block: one line each.
    case block([String])

    /// Every string in the value, keys included.
    public var strings: [String] {
        switch self {
        case .string(let text): [text]
        case .int, .bool: []
        case .list(let items): items.flatMap(\.strings)
        case .map(let entries): entries.flatMap { [$0.key] + $0.value.strings }
        case .block(let lines): lines
        }
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var value: YAMLValue
        public init(_ key: String, _ value: YAMLValue) {
            self.key = key
            self.value = value
        }
    }
}

enum RecipeWriter {
    static func write(_ recipe: ImportedRecipe) -> String {
        var out = ""
        for line in recipe.header { out += "# \(line)\n" }
        out += "recipe: \(scalar(recipe.name))\n"
        if !recipe.args.isEmpty {
            out += "args:\n"
            for (name, value) in recipe.args { out += "  \(name): \(scalar(value, forceString: true))\n" }
        }
        if !recipe.variants.isEmpty {
            out += "variants:\n"
            for (name, values) in recipe.variants { out += "  \(name): [\(values.map { scalar($0, forceString: true, inFlow: true) }.joined(separator: ", "))]\n" }
        }
        if !recipe.tags.isEmpty { out += "tags: [\(recipe.tags.map { scalar($0, forceString: true, inFlow: true) }.joined(separator: ", "))]\n" }
        out += "layers:\n"
        for layer in recipe.layers {
            for comment in layer.comments { out += "  # \(comment)\n" }
            out += "  \(layer.name):\n"
            out += "    from: \(scalar(layer.from))\n"
            if let image = layer.image { out += "    image: \(scalar(image))\n" }
            if !layer.release { out += "    release: false\n" }
            if !layer.steps.isEmpty {
                out += "    steps:\n"
                for step in layer.steps {
                    for comment in step.comments { out += "      #\(comment.isEmpty ? "" : " " + comment)\n" }
                    out += "      - \(step.key):" + value(step.value, indent: 10) + "\n"
                }
            }
        }
        return out
    }

    /// A value after `key:`: inline where it fits, a block otherwise.
    static func value(_ value: YAMLValue, indent: Int) -> String {
        switch value {
        case .string(let text): return " " + scalar(text)
        case .int(let number): return " \(number)"
        case .bool(let flag): return " \(flag)"
        case .list(let items): return " [" + items.map { inline($0) }.joined(separator: ", ") + "]"
        case .map(let entries):
            if entries.allSatisfy({ if case .block = $0.value { false } else { true } }) {
                return " {" + entries.map { "\(key($0.key)): \(inline($0.value))" }.joined(separator: ", ") + "}"
            }
            let pad = String(repeating: " ", count: indent)
            return entries.map { "\n" + pad + key($0.key) + ":" + Self.value($0.value, indent: indent + 2) }.joined()
        case .block(let lines):
            let pad = String(repeating: " ", count: indent)
            return " |" + lines.map { "\n" + pad + $0 }.joined()
        }
    }

    static func inline(_ value: YAMLValue) -> String {
        switch value {
        case .string(let text): return scalar(text, forceString: true, inFlow: true)
        case .int(let number): return "\(number)"
        case .bool(let flag): return "\(flag)"
        case .list(let items): return "[" + items.map { inline($0) }.joined(separator: ", ") + "]"
        case .map(let entries): return "{" + entries.map { "\(key($0.key)): \(inline($0.value))" }.joined(separator: ", ") + "}"
        case .block(let lines): return scalar(lines.joined(separator: " "), forceString: true, inFlow: true)
        }
    }

    static func key(_ text: String) -> String {
        text.allSatisfy { $0.isLetter || $0.isNumber || "_-./".contains($0) } && !text.isEmpty ? text : quoted(text)
    }

    /// A string as YAML reads it back unchanged: plain where it is safe, double-quoted otherwise.
    static func scalar(_ text: String, forceString: Bool = false, inFlow: Bool = false) -> String {
        if text.isEmpty { return "\"\"" }
        let reserved = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        let looksTyped = reserved.contains(text.lowercased()) || Double(text) != nil || text.hasPrefix("0x") || text.hasPrefix("0o")
        let indicators = "-?:,[]{}#&*!|>'\"%@`"
        var plain = !(looksTyped && forceString) && !looksTyped
        if let first = text.first, indicators.contains(first) || first == " " { plain = false }
        if text.last == " " || text.last == ":" { plain = false }
        if text.contains(": ") || text.contains(" #") || text.contains("\n") || text.contains("\t") || text.contains("\\") { plain = false }
        if inFlow, text.contains(where: { ",[]{}".contains($0) }) { plain = false }
        return plain ? text : quoted(text)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for character in text {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(character)
            }
        }
        return out + "\""
    }
}

extension ImportedRecipe {
    /// The recipe as YAML, as `imagegen import` writes it.
    public var yaml: String { RecipeWriter.write(self) }
}
