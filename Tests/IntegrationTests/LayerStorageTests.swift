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

/// The engine's overlay2 storage read in place gives exactly what the export gives: the same
/// index of every layer (files, hard links, deletions, opaque directories, secrets) and the same
/// verify report; a layer directory that is gone falls back to the export with one note.
@Suite("verify: layers read in the engine's storage")
struct LayerStorageTests {
    /// Two layers planted on the busybox base: the first adds files, a hard link, a symlink, a
    /// fifo, a setuid file and a secret; the second overwrites a file, deletes the secret (still
    /// in the first layer's bytes), removes a file, and replaces a directory (an opaque one).
    static func family(_ fixture: RecipeFixture) async throws -> BuildPlan {
        let plan = try planRecipe(EngineFixture.recipe(fixture.name, layers: "  first:\n    from: base\n  second:\n    from: first\n"), in: fixture.scratch)
        let built = try await Builder(engine: fixture.engine, plan: try planRecipe(EngineFixture.recipe(fixture.name), in: Scratch()), options: BuildOptions()).run()
        #expect(built.succeeded)
        let base = try #require(plan.layer(named: "base")).reference
        let first = try #require(plan.layer(named: "first"))
        try await VerifyTests.plant(
            first,
            dockerfile: """
                FROM \(base)
                USER 0:0
                COPY key.pem /data/gone/service.pem
                RUN mkdir -p /data/keep /data/opaque/sub /data/drop && echo one > /data/keep/a && ln /data/keep/a /data/keep/hard \\
                    && ln -s a /data/keep/link && mkfifo /data/keep/fifo && echo old > /data/opaque/sub/old && echo x > /data/drop/x \\
                    && cp /bin/busybox /data/keep/tool && chmod 4755 /data/keep/tool && chown 1000:1000 /data/keep/a
                USER 1000:1000
                """, files: ["key.pem": FakeKeys.pem], engine: fixture.engine)
        try await VerifyTests.plant(
            try #require(plan.layer(named: "second")),
            dockerfile: """
                FROM \(first.reference)
                USER 0:0
                RUN echo longer than before > /data/keep/a && rm /data/gone/service.pem /data/keep/link && rm -rf /data/drop \\
                    && rm -rf /data/opaque && mkdir -p /data/opaque && echo fresh > /data/opaque/fresh
                USER 1000:1000
                """, engine: fixture.engine)
        for layer in plan.layers { fixture.removeAfterwards(layer.reference) }
        return plan
    }

    static func verify(
        _ plan: BuildPlan, engine: DockerEngine, from source: Verifier.LayersFrom,
        directories: (@Sendable (ImageInspect) -> Result<[String], LayerStorage.Failure>)? = nil,
        notes: NoteLog = NoteLog(), helper: Bool = true
    ) async throws -> VerifyReport {
        var options = Verifier.Options()
        options.layerCache = nil
        options.layersFrom = source
        options.probeTimeout = 10
        options.notes = { notes.append($0) }
        options.helperBinary = helper ? imagegenExecutable : nil
        if let directories { options.storageDirectories = directories }
        return try await Verifier(engine: engine, plan: plan, options: options).run()
    }

    /// The report without what differs by nature between runs (times) or by design (sources).
    static func comparable(_ report: VerifyReport) -> String {
        var json = ReportFormats.json(report)
        json.removeTimes()
        return json.canonical
    }

