import Crypto
import Foundation
import ContainerBasics
import ImageGenValues

/// Fetches the repositories a context manifest lists, with git on the host, at a pinned commit:
/// a branch or tag is resolved to its commit (`git ls-remote`), the commit's tree is checked out
/// once into the cache (`repos/<url hash>/<commit>/`, without `.git`) and reused from there.
/// The commit is a hash input, so a new commit on the branch rebuilds the context layer, and the
/// same commit keeps it.
public struct RepoFetcher: Sendable {
    /// Where trees are kept; nil for a temporary directory of this process.
    public var cacheDirectory: String

    public init(cacheDirectory: String? = nil) {
        self.cacheDirectory =
            cacheDirectory ?? CacheDirectory.path().map { $0 + "/repos" }
            ?? NSTemporaryDirectory() + "/imagegen-repos-\(getuid())"
    }

    /// A repository at its commit, checked out.
    public struct Checkout: Sendable, Hashable {
        public var commit: String
        public var directory: String
    }

    /// Git must never stop to ask for a password, nor use a terminal, and it uses no transport
    /// but the network ones (and local paths, where ``RepoSource`` allowed one).
    static func environment(allowingLocal: Bool = false) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["GIT_ALLOW_PROTOCOL"] = "https:ssh:git" + (allowingLocal ? ":file" : "")
        environment["GIT_TERMINAL_PROMPT"] = "0"
        environment["GIT_ASKPASS"] = "true"
        environment["SSH_ASKPASS"] = "true"
        environment["GIT_SSH_COMMAND"] = environment["GIT_SSH_COMMAND"] ?? "ssh -o BatchMode=yes"
        environment["LC_ALL"] = "C"
        return environment
    }

    static let timeout: Double = 300

    func git(_ arguments: [String], in directory: String? = nil, local: Bool) throws(ContextError) -> Subprocess.Result {
        do {
            return try Subprocess.run("git", arguments, directory: directory, environment: Self.environment(allowingLocal: local), timeoutSeconds: Self.timeout)
        } catch {
            throw ContextError.repository(scrub("\(error)"), cause: error)
        }
    }

    /// A message without this machine's cache paths: errors name the manifest's line, and the
    /// host's directories are nobody's business in a CI log.
    func scrub(_ message: String) -> String {
        message.replacingOccurrences(of: cacheDirectory, with: "<repository cache>")
    }

    /// The commit a ref names now.
    public func resolve(url: String, ref: ContextManifest.Ref, local: Bool = false) throws(ContextError) -> String {
        let pattern: [String]
        switch ref {
        case .commit(let hash): return hash
        case .branch(let name): pattern = ["refs/heads/\(name)"]
        case .tag(let name): pattern = ["refs/tags/\(name)", "refs/tags/\(name)^{}"]
        }
        let result = try git(["ls-remote", "--", url] + pattern, local: local)
        guard result.status == 0 else {
            throw ContextError.repository("cannot reach \(Redactor.redact(url)): \(result.timedOut ? "git ls-remote timed out" : scrub(result.lastErrorLine))")
        }
        var found: [String: String] = [:]
        for line in result.output.split(separator: "\n") {
            let fields = line.split(separator: "\t")
            if fields.count == 2 { found[String(fields[1])] = String(fields[0]) }
        }
        // An annotated tag: the commit it points to (`^{}`), not the tag object.
        guard let commit = pattern.reversed().compactMap({ found[$0] }).first else {
            throw ContextError.repository("\(Redactor.redact(url)) has no \(ref)")
        }
        return commit
    }

    /// The tree of `commit`, from the cache or fetched now.
    public func checkout(url: String, commit: String, local: Bool = false) throws(ContextError) -> Checkout {
        let key = SHA256.hash(data: Data(url.utf8)).map { String(format: "%02x", $0) }.joined().prefix(16)
        let directory = "\(cacheDirectory)/\(key)/\(commit)"
        if FileManager.default.fileExists(atPath: directory + ".complete") { return Checkout(commit: commit, directory: directory) }
        let work = "\(cacheDirectory)/\(key)/.fetch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        do {
            try FileManager.default.createDirectory(atPath: work + "/tree", withIntermediateDirectories: true)
        } catch {
            throw ContextError.repository(
                "cannot write imagegen's repository cache (\(FileSystemError.describe(error)))".replacingOccurrences(of: cacheDirectory, with: "<repository cache>"))
        }
        let init_ = try git(["init", "-q", work + "/git"], local: local)
        guard init_.status == 0 else { throw ContextError.repository("git init: \(scrub(init_.lastErrorLine))") }
        let fetch = try git(["-C", work + "/git", "fetch", "-q", "--depth", "1", "--", url, commit], local: local)
        guard fetch.status == 0 else {
            throw ContextError.repository(
                "cannot fetch commit \(commit.prefix(shortHashLength)) from \(Redactor.redact(url)): \(fetch.timedOut ? "timed out" : scrub(fetch.lastErrorLine))")
        }
        let checkout = try git(["--git-dir", work + "/git/.git", "--work-tree", work + "/tree", "checkout", "-q", "-f", commit, "--", "."], local: local)
        guard checkout.status == 0 else { throw ContextError.repository("cannot check out \(commit.prefix(shortHashLength)): \(scrub(checkout.lastErrorLine))") }
        // Into place in one rename; a racing fetch of the same commit left the same tree.
        try? FileManager.default.removeItem(atPath: directory)
        guard rename(work + "/tree", directory) == 0 || FileManager.default.fileExists(atPath: directory) else {
            throw ContextError.repository("cannot move the checkout into imagegen's repository cache")
        }
        _ = FileManager.default.createFile(atPath: directory + ".complete", contents: Data())
        return Checkout(commit: commit, directory: directory)
    }

    /// Names git accepts for a branch or tag, and nothing a shell or git option could take for more.
    static func isSafeRef(_ name: String) -> Bool {
        !name.isEmpty && !name.hasPrefix("-") && !name.hasPrefix("/") && !name.hasSuffix("/") && !name.hasSuffix(".lock")
            && !name.contains("..") && !name.contains("//") && !name.contains("@{")
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+".contains($0)) }
    }
}
