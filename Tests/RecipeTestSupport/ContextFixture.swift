import Foundation
import Testing
import BuildContext
import Planning
import Recipes
import ImageGenValues
import TestSupport

/// A local git repository for tests: `file://` URLs are what the tests fetch.
public struct TestRepository {
    public let path: String

    public init(in scratch: Scratch, name: String = "upstream") throws {
        path = scratch.url(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"])
    }

    public var url: String { "file://" + path }

    @discardableResult
    public func git(_ arguments: [String]) throws -> String {
        let result = try run("/usr/bin/env", ["git", "-C", path, "-c", "user.name=imagegen", "-c", "user.email=test@imagegen.invalid"] + arguments)
        try #require(result.status == 0, "git \(arguments): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes the files and commits them; returns the commit.
    @discardableResult
    public func commit(_ files: [String: String], message: String = "change") throws -> String {
        for (file, text) in files {
            let full = path + "/" + file
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", message])
        return try git(["rev-parse", "HEAD"])
    }
}

/// A recipe whose layer bakes `ctx/` with a manifest, written into a scratch directory.
public enum ContextFixture {
    /// A recipe whose layer bakes `ctx/` with the given manifest.
    public static func recipe(manifest: String, user: Bool = true) -> String {
        "recipe: demo\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
            + (user ? "    user: {name: dev, uid: 1000}\n" : "") + "    context: {dir: ctx}\n"
    }

    public static func scratch(manifest: String, files: [String] = ["docs/guide.md", "prompts/review.md", "configs/providers.yaml"]) -> Scratch {
        let scratch = Scratch()
        scratch.write("ctx/manifest.yaml", manifest)
        for file in files { scratch.write("ctx/" + file, "# \(file)\n") }
        return scratch
    }

    public static func plan(_ scratch: Scratch, user: Bool = true) -> (BuildPlan?, Diagnostics) {
        let path = scratch.write("recipe.yaml", recipe(manifest: "", user: user))
        return Planner.plan(recipeAt: path, cache: FileDigestCache(file: nil), options: ResolveOptions(cacheDirectory: scratch.url(".cache")))
    }

    public static let feat026 = """
        version: "1.0"
        name: "Project Context"
        description: "Context for XYZ project"
        docs:
          - path: "docs/guide.md"
            description: "API documentation"
        prompts:
          - path: "prompts/review.md"
            name: "code-review"
        configs:
          - path: "configs/providers.yaml"
            target: "~/.config/opencode/providers.yaml"

        """
}
