import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
/// Which tags a release gives each image, and what happens to each: the pure part of a release,
/// decided from the version and what the tags point at now.
///
/// - `1.4.2` gets `1.4.2`, `1.4`, `1` and `latest`.
/// - `0.3.1` gets `0.3.1`, `0.3` and `latest`, but no `0`: below 1.0.0 anything may change at any
///   release (semver.org item 4), so a `0` tag promising one compatible line would be a lie.
/// - `1.5.0-rc.1` gets only `1.5.0-rc.1`: a pre-release moves nothing anyone follows.
/// - Build metadata (`+build.7`) is not allowed in a Docker tag; the exact tag spells `+` as `_`
///   (`1.4.2_build.7`), the convention Helm uses for OCI registries, and the floating tags ignore it.
/// - A floating tag moves only forward: if it points at a higher version, it stays.
/// - An exact tag is never moved to another image.
public enum TagPlanner {
    /// What a tag points at now.
    public struct Current: Sendable, Equatable {
        public var imageID: ImageID
        /// The image's `org.opencontainers.image.version`, when it has a valid one.
        public var version: SemVer?
        /// The image's content hash label.
        public var contentHash: ContentHash?

        public init(imageID: ImageID, version: SemVer?, contentHash: ContentHash?) {
            self.imageID = imageID
            self.version = version
            self.contentHash = contentHash
        }

        /// An image as its labels describe it (in the engine, or a registry's image config).
        public init(imageID: ImageID, labels: [String: String]) {
            self.init(
                imageID: imageID, version: labels[ImageLabels.OCI.version].flatMap { try? SemVer(parsing: $0) },
                contentHash: labels[ImageLabels.contentHash].flatMap { try? ContentHash(parsing: $0) })
        }
    }

    public enum Action: Sendable, Equatable {
        case create
        case move(from: ImageID)
        /// Nothing to do, and why (already there, or a newer version holds the tag).
        case keep(String)

        public var name: String {
            switch self {
            case .create: "created"
            case .move: "moved"
            case .keep: "kept"
            }
        }
    }

    /// The Docker tag for a version: `+` becomes `_`.
    public static func exactTag(_ version: SemVer) -> Tag {
        // Semver's characters, with `+` spelt `_`, are all tag characters.
        (try? Tag(parsing: version.description.replacingOccurrences(of: "+", with: "_"))) ?? .latest
    }

    public static func tags(for version: SemVer) -> (exact: Tag, floating: [Tag]) {
        let exact = exactTag(version)
        guard !version.isPrerelease else { return (exact, []) }
        let floating = version.major == 0 ? ["0.\(version.minor)"] : ["\(version.major).\(version.minor)", "\(version.major)"]
        return (exact, floating.compactMap { try? Tag(parsing: $0) } + [.latest])
    }

    /// The exact tag: created, kept if it already names this release of this content, refused if
    /// it names anything else.
    /// `place` names where `current` was read (e.g. " in the registry") for the refusal.
    public static func exact(
        _ tag: Tag, repository: Repository, version: SemVer, contentHash: ContentHash, current: Current?, place: String = ""
    ) throws(ReleaseError) -> Action {
        guard let current else { return .create }
        if current.contentHash == contentHash, current.version == version {
            return .keep("already released")
        }
        throw .refused(
            "\(repository.reference(tag)) already names another image\(place) (\(current.version.map { "version \($0)" } ?? "no version label"), content hash \(current.contentHash?.short ?? "none")); a released version is never moved: release a new version"
        )
    }

    /// A floating tag: moved only when the release is not older than what it points at.
    /// `target` is the image the release tags (nil in a dry run, before it is made).
    public static func floating(_ tag: Tag, version: SemVer, target: ImageID?, current: Current?) -> Action {
        guard let current else { return .create }
        if current.imageID == target { return .keep("already there") }
        if let existing = current.version, existing.comparePrecedence(version) > 0 {
            return .keep("stays at \(existing), which is newer")
        }
        return .move(from: current.imageID)
    }
}
