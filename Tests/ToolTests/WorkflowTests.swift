import Foundation
import Testing
import Yams

/// The GitHub workflows, the composite action and the README's example workflow: valid against
/// the schemas check-jsonschema ships, clean under zizmor, actions pinned by commit SHA, and
/// least privilege (no permissions at the top, each job asking for what it uses).
@Suite("GitHub workflows and action")
struct WorkflowTests {
    static let workflows = ["ci.yml", "release.yml"].map { "\(repositoryRoot)/.github/workflows/\($0)" }
    static let action = "\(repositoryRoot)/action.yml"

    /// The workflow the README shows, written where zizmor and the schema see a workflow.
    static func readmeExample(in scratch: Scratch) throws -> String {
        let readme = try String(contentsOfFile: "\(repositoryRoot)/README.md", encoding: .utf8)
        let start = try #require(readme.range(of: "A complete workflow:\n\n```yaml\n"), "the README shows a complete workflow")
        let end = try #require(readme.range(of: "\n```", range: start.upperBound..<readme.endIndex))
        return scratch.write(".github/workflows/images.yml", String(readme[start.upperBound..<end.lowerBound]) + "\n")
    }

    static func tool(_ name: String) throws -> String {
        try #require(which(name), "\(name) is needed (make test installs it from PyPI)")
    }

    @Test("workflows, the README's example and action.yml match GitHub's schemas")
    func schemas() throws {
        let scratch = Scratch()
        let checker = try Self.tool("check-jsonschema")
        let workflows = try run(checker, ["--builtin-schema", "vendor.github-workflows"] + Self.workflows + [Self.readmeExample(in: scratch)])
        #expect(workflows.status == 0, "\(workflows.stdout)\(workflows.stderr)")
        let action = try run(checker, ["--builtin-schema", "vendor.github-actions", Self.action])
        #expect(action.status == 0, "\(action.stdout)\(action.stderr)")

        // The check can fail: a job without runs-on is refused.
        let broken = scratch.write("broken.yml", "on: push\njobs:\n  x:\n    steps: [{run: echo}]\n")
        #expect(try run(checker, ["--builtin-schema", "vendor.github-workflows", broken]).status != 0)
    }

    @Test("zizmor (auditor persona) finds nothing, and does find an unpinned action")
    func zizmor() throws {
        let scratch = Scratch()
        let zizmor = try Self.tool("zizmor")
        let own = try run(zizmor, ["--offline", "--persona", "auditor", "\(repositoryRoot)/.github/workflows", Self.action])
        #expect(own.status == 0, "\(own.stdout)\(own.stderr)")
        #expect(own.stdout.contains("No findings"), "\(own.stdout)")

        // The README's example uses its own action by tag (`OWNER/imagegen@v1`, as the issue
        // that asked for the action writes it): allowed for that one action, nothing else.
        let example = try Self.readmeExample(in: scratch)
        let config = scratch.write("zizmor.yml", "rules:\n  unpinned-uses:\n    config:\n      policies:\n        \"OWNER/imagegen\": ref-pin\n        \"*\": hash-pin\n")
        let readme = try run(zizmor, ["--offline", "--persona", "auditor", "--config", config, example])
        #expect(readme.status == 0, "\(readme.stdout)\(readme.stderr)")

        let unpinned = scratch.write(
            "bad/.github/workflows/bad.yml",
            """
            on: push
            permissions: {}
            jobs:
              x:
                runs-on: ubuntu-24.04
                permissions: {}
                steps:
                  - uses: actions/checkout@v7
                    with: {persist-credentials: false}
            """)
        let found = try run(zizmor, ["--offline", unpinned])
        #expect(found.status != 0 && found.stdout.contains("unpinned-uses"), "\(found.stdout)")
    }

    @Test("every third-party action is pinned by a full commit SHA, with its version in a comment")
    func pinned() throws {
        let sha = try Regex(#"^[A-Za-z0-9-]+/[A-Za-z0-9._/-]+@[0-9a-f]{40} # v\d+(\.\d+)*$"#)
        for file in Self.workflows + [Self.action] {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let uses = text.split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.drop { $0 == " " || $0 == "-" }
                guard trimmed.hasPrefix("uses: ") else { return nil }
                return String(trimmed.dropFirst("uses: ".count))
            }
            #expect(!uses.isEmpty)
            for use in uses where use != "$/" {
                #expect(use.wholeMatch(of: sha) != nil, "\(file): uses: \(use)")
            }
        }
    }

    @Test("least privilege: no permissions for the whole workflow, each job lists its own")
    func permissions() throws {
        for file in Self.workflows {
            let document = try #require(try Yams.load(yaml: String(contentsOfFile: file, encoding: .utf8)) as? [String: Any])
            #expect((document["permissions"] as? [String: Any])?.isEmpty == true, "\(file): top-level permissions: {}")
            let jobs = try #require(document["jobs"] as? [String: Any])
            for (name, job) in jobs {
                let permissions = try #require((job as? [String: Any])?["permissions"] as? [String: String], "\(file): job \(name) declares permissions")
                // Only the jobs that make the GitHub release (its files are repository contents) write.
                let publishes = file.hasSuffix("release.yml") && ["github-release", "dist", "publish"].contains(name)
                #expect(permissions["contents"] == (publishes ? "write" : "read"), "\(file): \(name) reads the repository only")
                #expect(Set(permissions.keys).isSubset(of: ["contents", "packages", "checks"]), "\(file): \(name): \(permissions)")
            }
        }
    }

    @Test("the action takes recipe, command, cache, version and registry")
    func actionInputs() throws {
        let document = try #require(try Yams.load(yaml: String(contentsOfFile: Self.action, encoding: .utf8)) as? [String: Any])
        let inputs = try #require(document["inputs"] as? [String: Any])
        #expect(Set(["recipe", "command", "cache", "version", "registry"]).isSubset(of: Set(inputs.keys)))
        #expect((document["runs"] as? [String: Any])?["using"] as? String == "composite")
    }
}