    @Test("every layer's index and the whole report are the same read in storage and from the export")
    func sameAsExport() async throws {
        try await withRecipeFixture("storage") { fixture in
            let plan = try await Self.family(fixture)
            let second = try #require(plan.layer(named: "second"))
            let inspect = try #require(try await fixture.engine.inspectImage(second.reference))
            let ids = try #require(inspect.rootFS?.layers)
            let directories = try LayerStorage.directories(of: inspect).get()
            #expect(directories.count == ids.count)

            let analysis = try await ImageExport.analyze([second.reference.description], engine: fixture.engine)
            let keys = try #require(analysis.images[second.reference.description])
            var stored: [LayerBlob] = []
            for (index, directory) in directories.enumerated() {
                let fromStorage = try LayerStorage.read(directory, key: ids[index].description, options: ImageExport.Options())
                let fromExport = try #require(analysis.blobs[keys[index]])
                #expect(
                    LayerIndexStore.encode(fromStorage).canonical == LayerIndexStore.encode(fromExport).canonical,
                    "layer \(index + 1) of \(directories.count) differs")
                stored.append(fromStorage)
            }
            // The cases are really there: the test would not notice them missing otherwise.
            let top = try #require(stored.last), added = stored[stored.count - 2]
            #expect(top.opaqueDirectories == ["data/opaque"])
            #expect(Set(top.deletions) == ["data/gone/service.pem", "data/keep/link", "data/drop"])
            #expect(added.files.contains { $0.path == "data/keep/hard" && $0.kind == .hardlink && $0.linkTarget == "data/keep/a" })
            #expect(added.files.contains { $0.path == "data/keep/link" && $0.kind == .symlink && $0.linkTarget == "a" })
            #expect(added.files.contains { $0.path == "data/keep/fifo" && $0.kind == .other })
            #expect(added.files.contains { $0.path == "data/keep/tool" && $0.mode == 0o4755 })
            #expect(added.files.contains { $0.path == "data/keep/a" && $0.uid == 1000 })
            #expect(stored.contains { $0.secrets.contains { $0.path == "data/gone/service.pem" } })

            let storage = try await Self.verify(plan, engine: fixture.engine, from: .storage)
            let export = try await Self.verify(plan, engine: fixture.engine, from: .export)
            let helper = try await Self.verify(plan, engine: fixture.engine, from: .helper)
            #expect(Self.comparable(storage) == Self.comparable(export))
            #expect(Self.comparable(helper) == Self.comparable(export), "the helper container sees what the export shows, opaque marks included")
            #expect(helper.layers.allSatisfy { $0.layerSources.allSatisfy { $0.source == .helper } })
            #expect(storage.layers.allSatisfy { $0.layerSources.allSatisfy { $0.source == .storage } })
            #expect(export.layers.allSatisfy { $0.layerSources.allSatisfy { $0.source == .export } })
            // The deleted secret fails the secrets check of both layers that carry its bytes.
            for layer in ["first", "second"] {
                let check = try #require(storage.layers.first { $0.layer == layer }?.checks.first { $0.name == "secrets.files" })
                #expect(!check.passed, "\(layer): \(check.message)")
            }
        }
    }

    @Test("a layer directory that is gone falls back to the export with one note; --layers-from storage refuses")
    func goneDirectory() async throws {
        try await withRecipeFixture("storage-gone") { fixture in
            let plan = try await Self.family(fixture)
            let export = try await Self.verify(plan, engine: fixture.engine, from: .export)
            // As if the image had been removed between the inspection and the read.
            let gone: @Sendable (ImageInspect) -> Result<[String], LayerStorage.Failure> = { inspect in
                LayerStorage.directories(of: inspect).map { directories in Array(directories.dropLast()) + ["/var/lib/docker/overlay2/gone-\(inspect.id.short)/diff"] }
            }
            let notes = NoteLog()
            let auto = try await Self.verify(plan, engine: fixture.engine, from: .auto, directories: gone, notes: notes)
            #expect(Self.comparable(auto) == Self.comparable(export), "never a different report, let alone a wrong pass")
            #expect(notes.all.count == 1, "\(notes.all)")
            #expect(notes.all.first?.contains("reading them from the export") == true || notes.all.first?.contains("reading it from the export") == true)
            let sources = auto.layers.flatMap(\.layerSources)
            #expect(sources.contains { $0.source == .export } && sources.contains { $0.source == .storage })

            await #expect(throws: Verifier.StorageUnavailable.self) {
                _ = try await Self.verify(plan, engine: fixture.engine, from: .storage, directories: gone)
            }
            // A remote engine's paths are not here: auto sends the helper container there, and
            // without one reads the export, saying why.
            let elsewhere: @Sendable (ImageInspect) -> Result<[String], LayerStorage.Failure> = { _ in .failure(LayerStorage.Failure(description: "not here")) }
            let viaHelper = try await Self.verify(plan, engine: fixture.engine, from: .auto, directories: elsewhere)
            #expect(viaHelper.layers.flatMap(\.layerSources).allSatisfy { $0.source == .helper })
            let remote = NoteLog()
            let viaExport = try await Self.verify(plan, engine: fixture.engine, from: .auto, directories: elsewhere, notes: remote, helper: false)
            #expect(viaExport.layers.flatMap(\.layerSources).allSatisfy { $0.source == .export })
            #expect(remote.all == ["note: reading layers from the engine's export: not here"])
            #expect(Self.comparable(viaHelper) == Self.comparable(export) && Self.comparable(viaExport) == Self.comparable(export))
        }
    }
}

