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

/// The family imagegen exists for, built and verified for real: recipes/opencode-sandbox.yaml on
/// debian:trixie-slim (which `make test` provisions offline), pip packages from PyPI through the
/// machine's TLS-intercepting gateway, whose CA the builder stage trusts with --build-ca.
/// The images are content-addressed and kept: a second run on the same engine finds them built.
@Suite("the OpenCode sandbox family", .serialized)
struct OpenCodeFamilyTests {
    static let recipe = repositoryRoot + "/recipes/opencode-sandbox.yaml"
    static let hostCA = "/etc/ssl/certs/ca-certificates.crt"
    /// One cache for the suite's tests: what verify indexed, the SBOMs read again.
    static let cache = Scratch()

    static func imagegen(_ arguments: [String], cache: Scratch, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(
            imagegenExecutable, arguments, directory: repositoryRoot,
            environment: ["IMAGEGEN_CACHE_DIR": cache.url("cache")].merging(environment) { _, new in new })
    }

    @Test("build and verify: every check passes, at least 55 tools answer their probes, the build CA is in no image")
    func buildAndVerify() async throws {
        let engine = try await EngineFixture.engine()
        try #require(try await engine.inspectImage("debian:trixie-slim") != nil, "debian:trixie-slim is missing: make test provisions it (scripts/provision-images trixie)")
        let cache = Self.cache
        let build = try Self.imagegen(["build", Self.recipe, "--progress", "plain", "--build-ca", Self.hostCA], cache: cache)
        #expect(build.status == 0, "\(build.stderr.suffix(3000))")
        #expect(build.stdout.contains("0 not built"))

        let verify = try Self.imagegen(["verify", Self.recipe, "--format", "json"], cache: cache)
        let report = try JSONValue(parsing: Data(verify.stdout.utf8))
        let failed = (report["layers"]?.arrayValue ?? []).flatMap { layer in
            (layer["checks"]?.arrayValue ?? []).filter { $0["status"]?.stringValue != "passed" }.map {
                "\(layer["layer"]?.stringValue ?? "?"): \($0["name"]?.stringValue ?? "?"): \($0["message"]?.stringValue ?? "")"
            }
        }
        #expect(verify.status == 0 && failed.isEmpty, "failed checks: \(failed)")

        // The context layer runs every probe of the family (its own and its ancestors').
        let context = try #require(report["layers"]?.arrayValue?.first { $0["layer"]?.stringValue == "context" })
        let probes = (context["checks"]?.arrayValue ?? []).filter { ($0["name"]?.stringValue ?? "").hasPrefix("probe: ") }
        let tools = probes.filter { $0["status"]?.stringValue == "passed" && $0["name"]?.stringValue != "probe: id -un" }
        #expect(tools.count >= 55, "\(tools.count) tools answer their probes")
        let node = try #require(probes.first { $0["name"]?.stringValue == "probe: node --version" })
        #expect(node["message"]?.stringValue?.contains("matches /^v(2[0-9]|[3-9][0-9])\\./") == true)
        for layer in ["sandbox", "context"] {
            let layerReport = try #require(report["layers"]?.arrayValue?.first { $0["layer"]?.stringValue == layer })
            #expect(layerReport["checks"]?.arrayValue?.contains { $0["name"]?.stringValue == "build-ca.absent" && $0["status"]?.stringValue == "passed" } == (layer == "sandbox"))
        }

        // The sandbox runs under tini, declares its healthcheck, and runs as opencode.
        let plan = try #require(Planner.plan(recipeAt: Self.recipe, cache: FileDigestCache(file: nil)).0)
        let sandboxLayer = try #require(plan.layer(named: "sandbox"))
        let sandbox = try #require(try await engine.inspectImage(sandboxLayer.reference))
        #expect(sandbox.config?.entrypoint == ["/usr/bin/tini", "--"])
        #expect(sandbox.config?.healthcheck?.test?.first == "CMD")
        #expect(sandbox.config?.healthcheck?.retries == 3)
        #expect(sandbox.config?.user == "1000:1000")
        #expect(sandbox.config?.env?.contains { $0.hasPrefix("PATH=/opt/imagegen/pip/sandbox/bin:") } == true)
    }

