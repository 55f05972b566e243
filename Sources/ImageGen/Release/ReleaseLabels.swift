import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine

/// Where the release's version, revision and creation time come from.
public struct ReleaseInfo: Sendable, Equatable {
    public var version: SemVer
    /// The git commit the release is built from, when the recipe is in a git work tree.
    public var revision: String?
    /// RFC 3339.
    public var created: String

    public init(version: SemVer, revision: String?, created: String) {
        self.version = version
        self.revision = revision
        self.created = created
    }

    /// The OCI labels a released image carries.
    public var labels: [String: String] {
        var labels = [ImageLabels.OCI.version: version.description, ImageLabels.OCI.created: created]
        if let revision { labels[ImageLabels.OCI.revision] = revision }
        return labels
    }
}

/// Git facts for a release, read with the git command in the recipe's directory.
public enum GitInfo {
    static func git(_ arguments: [String], in directory: String) async -> (status: Int32, output: String) {
        guard let result = try? await Subprocess.run("git", arguments, directory: directory.isEmpty ? "." : directory, timeoutSeconds: 60) else {
            return (127, "")
        }
        return (result.status, result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The commit checked out, or nil outside a git work tree.
    public static func revision(in directory: String) async -> String? {
        let (status, output) = await git(["rev-parse", "HEAD"], in: directory)
        return status == 0 && !output.isEmpty ? output : nil
    }

    /// The commit's date (RFC 3339), which makes the `created` label repeatable for a commit.
    public static func commitDate(in directory: String) async -> String? {
        let (status, output) = await git(["show", "-s", "--format=%cI", "HEAD"], in: directory)
        return status == 0 && !output.isEmpty ? output : nil
    }

    /// The version of the current commit's `vX.Y.Z` tag (the highest, if there are several).
    public static func versionFromTag(in directory: String) async throws(ReleaseError) -> SemVer {
        let (status, output) = await git(["tag", "--points-at", "HEAD"], in: directory)
        guard status == 0 else { throw .git("--version-from-git: \(directory) is not in a git work tree") }
        let versions = output.split(separator: "\n").compactMap { tag -> SemVer? in
            guard tag.hasPrefix("v") else { return nil }
            return try? SemVer(parsing: String(tag.dropFirst()))
        }
        guard let highest = versions.max(by: { $0.comparePrecedence($1) < 0 }) else {
            throw .git("--version-from-git: the current commit has no vX.Y.Z tag (tags here: \(output.isEmpty ? "none" : output.split(separator: "\n").joined(separator: ", ")))")
        }
        return highest
    }

    /// `SOURCE_DATE_EPOCH` if set, else the commit date, else now.
    public static func creationTime(in directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) async -> String {
        if let epoch = environment["SOURCE_DATE_EPOCH"].flatMap(TimeInterval.init) {
            return Timestamp.rfc3339(Date(timeIntervalSince1970: epoch))
        }
        return await commitDate(in: directory) ?? Timestamp.rfc3339(Date())
    }
}
