import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

@Suite("pip and npm lists, probes with expectations, healthchecks")
struct LanguagePackageTests {
    static let debian = """
        recipe: lang
        layers:
          base:
            from: debian:trixie-slim
            packages: [python3, nodejs]
            user: {name: dev, uid: 1000}
          tools:
            from: base
            pip: [ruff==0.8.4, "black[d]==24.10.0"]
            npm: [typescript@5.6.3, "@anthropic-ai/sdk@0.32.1"]
            toolsets: [more]
        toolsets:
          more:
            pip: [uv==0.5.11, ruff==0.8.4]

        """

    @Test("pins are required; names are checked where written")
    func pins() {
        let found = diagnostics(
            for: Self.debian.replacingOccurrences(of: "ruff==0.8.4, ", with: "ruff, ")
                .replacingOccurrences(of: "typescript@5.6.3", with: "TypeScript@latest"))
        expectDiagnostic(found, line: 9, column: 11, contains: "pip package 'ruff' is not pinned")
        expectDiagnostic(found, line: 10, column: 11, contains: "npm package name 'TypeScript'")
        for bad in ["ruff==0.8;rm -rf /", "$(id)==1", "a==$HOME"] {
            #expect(throws: ValueError.self) { try LanguagePackage(parsing: bad, ecosystem: .pip) }
        }
        #expect(throws: ValueError.self) { try LanguagePackage(parsing: "left-pad@^1.3.0", ecosystem: .npm) }
        #expect((try? LanguagePackage(parsing: "@scope/name@1.2.3", ecosystem: .npm))?.name == "@scope/name")
    }

    @Test("the interpreter the packages run on must be installed by the layer or one below")
    func runtimes() {
        let found = diagnostics(
            for: """
                recipe: lang
                layers:
                  base:
                    from: debian:trixie-slim
                    user: {name: dev, uid: 1000}
                    pip: [ruff==0.8.4]
                    npm: [typescript@5.6.3]

                """)
        expectDiagnostic(found, line: 6, column: 11, contains: "which neither layer 'base' nor a layer below installs; add 'python3'")
        expectDiagnostic(found, line: 7, column: 11, contains: "add 'nodejs'")
        let busybox = diagnostics(for: minimalRecipe + "    pip: [ruff==0.8.4]\n")
        #expect(busybox.errors.contains { $0.message.contains("cannot be installed on busybox") })
    }

    @Test("builder stages: the interpreter when the parent lacks it, the CA slot, the packages; only the installed tree comes in")
    func builderStages() throws {
        let scratch = Scratch()
        let (plan, found) = plan(Self.debian, in: scratch)
        let tools = try #require(plan?.layer(named: "tools"), "\(found.sorted)")
        let dockerfile = tools.dockerfile
        #expect(dockerfile.contains("FROM lang-base:\(plan!.layer(named: "base")!.tag) AS pip-packages\nUSER 0:0\n"))
        // The parent installs python3 and nodejs: the builders add only what is missing.
        #expect(dockerfile.contains("apt-get install -y --no-install-recommends \\\n        python3-venv \\\n"))
        #expect(dockerfile.contains("        npm \\\n"))
        #expect(!dockerfile.contains("        nodejs \\\n"))
        #expect(dockerfile.contains("python3 -m venv /opt/imagegen/pip/tools"))
        // Sorted, the toolset's merged in, each once.
        #expect(dockerfile.contains("        black[d]==24.10.0 \\\n        ruff==0.8.4 \\\n        uv==0.5.11\n"))
        #expect(dockerfile.contains("--prefix /opt/imagegen/npm/tools"))
        #expect(dockerfile.contains("COPY --from=pip-packages /opt/imagegen/pip/tools /opt/imagegen/pip/tools\n"))
        #expect(dockerfile.contains("ENV PATH=/opt/imagegen/pip/tools/bin:/opt/imagegen/npm/tools/bin:$PATH\n"))
        // The final stage never sees the build context's CA directory.
        let final = String(dockerfile[dockerfile.range(of: "FROM lang-base:\(plan!.layer(named: "base")!.tag)\n")!.upperBound...])
        #expect(!final.contains("imagegen-build"))
        #expect(dockerfile.components(separatedBy: "USER 1000:1000").count == 4, "every stage ends as the parent's user")
    }

