import ContainerBasics
import ImageGenValues
/// Why a context could not be baked or packaged: a repository git cannot fetch, a package that
/// cannot be read or unpacked. Reported at the manifest's or recipe's place where it is named.
public enum ContextError: Error, Sendable, Equatable, CustomStringConvertible {
    case repository(String)
    case package(String)

    public var description: String {
        switch self {
        case .repository(let message), .package(let message): message
        }
    }
}
