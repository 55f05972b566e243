import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import Planning
@testable import BuildContext
import Testing

/// The release archive `make dist` makes (make test makes it first): a binary that needs nothing
/// but glibc, run where there is no Swift and no libarchive; scripts/install and the action's
/// download step on it; imagegen's own image around it.
@Suite("release archive, install and image", .serialized)
struct DistTests {
    static var arch: String {
        #if arch(arm64)
        "arm64"
        #else
        "amd64"
        #endif
    }

    /// dist/ and this machine's archive in it, with its name (`imagegen-<version>-linux-<arch>`).
    static func archive() throws -> (directory: String, name: String) {
        let directory = repositoryRoot + "/dist"
        let sums = try #require(
            try? String(contentsOfFile: directory + "/SHA256SUMS", encoding: .utf8), "dist/SHA256SUMS is missing: make test runs make dist first")
        let line = try #require(sums.split(separator: "\n").first { $0.hasSuffix("-linux-\(arch).tar.gz") }, "SHA256SUMS lists no linux-\(arch) archive")
        let file = String(try #require(line.split(separator: " ").last))
        return (directory, String(file.dropLast(".tar.gz".count)))
    }

    /// The archive unpacked in `scratch`: its top directory.
    static func unpacked(in scratch: Scratch) throws -> String {
        let (directory, name) = try archive()
        #expect(try run("/bin/tar", ["-xzf", "\(directory)/\(name).tar.gz", "-C", scratch.path]).status == 0)
        return scratch.url(name)
    }