    @Test("the build CA fills a slot in the context and is not a hash input")
    func buildCA() throws {
        let scratch = Scratch()
        let (plan, _) = plan(Self.debian, in: scratch)
        let tools = try #require(plan?.layer(named: "tools"))
        let ca = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)
        #expect(tools.entries.first { $0.path == "imagegen-build/ca.pem" }?.inlineData == [])
        #expect(tools.entries(buildCA: ca).first { $0.path == "imagegen-build/ca.pem" }?.inlineData == ca)
        // The content hash comes from the recipe and its files: the same with or without a CA.
        let again = RecipeTestSupport.plan(Self.debian, in: scratch).0?.layer(named: "tools")
        #expect(again?.contentHash == tools.contentHash)
        #expect(!String(decoding: tools.canonicalInputs, as: UTF8.self).contains("imagegen-build"))
        #expect(plan?.layer(named: "base")?.entries.contains { $0.path.hasPrefix("imagegen-build") } == false)
    }

    @Test("probes with expect: exit 0 and the output matches; a bad regular expression is refused where written")
    func probeExpectations() throws {
        let bad = diagnostics(for: minimalRecipe + "    probes: [{run: \"node --version\", expect: \"^v(2\"}]\n")
        expectDiagnostic(bad, line: 8, column: 46, contains: "not a valid regular expression")
        let missing = diagnostics(for: minimalRecipe + "    probes: [{expect: x}]\n")
        #expect(missing.errors.contains { $0.message.contains("a probe needs 'run'") })

        let probe = ProbeSpec(
            command: Located("node --version", at: SourceLocation(file: "r", line: 1, column: 1)),
            expect: Located("^v(2[0-9]|[3-9][0-9])\\.", at: SourceLocation(file: "r", line: 1, column: 1)))
        func outcome(_ lines: [String], exit: Int = 0) -> ProbeRunner.Outcome {
            ProbeRunner.Outcome(command: "node --version", exitCode: exit, firstLine: lines.first, output: lines, timedOut: false, lines: lines)
        }
        #expect(Verifier.judge(probe, outcome(["v20.19.2"]), layer: "base", timeout: 5).passed)
        #expect(!Verifier.judge(probe, outcome(["v18.19.0"]), layer: "base", timeout: 5).passed)
        #expect(!Verifier.judge(probe, outcome(["v20.19.2"], exit: 1), layer: "base", timeout: 5).passed)
        let message = Verifier.judge(probe, outcome(["v18.19.0"]), layer: "base", timeout: 5).message
        #expect(message.contains("does not match"))
    }

    @Test("healthcheck: exec form with its options, durations checked")
    func healthcheck() throws {
        let scratch = Scratch()
        let yaml = minimalRecipe + "    healthcheck: {command: [\"curl\", \"-f\", \"http://127.0.0.1:4096/\"], interval: 30s, timeout: 5s, start-period: 1m30s, retries: 3}\n"
        let (plan, found) = plan(yaml, in: scratch)
        let dockerfile = try #require(plan?.layers.first?.dockerfile, "\(found.sorted)")
        #expect(dockerfile.contains("HEALTHCHECK --interval=30s --timeout=5s --start-period=1m30s --retries=3 CMD [\"curl\", \"-f\", \"http://127.0.0.1:4096/\"]\n"))
        let bad = diagnostics(for: minimalRecipe + "    healthcheck: {command: [true], interval: soon}\n")
        #expect(bad.errors.contains { $0.message.contains("healthcheck.interval 'soon' must be a duration") })
        #expect(diagnostics(for: minimalRecipe + "    healthcheck: {interval: 5s}\n").errors.contains { $0.message.contains("needs a 'command'") })
    }
}
