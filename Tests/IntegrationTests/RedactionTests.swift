import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
import Testing

/// What a build or a probe prints passes the redactor: a step that echoes a token puts
/// `«redacted:RULE»` on imagegen's output, in every format, never the token.
@Suite("redaction of what builds and probes print")
struct RedactionTests {
    /// A shell expression that prints a GitHub-format token without spelling it in the recipe.
    static let printsToken = "echo ghp_$(printf 'Q7w9%.0s' 1 2 3 4 5 6 7 8 9)"
    static let token = "ghp_" + String(repeating: "Q7w9", count: 9)

    @Test("a RUN that echoes a token: plain, JSON and the failure report show it redacted")
    func buildOutput() async throws {
        try await withRecipeFixture("redact") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", EngineFixture.recipe(name, base: "    run: [\"\(Self.printsToken)\"]\n    probes: [\"\(Self.printsToken) && exit 4\"]\n"))

            let plain = try imagegen(["build", "recipe.yaml", "--progress", "plain", "--no-cache"], in: scratch)
            #expect(plain.status == 0, "\(plain.stderr)")
            #expect(plain.stderr.contains("«redacted:github-token»"), "\(plain.stderr)")
            let json = try imagegen(["build", "recipe.yaml", "--format", "json", "--no-cache"], in: scratch)
            #expect(json.status == 0)
            #expect(json.stdout.contains("«redacted:github-token»"))
            for output in [plain.stdout, plain.stderr, json.stdout, json.stderr] { #expect(!output.contains(Self.token)) }

            // The probe prints it and fails: every report format shows the failure, none the token.
            for format in ["text", "json"] {
                let verify = try imagegen(["verify", "recipe.yaml", "--format", format], in: scratch)
                #expect(verify.status == 1)
                #expect(verify.stdout.contains("«redacted:github-token»"), "\(format): \(verify.stdout)")
                #expect(!verify.stdout.contains(Self.token) && !verify.stderr.contains(Self.token))
            }
            let junit = try imagegen(["verify", "recipe.yaml", "--format", "junit", "--output", "reports/verify.xml"], in: scratch)
            #expect(junit.status == 1)
            let report = try #require(scratch.read("reports/verify.xml"))
            #expect(report.contains("«redacted:github-token»") && !report.contains(Self.token))

            // A failing step: its last lines, in the failure report, are redacted too.
            scratch.write("recipe.yaml", EngineFixture.recipe(name, base: "    run: [\"\(Self.printsToken) && exit 3\"]\n"))
            let failing = try imagegen(["build", "recipe.yaml"], in: scratch)
            #expect(failing.status == 1)
            #expect(failing.stderr.contains("last output") && failing.stderr.contains("«redacted:github-token»"), "\(failing.stderr)")
            #expect(!failing.stderr.contains(Self.token) && !failing.stdout.contains(Self.token))
        }
    }
}
