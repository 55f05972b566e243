import ContainerBasics
/// A distribution package name as apt or apk takes it on the command line, optionally pinned
/// (`jq=1.6-2.1`, `curl@edge`, `libc6:amd64`). Anything a shell would read as syntax is refused,
/// because package names are written unquoted into `RUN` lines.
public struct PackageName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String

    public init(parsing text: String) throws(ValueError) {
        guard let first = text.first, first.isASCII, first.isLetter || first.isNumber else {
            throw .unsafePackageName(text, character: nil)
        }
        // A version may be a pattern or a constraint (`ros-jazzy-ros-core=0.11.0-1*`,
        // `curl>8.5`): those characters only after the name, and the name is quoted in RUN.
        let nameEnd = text.firstIndex { "=<>~@:/".contains($0) } ?? text.endIndex
        if let bad = text[..<nameEnd].first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || ".+-_".contains($0))) })
            ?? text[nameEnd...].first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || ".+-_:~=@*?<>/".contains($0))) })
        {
            throw .unsafePackageName(text, character: bad)
        }
        value = text
    }

    /// As a `RUN` line writes it: quoted when a version pattern or constraint would be shell syntax.
    public var rendered: String { value.contains(where: { "*?<>".contains($0) }) ? "'\(value)'" : value }

    public var description: String { value }

    /// The name without an architecture, version or release: `jq` for `jq=1.6-2.1`.
    public var baseName: String { String(value.prefix { !":=/@<>~".contains($0) }) }

    /// What the distro's package manager would refuse in this name, with the name it probably
    /// meant, or nil. Debian policy: `[a-z0-9][a-z0-9+.-]+`, then `:arch`, `=version` or
    /// `/release`; Alpine: lowercase `[a-z0-9][a-z0-9_.+-]*`, then `@tag` or a version constraint.
    public func problem(for distro: Distro) -> String? {
        let name = String(value.prefix { !":=/@<>~".contains($0) })
        switch distro.packageManager {
        case .apt:
            let valid =
                name.count >= 2 && name.first.map { $0.isLowercase || $0.isNumber } == true
                && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "+.-".contains($0) }
            guard !valid else { return nil }
            let suggestion = name.lowercased().replacingOccurrences(of: "_", with: "-")
            let hint = suggestion != name && suggestion.count >= 2 ? "; did you mean '\(suggestion)'?" : ""
            return "package name '\(name)' is not a Debian package name (lowercase letters, digits and + . -, at least 2 characters, starting with a letter or digit)\(hint)"
        case .apk:
            let valid =
                name.first.map { $0.isLowercase || $0.isNumber } == true
                && name.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || "+._-".contains($0) }
            guard !valid else { return nil }
            let hint = name.lowercased() != name ? "; did you mean '\(name.lowercased())'?" : ""
            return "package name '\(name)' is not an Alpine package name (lowercase letters, digits and + . _ -)\(hint)"
        case .none:
            return nil
        }
    }

    public static func < (lhs: PackageName, rhs: PackageName) -> Bool {
        lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
    }
}
