import ContainerBasics
/// Rules for the names and paths a recipe may use. Each returns a message when the text breaks
/// the rule, or nil.
package enum Names {
    private static func isLowerAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }

    /// Recipe, layer and toolset names: they become Docker repository names (`<recipe>-<layer>`).
    package static func problem(withName name: String, kind: String) -> String? {
        guard !name.isEmpty else { return "\(kind) is empty" }
        guard name.count <= 64 else { return "\(kind) '\(name)' is longer than 64 characters" }
        guard let first = name.first, let last = name.last, isLowerAlnum(first), isLowerAlnum(last),
            name.allSatisfy({ isLowerAlnum($0) || $0 == "-" || $0 == "_" || $0 == "." }),
            !name.contains("..")
        else {
            return "\(kind) '\(name)' must be lowercase letters and digits, separated by '-', '_' or '.' (it becomes part of an image name)"
        }
        return nil
    }

    /// Label keys as Docker and hadolint (DL3048) accept them.
    package static func labelKeyProblem(_ key: String) -> String? {
        let reserved = ["com.docker.", "io.docker.", "org.dockerproject."]
        if let prefix = reserved.first(where: key.hasPrefix) {
            return "label key '\(key)' uses the reserved namespace '\(prefix)'"
        }
        guard let first = key.first, let last = key.last, isLowerAlnum(first), isLowerAlnum(last),
            key.allSatisfy({ isLowerAlnum($0) || $0 == "." || $0 == "-" }),
            !key.contains(".."), !key.contains("--")
        else {
            return "label key '\(key)' must be lowercase letters, digits, '.' and '-', starting and ending with a letter or digit"
        }
        return nil
    }

    package static func envKeyProblem(_ key: String) -> String? {
        isValidName(Substring(key))
            ? nil
            : "environment variable name '\(key)' must be letters, digits and _, not starting with a digit"
    }

    package static func userNameProblem(_ name: String) -> String? {
        guard let first = name.first, first == "_" || (first.isASCII && first.isLowercase),
            name.count <= 32,
            name.allSatisfy({ $0 == "_" || $0 == "-" || isLowerAlnum($0) })
        else {
            return "user name '\(name)' must be lowercase letters, digits, '_' or '-', at most 32, starting with a letter"
        }
        return nil
    }

    /// An absolute path inside the image, written unquoted into Dockerfile instructions.
    package static func imagePathProblem(_ path: String, what: String) -> String? {
        guard path.hasPrefix("/") else { return "\(what) '\(path)' must be an absolute path in the image" }
        if path.split(separator: "/").contains("..") { return "\(what) '\(path)' must not contain '..'" }
        if let bad = path.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || "/._-+@".contains($0))) }) {
            return "\(what) '\(path)' contains '\(bad)'; paths may hold only letters, digits and / . _ - + @"
        }
        return nil
    }

    /// A path relative to the recipe's directory (copy sources, context dirs).
    package static func relativePathProblem(_ path: String, what: String) -> String? {
        if path.isEmpty { return "\(what) is empty" }
        if path.hasPrefix("/") { return "\(what) '\(path)' is absolute; give a path relative to the recipe's directory" }
        if path.split(separator: "/").contains("..") { return "\(what) '\(path)' contains '..'; it must stay inside the recipe's directory" }
        if path.contains("\0") || path.contains("\n") { return "\(what) contains a control character" }
        return nil
    }

    /// An arg or environment variable name: letters, digits and `_`, not starting with a digit.
    package static func isValidName(_ name: Substring) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0) }
    }
}