    @Test("the archive: the binary needs only glibc, with man pages, completions and notices; SHA256SUMS holds its digest")
    func archiveContents() throws {
        let scratch = Scratch()
        let (directory, name) = try Self.archive()
        #expect(name == "imagegen-\(ImageGenVersion.current)-linux-\(Self.arch)")
        let check = try run("/usr/bin/sha256sum", ["--check", "--strict", "SHA256SUMS"], directory: directory)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        let top = try Self.unpacked(in: scratch)
        let libraries = try run("/usr/bin/ldd", [top + "/bin/imagegen"]).stdout.split(separator: "\n").compactMap {
            $0.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init)
        }
        let glibc = libraries.filter { $0.hasPrefix("linux-vdso") || $0.contains("ld-linux") || ["libc.so.6", "libm.so.6"].contains($0) }
        #expect(libraries == glibc && !libraries.isEmpty, "ldd lists \(libraries)")
        for file in [
            "bin/imagegen", "share/man/man1/imagegen.1", "share/man/man1/imagegen-build.1", "share/man/man1/imagegen-verify.1",
            "share/bash-completion/completions/imagegen", "share/zsh/site-functions/_imagegen", "share/fish/vendor_completions.d/imagegen.fish", "NOTICE",
        ] {
            #expect(FileManager.default.fileExists(atPath: "\(top)/\(file)"), "\(file) is in the archive")
        }
        #expect((try? String(contentsOfFile: top + "/share/man/man1/imagegen-verify.1", encoding: .utf8))?.contains(".Sh DESCRIPTION") == true)
        #expect((try? String(contentsOfFile: top + "/NOTICE", encoding: .utf8))?.contains("libarchive") == true)
    }

    @Test("in a bare debian:trixie-slim container (no Swift, no libarchive) the binary builds, verifies and releases a family through the mounted socket")
    func bareContainer() async throws {
        try await withRecipeFixture("dist") { fixture in
            let top = try Self.unpacked(in: fixture.scratch)
            let docker = try #require(which("docker"))
            fixture.scratch.write(
                "recipe.yaml",
                EngineFixture.recipe(
                    fixture.name,
                    layers: """
                          tools:
                            from: base
                            run: ["echo hello > /workspace/hello"]
                            probes: [{run: "cat /workspace/hello", expect: "^hello$"}]
                        """))
            func inContainer(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
                try run(
                    docker,
                    [
                        "run", "--rm", "--network", "none", "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v", "\(top)/bin/imagegen:/usr/local/bin/imagegen:ro",
                        "-v", "\(fixture.scratch.path):/work", "-w", "/work", "-e", "HOME=/tmp", "debian:trixie-slim", "imagegen",
                    ] + arguments)
            }
            let bare = try run(docker, ["run", "--rm", "debian:trixie-slim", "sh", "-c", "ls /usr/lib/*/libarchive* /usr/bin/swift* 2>/dev/null | wc -l"])
            #expect(bare.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "the container has neither libarchive nor Swift")
            let built = try inContainer(["build", "recipe.yaml", "--progress", "plain"])
            #expect(built.status == 0, "\(built.stdout)\n\(built.stderr)")
            let verified = try inContainer(["verify", "recipe.yaml"])
            #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
            #expect(verified.stdout.contains("matches /^hello$/"))
            let released = try inContainer(["release", "recipe.yaml", "--version", "1.0.0"])
            #expect(released.status == 0, "\(released.stdout)\n\(released.stderr)")
            let plan = try planRecipe(try #require(fixture.scratch.read("recipe.yaml")), in: fixture.scratch)
            let tools = try #require(plan.layer(named: "tools"))
            let image = try #require(try await fixture.engine.inspectImage("\(fixture.name)-tools:1.0.0"))
            #expect(image.labels[ImageLabels.contentHash] == tools.contentHash.hex)
            for layer in ["base", "tools"] {
                for tag in ["1.0.0", "1.0", "1", "latest"] { fixture.removeAfterwards("\(fixture.name)-\(layer):\(tag)") }
            }
        }
    }

    @Test("scripts/install checks the archive, installs binary, man pages and completions under a prefix, refuses root unless asked, and installs nothing on a bad checksum")
    func install() throws {
        let scratch = Scratch()
        let (directory, _) = try Self.archive()
        let script = repositoryRoot + "/scripts/install"
        let prefix = scratch.url("prefix")
        let installed = try run("/bin/sh", [script, "--from", "file://\(directory)", "--prefix", prefix, "--allow-root"])
        #expect(installed.status == 0, "\(installed.stdout)\(installed.stderr)")
        #expect(installed.stdout.contains("checksum verified"))
        let version = try run(prefix + "/bin/imagegen", ["--version"])
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == ImageGenVersion.current)
        for file in ["share/man/man1/imagegen.1", "share/bash-completion/completions/imagegen", "share/zsh/site-functions/_imagegen"] {
            #expect(FileManager.default.fileExists(atPath: "\(prefix)/\(file)"), "\(file) installed")
        }

        if getuid() == 0 {
            let refused = try run("/bin/sh", [script, "--from", "file://\(directory)", "--prefix", scratch.url("as-root")])
            #expect(refused.status != 0 && refused.stderr.contains("refusing to run as root"))
            #expect(!FileManager.default.fileExists(atPath: scratch.url("as-root")))
        }

        // A mirror whose archive does not match its SHA256SUMS: nothing installed.
        let mirror = scratch.url("mirror")
        try FileManager.default.createDirectory(atPath: mirror, withIntermediateDirectories: true)
        let (_, name) = try Self.archive()
        let sums = try String(contentsOfFile: directory + "/SHA256SUMS", encoding: .utf8)
        try sums.write(toFile: mirror + "/SHA256SUMS", atomically: true, encoding: .utf8)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name).tar.gz"))
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: "\(mirror)/\(name).tar.gz"))
        let tampered = try run("/bin/sh", [script, "--from", "file://\(mirror)", "--prefix", scratch.url("tampered"), "--allow-root"])
        #expect(tampered.status != 0 && tampered.stderr.contains("does not match SHA256SUMS"), "\(tampered.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.url("tampered")))
    }

    @Test("the action's download step: the archive from a release URL, checked; a tampered one fails; a version without a release builds from source")
    func actionDownload() throws {
        let scratch = Scratch()
        let (directory, name) = try Self.archive()
        // A release's download URL, served from loopback.
        let port = freeLoopbackPort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: try #require(which("python3")))
        server.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", scratch.path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try FileManager.default.createDirectory(atPath: scratch.url("v1"), withIntermediateDirectories: true)
        for file in ["SHA256SUMS", "\(name).tar.gz"] { try FileManager.default.copyItem(atPath: "\(directory)/\(file)", toPath: scratch.url("v1/\(file)")) }
        try server.run()
        defer { server.terminate() }
        for _ in 0..<50 where (try? run(try #require(which("curl")), ["-fs", "http://127.0.0.1:\(port)/v1/SHA256SUMS"]))?.status != 0 { usleep(100_000) }

        let download = try ActionTests.script("Download")
        func step(_ base: String) throws -> (status: Int32, stdout: String, stderr: String, outputs: [String]) {
            let output = scratch.write("output-\(UUID().uuidString)", "")
            let result = try run(
                "/bin/bash", ["-e", "-c", download], directory: scratch.path,
                environment: [
                    "VERSION": ImageGenVersion.current, "ARCH": Self.arch, "DIRECTORY": scratch.url("installed-\(UUID().uuidString)"), "DOWNLOAD_URL": base,
                    "ACTION_REPOSITORY": "example/imagegen", "CACHED": "", "GITHUB_OUTPUT": output,
                ])
            return (result.status, result.stdout, result.stderr, try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map(String.init))
        }
        let good = try step("http://127.0.0.1:\(port)/v1")
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.outputs.contains("mode=release"))
        let path = String(try #require(good.outputs.first { $0.hasPrefix("path=") }).dropFirst(5))
        #expect(try run(path, ["--version"]).stdout.contains(ImageGenVersion.current))

        let missing = try step("http://127.0.0.1:\(port)/v0")
        #expect(missing.status == 0 && missing.outputs.contains("mode=source"), "no release: the source steps build it")

        var bytes = try Data(contentsOf: URL(fileURLWithPath: scratch.url("v1/\(name).tar.gz")))
        bytes[bytes.count / 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: scratch.url("v1/\(name).tar.gz")))
        let tampered = try step("http://127.0.0.1:\(port)/v1")
        #expect(tampered.status != 0 && tampered.stdout.contains("does not match the release's SHA256SUMS"), "\(tampered.stdout)\(tampered.stderr)")
    }

    @Test("imagegen's own image: built by imagegen from recipes/imagegen.yaml, verified, and it builds a family through the mounted socket")
    func ownImage() async throws {
        try await withRecipeFixture("ownimage") { fixture in
            let top = try Self.unpacked(in: fixture.scratch)
            // The recipe, beside the binary it packages (as make image puts it).
            let recipe = try String(contentsOfFile: repositoryRoot + "/recipes/imagegen.yaml", encoding: .utf8)
                .replacingOccurrences(of: "recipe: imagegen\n", with: "recipe: \(fixture.name)\n")
                .replacingOccurrences(of: "image: imagegen\n", with: "image: \(fixture.name)-imagegen\n")
            let directory = Scratch()
            directory.mkdir("imagegen-bin")
            try FileManager.default.copyItem(atPath: top + "/bin/imagegen", toPath: directory.url("imagegen-bin/imagegen"))
            directory.write("imagegen.yaml", recipe)
            let built = try imagegen(["build", "imagegen.yaml", "--progress", "plain"], in: directory)
            #expect(built.status == 0, "\(built.stdout)\n\(built.stderr)")
            let verified = try imagegen(["verify", "imagegen.yaml"], in: directory)
            #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
            let (planned, diagnostics) = Planner.plan(recipeAt: directory.url("imagegen.yaml"), cache: FileDigestCache(file: nil))
            let plan = try #require(planned, "\(diagnostics.sorted)")
            let image = try #require(plan.layers.first).reference.description

            // The image at work: a family built through the socket, as the README shows.
            fixture.scratch.write("family/recipe.yaml", EngineFixture.recipe(fixture.name + "-family"))
            chmod(fixture.scratch.url("family"), 0o777)  // the image's user writes its caches there
            let docker = try #require(which("docker"))
            let group = try run("/usr/bin/stat", ["-c", "%g", "/var/run/docker.sock"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let family = try run(
                docker,
                [
                    "run", "--rm", "--network", "none", "--group-add", group, "-v", "/var/run/docker.sock:/var/run/docker.sock", "-v",
                    "\(fixture.scratch.url("family")):/work", image, "build", "recipe.yaml", "--progress", "plain",
                ])
            #expect(family.status == 0, "\(family.stdout)\n\(family.stderr)")
            await EngineFixture.removeImages(ofRecipe: fixture.name + "-family", on: fixture.engine)
        }
    }
}
