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
@_exported import RecipeTestSupport

/// The Docker engine the integration tests run against: the one DOCKER_HOST (or the default
/// socket) names, which `make test` starts when none answers. There is no skipping: if it cannot
/// be reached, every integration test fails and says so.
enum EngineFixture {
    static let busybox = "imagegen-test/busybox:1"

    /// A connected engine with the busybox test image present.
    static func engine() async throws -> DockerEngine {
        let engine: DockerEngine
        do {
            engine = try await DockerEngine.connect()
        } catch {
            Issue.record("the integration tests need a Docker engine and none answers (\(error)); run `make test`, which starts one")
            throw error
        }
        try await ensureBusybox(on: engine)
        await sweep.run(engine)
        return engine
    }

    /// Once per test run: remove images earlier runs left (cleanup at the end of a test may not
    /// finish before the process exits), so the engine does not fill up over many runs.
    static let sweep = Sweep()

    actor Sweep {
        private var done = false

        func run(_ engine: DockerEngine) async {
            guard !done else { return }
            done = true
            guard let images = try? await engine.listImages(labels: [ImageLabels.recipe]) else { return }
            let cutoff = Int64(Date().timeIntervalSince1970) - 600
            for image in images where image.created < cutoff && (image.labels?[ImageLabels.recipe]?.hasPrefix("it-") ?? false) {
                for tag in image.repoTags ?? [] where tag != "<none>:<none>" { try? await engine.removeImage(tag, force: true) }
                try? await engine.removeImage(image.id, force: true)
            }
        }
    }

    /// Imports a busybox root file system as `imagegen-test/busybox:1` when the engine lacks it,
    /// made from this machine's /bin/busybox (no registry needed).
    static func ensureBusybox(on engine: DockerEngine, as reference: String = busybox, marker: String? = nil) async throws {
        if marker == nil, try await engine.inspectImage(reference) != nil { return }
        let parts = reference.split(separator: ":")
        try await engine.importImage(
            try busyboxRootFS(marker: marker), repository: try Repository(parsing: String(parts[0])), tag: try Tag(parsing: String(parts[1])), changes: ["CMD [\"/bin/sh\"]"])
    }

    /// A tar of a minimal busybox root; `marker` adds a file so two imports differ.
    static func busyboxRootFS(marker: String? = nil) throws -> ChunkSequence {
        let busybox = try #require(
            ["/bin/busybox", "/usr/bin/busybox"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "busybox-static is not installed (make test installs it)")
        let applets = try run(busybox, ["--list"]).stdout.split(separator: "\n").map(String.init).filter { $0 != "busybox" && !$0.isEmpty }
        var entries: [ContextEntry] = [.directory("bin"), .directory("etc"), .directory("tmp"), .directory("root"), .directory("home")]
        var info = stat()
        lstat(busybox, &info)
        var binary = ContextEntry.file(path: "bin/busybox", source: busybox, info: info)
        binary.mode = 0o755
        entries.append(binary)
        for applet in applets {
            entries.append(ContextEntry(path: "bin/\(applet)", kind: .symlink, mode: 0o777, size: 0, linkTarget: "busybox"))
        }
        entries.append(.inline("etc/passwd", Array("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n".utf8)))
        entries.append(.inline("etc/group", Array("root:x:0:\nnobody:x:65534:\n".utf8)))
        if let marker { entries.append(.inline("etc/marker", Array(marker.utf8))) }
        return .tar(entries.normalizedForArchive())
    }

    /// A recipe whose `base` layer is the busybox test image with a user and a workdir;
    /// `base` adds lines to that layer (indented four spaces), `layers` adds layers (two).
    static func recipe(_ name: String, base: String = "", layers: String = "") -> String {
        "recipe: \(name)\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
            + "    user: {name: dev, uid: 1000}\n    workdir: /workspace\n" + base + layers
    }

    /// A name no other test uses: image names derive from it.
    static func uniqueName(_ prefix: String) -> String {
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() % 0xFFFFFF, radix: 16)
        return "it-\(prefix)-\(suffix)"
    }

    /// Removes every image built for a recipe (best effort, for tidiness): children before
    /// parents, so that no parent is left behind untagged because a child still used it.
    static func removeImages(ofRecipe recipe: String, on engine: DockerEngine) async {
        guard let images = try? await engine.listImages(labels: ["\(ImageLabels.recipe)=\(recipe)"]) else { return }
        var remaining = images.sorted { $0.created > $1.created }
        for image in remaining {
            for tag in image.repoTags ?? [] where tag != "<none>:<none>" { try? await engine.removeImage(tag, force: true) }
        }
        // Creation times have one-second steps: a parent refused for its child goes next round.
        for _ in 0..<3 where !remaining.isEmpty {
            var refused: [ImageSummary] = []
            for image in remaining where (try? await engine.removeImage(image.id, force: true)) == nil { refused.append(image) }
            remaining = refused
        }
    }
}

/// Plans a recipe written into a scratch directory.
func planRecipe(_ yaml: String, in scratch: Scratch) throws -> BuildPlan {
    let path = scratch.write("recipe.yaml", yaml)
    let (plan, diagnostics) = Planner.plan(recipeAt: path, cache: FileDigestCache(file: nil))
    return try #require(plan, "\(diagnostics.sorted.map(\.description).joined(separator: "\n"))")
}

/// Events a build reported, collected across tasks.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [BuildEvent] = []

    func record(_ event: BuildEvent) {
        lock.lock()
        events.append(event)
        lock.unlock()
    }

    var all: [BuildEvent] {
        lock.lock()
        defer { lock.unlock() }
        return events
    }

    func outputs(of layer: String) -> [String] {
        all.compactMap { if case .output(layer, let line) = $0 { line } else { nil } }
    }

    func steps(of layer: String) -> [String] {
        all.compactMap { if case .step(layer, _, _, let instruction) = $0 { instruction } else { nil } }
    }
}

/// A running `imagegen build --format json` whose stdout has been read up to a marker.
struct RunningBuild {
    let process: Process
    let errors: Pipe
    /// The JSON events read so far.
    let seen: String
}

/// Starts `imagegen build --format json` in `scratch` and reads its events until `marker` shows
/// (or it ends, or a minute passes), so a test can act in the middle of the build.
func startBuild(in scratch: Scratch, until marker: String, environment: [String: String] = [:]) throws -> RunningBuild {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: imagegenExecutable)
    process.arguments = ["build", "recipe.yaml", "--format", "json"]
    process.currentDirectoryURL = URL(fileURLWithPath: scratch.path)
    process.environment = ProcessInfo.processInfo.environment.merging(["IMAGEGEN_CACHE_DIR": scratch.url(".cache")].merging(environment) { _, new in new }) { _, new in new }
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    var seen = ""
    let deadline = Date().addingTimeInterval(60)
    while !seen.contains(marker), Date() < deadline, process.isRunning {
        let data = output.fileHandleForReading.availableData
        if data.isEmpty { break }
        seen += String(decoding: data, as: UTF8.self)
    }
    return RunningBuild(process: process, errors: errors, seen: seen)
}

/// Runs the imagegen executable with an isolated digest cache.
func imagegen(_ arguments: [String], in scratch: Scratch, environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    try run(
        imagegenExecutable, arguments, directory: scratch.path,
        environment: ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")].merging(environment) { _, new in new })
}