    @Test("another proxy's CA rebuilds nothing: the CA is not a hash input")
    func anotherCA() throws {
        let cache = Scratch()
        // One certificate of the bundle: a different file, as another proxy's would be.
        let bundle = try String(contentsOfFile: Self.hostCA, encoding: .utf8)
        let end = try #require(bundle.range(of: "-----END CERTIFICATE-----"))
        let other = cache.write("other-ca.pem", String(bundle[..<end.upperBound]) + "\n")
        let first = try Self.imagegen(["build", Self.recipe, "--progress", "plain", "--build-ca", Self.hostCA], cache: cache)
        #expect(first.status == 0, "\(first.stderr.suffix(2000))")
        let build = try Self.imagegen(["build", Self.recipe, "--progress", "plain"], cache: cache, environment: ["IMAGEGEN_BUILD_CA": other])
        #expect(build.status == 0, "\(build.stderr.suffix(2000))")
        #expect(build.stdout.contains("0 built, 4 cached"), "\(build.stdout)")
        // And a file that is not certificates is refused before anything runs.
        let key = cache.write("not-a-ca.pem", "just text\n")
        let refused = try Self.imagegen(["build", Self.recipe, "--build-ca", key], cache: cache)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("not PEM certificates"))
    }

    @Test(
        "SBOMs of the family: valid SPDX 2.3 and CycloneDX 1.6 by their reference tools, NTIA's minimum elements, the same bytes twice; every package dpkg-query, Python's metadata and the package.json files name is in it, and nothing else"
    )
    func sboms() throws {
        let cache = Self.cache
        let build = try Self.imagegen(["build", Self.recipe, "--progress", "plain", "--build-ca", Self.hostCA], cache: cache)
        try #require(build.status == 0, "\(build.stderr.suffix(2000))")
        let directory = cache.url("sbom")
        let spdx = try Self.imagegen(["sbom", Self.recipe, "--output", directory], cache: cache)
        try #require(spdx.status == 0, "\(spdx.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spdx.json") }.sorted()
        #expect(files == ["opencode-sandbox-base", "opencode-sandbox-context", "opencode-sandbox-developer", "opencode-sandbox-sandbox"].map { $0 + ".spdx.json" })
        let validator = try #require(which("pyspdxtools"), "pyspdxtools is needed (make test installs spdx-tools)")
        let ntia = try #require(which("ntia-checker"), "ntia-checker is needed (make test installs ntia-conformance-checker)")
        for file in files {
            let valid = try run(validator, ["-i", directory + "/" + file])
            #expect(valid.status == 0, "\(file): \(valid.stdout)\(valid.stderr)")
            let conformance = try run(ntia, [directory + "/" + file])
            #expect(conformance.stdout.contains("Conformant: True"), "\(file): \(conformance.stdout)")
        }
        // The same image, the same document.
        let again = try Self.imagegen(["sbom", Self.recipe, "--layer", "context"], cache: cache)
        #expect(again.stdout == (try String(contentsOfFile: directory + "/opencode-sandbox-context.spdx.json", encoding: .utf8)))

        let cyclonedx = cache.url("context.cdx.json")
        let written = try Self.imagegen(["sbom", Self.recipe, "--layer", "context", "--format", "cyclonedx-json", "--files", "--output", cyclonedx], cache: cache)
        try #require(written.status == 0, "\(written.stderr)")
        let validated = try run("/usr/bin/env", ["python3", repositoryRoot + "/Tests/Fixtures/validate-cyclonedx.py", cyclonedx])
        #expect(validated.status == 0, "\(validated.stdout)\(validated.stderr)")

        // Ground truth: what the image's own tools say, run inside it.
        let plan = try #require(Planner.plan(recipeAt: Self.recipe, cache: FileDigestCache(file: nil)).0)
        let image = try #require(plan.layer(named: "context")).reference.description
        let script = try Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/Tests/Fixtures/package-truth.py"))
        let truthRun = try run("/usr/bin/env", ["docker", "run", "--rm", "-i", "--network", "none", "--entrypoint", "python3", image, "-"], stdin: script)
        try #require(truthRun.status == 0, "\(truthRun.stderr)")
        let truth = try JSONValue(parsing: Data(truthRun.stdout.utf8))
        func rows(_ ecosystem: String) -> Set<String> {
            Set((truth[ecosystem]?.arrayValue ?? []).map { row in (row.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ") })
        }
        var found: [String: Set<String>] = ["deb": [], "pypi": [], "npm": []]
        let document = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: cyclonedx)))
        for component in document["components"]?.arrayValue ?? [] where component["type"]?.stringValue == "library" {
            var properties: [String: String] = [:]
            for property in component["properties"]?.arrayValue ?? [] {
                if let name = property["name"]?.stringValue, let value = property["value"]?.stringValue { properties[name] = value }
            }
            let name = component["name"]?.stringValue ?? "", version = component["version"]?.stringValue ?? ""
            let location = properties["imagegen:location"] ?? ""
            switch properties["imagegen:ecosystem"] {
            case "deb": found["deb"]?.insert("\(name) \(version)")
            // Python's metadata is listed by site-packages directory, the package by its dist-info.
            case "pypi": found["pypi"]?.insert("\(name) \(version) \((location as NSString).deletingLastPathComponent)")
            case "npm": found["npm"]?.insert("\(name) \(version) \(location)")
            default: Issue.record("unexpected ecosystem in \(component)")
            }
        }
        for ecosystem in ["deb", "pypi", "npm"] {
            let expected = rows(ecosystem)
            #expect(!expected.isEmpty, "the image has \(ecosystem) packages")
            #expect(expected.subtracting(found[ecosystem] ?? []).isEmpty, "\(ecosystem) missed: \(expected.subtracting(found[ecosystem] ?? []).sorted().prefix(20))")
            #expect((found[ecosystem] ?? []).subtracting(expected).isEmpty, "\(ecosystem) invented: \((found[ecosystem] ?? []).subtracting(expected).sorted().prefix(20))")
        }
    }
}
