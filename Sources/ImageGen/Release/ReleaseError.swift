import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
/// Why a release stops: before it changes anything (a refusal, a version git cannot tell, a
/// registry it cannot read), each with what to do about it.
public enum ReleaseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A tag would move where it must not (a released version), or verify failed.
    case refused(String)
    /// `--version-from-git` could not find the version.
    case git(String)
    /// The registry could not be read before tagging.
    case registry(String, cause: RegistryError? = nil)

    public var description: String {
        switch self {
        case .refused(let message), .git(let message), .registry(let message, _): message
        }
    }
}

extension ReleaseError: ClassifiedError {
    /// A version git cannot tell is bad input; a refusal or an unreadable registry fails the release.
    public var exitStatus: ExitStatus {
        if case .git = self { return .badInput }
        return .failed
    }

    public var cause: (any Error)? {
        if case .registry(_, let cause?) = self { return cause }
        return nil
    }
}
