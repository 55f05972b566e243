import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

@Suite("verify logic")
struct VerifyLogicTests {
    func file(_ path: String, _ size: Int64 = 10, kind: ArchiveReader.Entry.Kind = .file) -> LayerFile {
        LayerFile(path: path, kind: kind, size: size, mode: kind == .directory ? 0o755 : 0o644, uid: 0, gid: 0)
    }

    @Test("layers merge with whiteouts and opaque directories; waste counts every earlier copy")
    func fileSystemView() {
        var first = LayerBlob(key: "1")
        first.files = [
            file("etc", kind: .directory), file("etc/passwd", 100), file("tmp", kind: .directory), file("tmp/a", 1000), file("tmp/b", 2000),
            file("opt", kind: .directory), file("opt/x", 5),
        ]
        var second = LayerBlob(key: "2")
        second.files = [file("etc/passwd", 120)]  // overwrites: 100 wasted
        second.deletions = ["tmp/a"]  // deletes: 1000 wasted
        var third = LayerBlob(key: "3")
        third.opaqueDirectories = ["opt"]  // hides opt/x: 5 wasted
        third.files = [file("opt/y", 7)]
        third.deletions = ["tmp"]  // a directory: tmp/b, 2000 wasted
        let view = FileSystemView(layers: [first, second, third])
        #expect(Set(view.files.keys) == ["etc", "etc/passwd", "opt", "opt/y"])
        #expect(view.files["etc/passwd"]?.size == 120)
        #expect(view.waste == 100 + 1000 + 5 + 2000)
        #expect(view.largestWaste(1).first?.path == "tmp/b")
    }

    @Test("zero checks is a failure, never a pass")
    func zeroChecks() {
        let empty = VerifyReport(recipe: "demo", layers: [])
        #expect(!empty.passed)
        #expect(ReportFormats.summary(empty) == "verify demo: FAILED: no checks ran, 0 layers, 0 checks, 0 passed, 0 failed")
        #expect(ReportFormats.json(empty)["passed"] == .bool(false))
    }

    func sample() -> VerifyReport {
        let checks: [CheckResult] = [
            .passed("base", "size.total", "size", "2.0 MiB", measured: .int(2_000_000), threshold: .int(4_000_000)),
            .failed("base", "probe: echo \"<hi>\" & exit 1", "probes", "exited with 1", measured: .int(1), details: ["<hi> & \"quoted\" \u{01}"]),
        ]
        return VerifyReport(
            recipe: "demo",
            layers: [
                LayerVerification(
                    layer: "base", reference: try! ImageReference(parsing: "demo-base:abc"), imageID: try! ImageID(sha256: String(repeating: "1", count: 64)), checks: checks,
                    seconds: 1.5)
            ])
    }

    @Test("reports: text marks each check, JSON has the documented shape, JUnit escapes XML")
    func formats() throws {
        let report = sample()
        let text = ReportFormats.text(report, colour: false)
        #expect(text.contains("✓ size.total"))
        #expect(text.contains("✗ probe: echo \"<hi>\" & exit 1  exited with 1\n      | <hi> & \"quoted\""))
        #expect(text.hasSuffix("verify demo: FAILED, 1 layer, 2 checks, 1 passed, 1 failed"))
        #expect(!text.contains("\u{1B}["))
        #expect(ReportFormats.text(report, colour: true).contains("\u{1B}[31m✗"))

        let json = ReportFormats.json(report)
        #expect(json["schema"] == "imagegen.verify/1")
        #expect(json["summary"] == ["layers": 1, "checks": 2, "passed": 1, "failed": 1])
        let check = try #require(json["layers"]?.arrayValue?.first?["checks"]?.arrayValue?.first)
        #expect(Set(check.objectValue?.keys.map { $0 } ?? []) == ["name", "category", "status", "measured", "threshold", "message", "details", "milliseconds"])

        let xml = ReportFormats.junit(report, timestamp: Date(timeIntervalSince1970: 0), hostname: "host")
        #expect(xml.contains("<testcase name=\"probe: echo &quot;&lt;hi&gt;&quot; &amp; exit 1\" classname=\"demo.base.probes\" time=\"0.000\">"))
        #expect(xml.contains("<failure message=\"exited with 1\" type=\"probes\">exited with 1\n&lt;hi&gt; &amp; &quot;quoted&quot; </failure>"))
        #expect(xml.contains("timestamp=\"1970-01-01T00:00:00\""))
        #expect(xml.contains("tests=\"2\" failures=\"1\""))
    }