extension LayerStorageTests {
    /// A user in the docker group, as on hosted CI runners: the engine answers, its storage is
    /// root's. Made here when missing (the tests run as root).
    static func dockerGroupUser() throws -> String {
        let name = "imagegen-ci"
        if try run("/usr/bin/id", ["-u", name]).status != 0 {
            let made = try run("/usr/sbin/useradd", ["--no-create-home", "--groups", "docker", "--shell", "/usr/sbin/nologin", name])
            #expect(made.status == 0, "useradd: \(made.stderr)")
        }
        return name
    }

    @Test("as a docker-group user who cannot read the engine's storage, verify reads it through the helper container, with the same report")
    func dockerGroupUser() async throws {
        try await withRecipeFixture("storage-user") { fixture in
            let plan = try await Self.family(fixture)
            let user = try Self.dockerGroupUser()
            let path = fixture.scratch.write("recipe.yaml", EngineFixture.recipe(fixture.name, layers: "  first:\n    from: base\n  second:\n    from: first\n"))
            #expect(chmod(fixture.scratch.path, 0o777) == 0)
            let runuser = which("runuser") ?? "/usr/sbin/runuser"
            let asUser = try run(
                runuser, ["-u", user, "--", imagegenExecutable, "verify", path, "--format", "json"], directory: fixture.scratch.path,
                environment: ["IMAGEGEN_CACHE_DIR": fixture.scratch.url("user-cache"), "HOME": fixture.scratch.path])
            #expect(!asUser.stderr.contains("note:"), "\(asUser.stderr)")
            var report = try JSONValue(parsing: Data(asUser.stdout.utf8))
            let sources = Set((report["layers"]?.arrayValue ?? []).flatMap { $0["layerSources"]?.arrayValue ?? [] }.compactMap { $0["source"]?.stringValue })
            #expect(sources == ["helper"], "\(asUser.stderr)")
            report.removeTimes()
            let export = try await Self.verify(plan, engine: fixture.engine, from: .export)
            #expect(report.canonical == Self.comparable(export))
        }
    }
}

/// Notes a verify run gave, collected across tasks.
final class NoteLog: @unchecked Sendable {
    private let lock = NSLock()
    private var notes: [String] = []

    func append(_ note: String) {
        lock.lock()
        notes.append(note)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return notes
    }
}

extension JSONValue {
    /// Drops `milliseconds` and `layerSources` everywhere.
    mutating func removeTimes() {
        switch self {
        case .members(let members):
            self = .members(
                members.filter { $0.key != "milliseconds" && $0.key != "layerSources" }.map { member in
                    var value = member.value
                    value.removeTimes()
                    return Member(member.key, value)
                })
        case .array(let array):
            self = .array(
                array.map { item in
                    var value = item
                    value.removeTimes()
                    return value
                })
        default:
            break
        }
    }
}
