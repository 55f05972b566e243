import ContainerBasics
import ImageGenValues
/// Why a context could not be baked or packaged: a repository git cannot fetch, a package that
/// cannot be read or unpacked. Reported at the manifest's or recipe's place where it is named.
public enum ContextError: Error, Sendable, Equatable, CustomStringConvertible {
    /// git could not fetch or check out a repository; `cause` when git itself could not run.
    case repository(String, cause: Subprocess.LaunchError? = nil)
    case package(String)

    public var description: String {
        switch self {
        case .repository(let message, _), .package(let message): message
        }
    }
}

extension ContextError: ClassifiedError {
    public var exitStatus: ExitStatus { .badInput }
    public var cause: (any Error)? {
        if case .repository(_, let cause?) = self { return cause }
        return nil
    }
}
