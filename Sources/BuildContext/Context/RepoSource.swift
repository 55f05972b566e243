import Foundation
import ContainerBasics
import ImageGenValues

/// Where a manifest's `repos:` entry points, and whether a recipe may fetch from there.
///
/// A recipe can come from an untrusted pull request, and whatever a repository holds is baked
/// into an image and pushed: a repository on the build host (another checkout, a cache of a
/// private repository) must not be reachable through a manifest. Network URLs are accepted;
/// a repository on this machine only inside one of the allowed roots (the recipe's directory,
/// and whatever the command line allows with `--allow-local-repos`). Git's own transports
/// beyond these (`ext::`, `fd::`, …) are refused, and git is told to use no other
/// (``RepoFetcher/environment(allowingLocal:)``).
package enum RepoSource: Equatable {
    /// https://, ssh://, git:// or scp-like `user@host:path`: fetched as written.
    case network(String)
    /// A path on this machine (a `file://` URL or a path), absolute, symlinks resolved.
    case local(String)

    static let networkSchemes = ["https", "ssh", "git", "git+ssh", "ssh+git"]

    /// Classifies `url`; a relative path is taken from `directory` (the manifest's).
    static func classify(_ url: String, relativeTo directory: String) throws(ContextError) -> RepoSource {
        if let colon = url.range(of: "://") {
            let scheme = url[..<colon.lowerBound].lowercased()
            if networkSchemes.contains(scheme) { return .network(url) }
            if scheme == "file" { return .local(resolved(String(url[colon.upperBound...]), relativeTo: directory)) }
            if scheme == "http" {
                throw .repository("plain http:// is not accepted (anyone on the way could change what is baked); use https://")
            }
            throw .repository("'\(scheme)://' is not a transport imagegen fetches repositories over; use https://, ssh:// or git://")
        }
        if url.contains("::") {
            throw .repository("git's '<transport>::' addresses (ext::, fd::…) can run programs on the build host and are refused; use https://, ssh:// or git://")
        }
        // scp-like: `[user@]host:path`, with no slash before the colon (git's own rule).
        if let colon = url.firstIndex(of: ":"), !url[..<colon].contains("/"), !url.hasPrefix("."), !url.hasPrefix("~") {
            return .network(url)
        }
        return .local(resolved(url, relativeTo: directory))
    }

    /// An absolute path with `~`, `.`, `..` and symlinks resolved (as far as the path exists).
    static func resolved(_ path: String, relativeTo directory: String) -> String {
        var path = path
        if path.hasPrefix("~") { path = NSString(string: path).expandingTildeInPath }
        if !path.hasPrefix("/") { path = realPath(directory) + "/" + path }
        return realPath(path)
    }

    package static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else {
            return URL(fileURLWithPath: path).standardizedFileURL.path
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` (resolved) is `root` or inside it.
    package static func isInside(_ path: String, _ root: String) -> Bool {
        let root = realPath(root)
        return path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }
}
