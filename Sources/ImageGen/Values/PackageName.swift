/// A distribution package name as apt or apk takes it on the command line, optionally pinned
/// (`jq=1.6-2.1`, `curl@edge`, `libc6:amd64`). Anything a shell would read as syntax is refused,
/// because package names are written unquoted into `RUN` lines.
public struct PackageName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    public enum ParseError: Error, Sendable, CustomStringConvertible {
        case unsafe(String, character: Character?)

        public var description: String {
            switch self {
            case .unsafe(let name, let character?):
                "package name '\(name)' contains '\(character)', which could inject shell; names may hold only letters, digits and . + - _ : ~ = @"
            case .unsafe(let name, nil):
                "package name '\(name)' must start with a letter or digit"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        guard let first = text.first, first.isASCII, first.isLetter || first.isNumber else {
            throw .unsafe(text, character: nil)
        }
        if let bad = text.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || ".+-_:~=@".contains($0))) }) {
            throw .unsafe(text, character: bad)
        }
        value = text
    }

    public var description: String { value }

    public static func < (lhs: PackageName, rhs: PackageName) -> Bool {
        lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
    }
}