    @Test("well-formed OCI labels")
    func labels() {
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.version", "1.4.2") == nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.version", "v1.4") != nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.created", "2026-11-23T13:00:00Z") == nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.created", "2026-11-23T13:00:00.123+01:00") == nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.created", "yesterday") != nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.revision", "0123abc") == nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.revision", "main") != nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.source", "https://example.invalid/repo") == nil)
        #expect(ImageLabels.OCI.problem("org.opencontainers.image.source", "not a url") != nil)
        #expect(ImageLabels.OCI.problem("com.example.anything", "whatever") == nil)
    }

    @Test("secret-looking environment names", arguments: ["OPENAI_API_KEY", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD", "npm_token"])
    func envNames(name: String) {
        #expect(SecretNames.looksSecret(name))
    }

    @Test("benign environment names", arguments: ["PATH", "HOME", "LANG", "KEYBOARD", "API_URL"])
    func benignEnvNames(name: String) {
        #expect(!SecretNames.looksSecret(name))
    }

    @Test("probe output is split by markers; a missing exit line means the container was stopped")
    func probeParsing() {
        let marker = "@@m"
        let log = "@@m 0 start\nv1.2\n\n@@m 0 exit 0\n@@m 1 start\nboom\n\n@@m 1 exit 2\n@@m 2 start\nstill running\n"
        let outcomes = ProbeRunner.parse(log, probes: ["a --version", "b", "c"], marker: marker, finished: false)
        #expect(outcomes.map(\.exitCode) == [0, 2, nil])
        #expect(outcomes.map(\.firstLine) == ["v1.2", "boom", "still running"])
        #expect(outcomes.map(\.timedOut) == [false, false, true])
        #expect(ProbeRunner.script(["echo 'it''s'"], marker: marker, timeoutSeconds: 5).contains("/bin/sh -c 'echo '\\''it'\\'''\\''s'\\'''"))
    }
}

@Suite("verify results kept in the cache")
struct VerifyResultKeyTests {
    static let recipe =
        minimalRecipe + """
              top:
                from: base
                probes: [{run: "true"}]

            """

    func key(_ yaml: String, layer: String = "top", options: Verifier.Options = Verifier.Options()) throws -> String {
        let (plan, diagnostics) = plan(yaml, in: Scratch())
        let built = try #require(plan, "\(diagnostics)\n\(yaml)")
        let chosen = try #require(built.layer(named: layer))
        return VerifyResults.key(chosen, lineage: built.lineage(of: chosen), options: options)
    }

    @Test("the key changes with the policy, the lineage's probes, the probe timeout and the scan rules, and with nothing else")
    func key() throws {
        let plain = try key(Self.recipe)
        #expect(try key(Self.recipe) == plain, "the same inputs give the same key")
        #expect(try key(Self.recipe + "    policy: {max-size: 1GB}\n") != plain)
        #expect(try key(Self.recipe + "    policy: {allow-root: a devcontainer base}\n") != plain)
        #expect(try key(Self.recipe + "    policy: {files: {absent: [/tmp/x]}}\n") != plain)
        #expect(try key(Self.recipe.replacingOccurrences(of: "workdir: /workspace", with: "workdir: /workspace\n    probes: [{run: id}]")) != plain)
        var longer = Verifier.Options()
        longer.probeTimeout = 90
        #expect(try key(Self.recipe, options: longer) != plain)
        var otherScan = Verifier.Options()
        otherScan.export.secretScanLimit = 1 << 20
        #expect(try key(Self.recipe, options: otherScan) != plain)
        var elsewhere = Verifier.Options()
        elsewhere.layerCache = nil
        elsewhere.layersFrom = .export
        #expect(try key(Self.recipe, options: elsewhere) == plain, "how layers are read does not change a result")
    }

    @Test("a stored check reads back as the report wrote it")
    func roundTrip() throws {
        let check = CheckResult(
            layer: "top", name: "size.total", category: "size", status: .passed, measured: .int(12), threshold: .int(100), message: "12 B of 100 B",
            details: ["a"], seconds: 0.25)
        #expect(VerifyResults.check(ReportFormats.check(check, redacted: true), layer: "top") == check)
    }
}
