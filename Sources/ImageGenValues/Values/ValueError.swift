import ContainerBasics
/// Why text is not the value it should be (a semantic version, a size, a package name), with the
/// text and what is wrong with it.
public enum ValueError: Error, Sendable, Equatable, CustomStringConvertible {
    case semanticVersion(String, reason: String)
    case size(String)
    /// A name written unquoted into a shell line, with the character that could inject shell.
    case unsafePackageName(String, character: Character?)
    case languagePackage(String)
    case cache(String)
    case platform(String)

    public var description: String {
        switch self {
        case .semanticVersion(let text, let reason): "invalid semantic version '\(text)': \(reason)"
        case .size(let text): "invalid size '\(text)': expected a number and a unit such as 200MB, 1.5GiB or 512KiB"
        case .unsafePackageName(let name, let character?):
            "package name '\(name)' contains '\(character)', which could inject shell; names may hold only letters, digits and . + - _ : ~ = @"
        case .unsafePackageName(let name, nil): "package name '\(name)' must start with a letter or digit"
        case .languagePackage(let message), .cache(let message), .platform(let message): message
        }
    }
}

extension ValueError: ClassifiedError {
    public var exitStatus: ExitStatus { .badInput }
}
