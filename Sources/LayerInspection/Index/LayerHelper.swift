import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext

/// Reads layers in the engine's storage where this process cannot (a user in the `docker` group,
/// whose engine's data root is root's; or an engine on another machine): a short-lived container
/// of imagegen itself, with the data root mounted read-only, runs `imagegen layer-index` on the
/// layer directories and prints each index. No layer's bytes cross the engine's API, only the
/// indexes. The container runs as root with CAP_SYS_ADMIN (to see overlay's opaque marks, which
/// are `trusted.*` attributes), no network and a read-only root file system, and is removed
/// afterwards.
///
/// The helper image is `FROM scratch`: the imagegen executable and the shared libraries it loads
/// (as `ldd` lists them), imported once per executable and kept (`imagegen-helper:<id>`; older
/// ones are removed when a new one is made).
public enum LayerHelper {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        package init(description: String) { self.description = description }
    }

    static let label = "dev.imagegen.helper"
    static let repository = "imagegen-helper"

    /// The imagegen executable to put in the helper: this process's, when it is imagegen.
    public static var defaultBinary: String? {
        let path = SystemCalls.executablePath()
        return URL(fileURLWithPath: path).lastPathComponent == "imagegen" ? path : nil
    }

    /// Whether the helper can run on `engine`: it keeps its layers in overlay2 under a data root
    /// it names, and runs this machine's architecture (the helper is this machine's binary).
    package static func usable(on engine: DockerEngine) async throws -> (dataRoot: String, reason: String?) {
        let info = try await engine.info()
        guard info.driver == "overlay2", let root = info.dockerRootDir, !root.isEmpty else {
            return ("", "the engine's storage driver is \(info.driver ?? "unknown"), not overlay2")
        }
        guard info.architecture == Platform.host.machine else {
            return (root, "the engine runs \(info.architecture ?? "another architecture"), this imagegen \(Platform.host.machine)")
        }
        return (root, nil)
    }

    /// Indexes the layer directories in a helper container; a layer the helper could not read
    /// is left out (the caller reads it another way).
    package static func read(
        _ wanted: [(Digest, String)], binary: String, dataRoot: String, engine: DockerEngine,
        options: ImageExport.Options
    ) async throws -> [Digest: LayerBlob] {
        guard !wanted.isEmpty else { return [:] }
        for (_, directory) in wanted where !directory.hasPrefix(dataRoot.hasSuffix("/") ? dataRoot : dataRoot + "/") {
            throw Failure(description: "\(directory) is not under the engine's data root \(dataRoot)")
        }
        let image = try await ensureImage(binary: binary, engine: engine)
        var arguments = ["layer-index", "--scan-limit", String(options.secretScanLimit)]
        if !options.scanSecrets { arguments.append("--no-secrets") }
        arguments += wanted.map(\.1)
        let spec = ContainerSpec(
            image: image, cmd: arguments, entrypoint: ["/imagegen"], user: "0:0", labels: [label: "1"], networkDisabled: true,
            hostConfig: .init(
                networkMode: "none", binds: ["\(dataRoot):\(dataRoot):ro"], readonlyRootfs: true,
                // Overlay's opaque marks are trusted.* attributes, shown only to CAP_SYS_ADMIN.
                capAdd: ["SYS_ADMIN"]))
        let id = try await engine.createContainer(spec)
        let output: [UInt8]
        let errors: [UInt8]
        do {
            try await engine.startContainer(id)
            let exit = try await engine.waitContainer(id, timeoutSeconds: 3600)
            (output, errors) = try await engine.logs(id, limit: 1 << 30)
            try? await engine.removeContainer(id)
            guard exit.statusCode == 0 else {
                let said = String(decoding: errors.suffix(400), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                throw Failure(description: "the helper container exited with \(exit.statusCode)\(said.isEmpty ? "" : ": \(said)")")
            }
        } catch {
            try? await engine.removeContainer(id)
            throw error
        }
        let byDirectory = Dictionary(wanted.map { ($0.1, $0.0) }, uniquingKeysWith: { first, _ in first })
        var read: [Digest: LayerBlob] = [:]
        for line in output.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            guard let document = try? JSONValue(parsing: Data(line)), let directory = document["directory"]?.stringValue,
                let id = byDirectory[directory], let index = document["index"],
                let blob = LayerIndexStore.decode(index, key: id.description)
            else { continue }
            read[id] = blob
        }
        return read
    }

    // MARK: - The helper image

    /// `imagegen-helper:<id>` for this executable, imported when the engine lacks it.
    static func ensureImage(binary: String, engine: DockerEngine) async throws -> String {
        var info = stat()
        guard stat(binary, &info) == 0 else { throw Failure(description: "\(binary): \(String(cString: strerror(errno)))") }
        let identity = "\(binary)|\(info.st_dev)|\(info.st_ino)|\(info.st_size)|\(SystemCalls.modificationNanoseconds(info))|\(SystemCalls.changeNanoseconds(info))"
        let tag = String(sha256Hex(identity).prefix(16))
        let reference = "\(repository):\(tag)"
        if try await engine.inspectImage(reference) != nil { return reference }

        let libraries = try await sharedLibraries(of: binary)
        var entries: [ContextEntry] = []
        var directories: Set<String> = []
        func add(_ path: String, as target: String) throws {
            var file = stat()
            guard stat(path, &file) == 0 else { throw Failure(description: "\(path): \(String(cString: strerror(errno)))") }
            var parent = (target as NSString).deletingLastPathComponent
            while !parent.isEmpty, parent != "/", directories.insert(parent).inserted {
                parent = (parent as NSString).deletingLastPathComponent
            }
            var entry = ContextEntry.file(path: String(target.dropFirst()), source: path, info: file)
            entry.mode = 0o755
            entries.append(entry)
        }
        try add(binary, as: "/imagegen")
        for library in libraries { try add(library, as: library) }
        for directory in directories { entries.append(.directory(String(directory.dropFirst()))) }
        // A scratch image still needs somewhere to write a temporary file, if the runtime wants one.
        entries.append(.directory("tmp"))

        let repositoryName = try Repository(parsing: repository)
        try await engine.importImage(
            .tar(entries.normalizedForArchive()), repository: repositoryName, tag: try Tag(parsing: tag),
            changes: ["ENTRYPOINT [\"/imagegen\"]", "LABEL \(label)=1"])
        // Helpers of earlier executables are not needed any more.
        for image in try await engine.listImages(labels: [label]) {
            for old in image.repoTags ?? [] where old.hasPrefix(repository + ":") && old != reference {
                try? await engine.removeImage(old)
            }
        }
        return reference
    }

    /// The shared objects `binary` loads, and the loader, as `ldd` lists them (none for a static one).
    static func sharedLibraries(of binary: String) async throws -> [String] {
        guard let result = try? await Subprocess.run("ldd", [binary], timeoutSeconds: 30), result.status == 0 else { return [] }
        var paths: [String] = []
        for line in String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            if let arrow = fields.firstIndex(of: "=>"), arrow + 1 < fields.count, fields[arrow + 1].hasPrefix("/") {
                paths.append(fields[arrow + 1])
            } else if let first = fields.first?.trimmingCharacters(in: .whitespaces), first.hasPrefix("/") {
                paths.append(first)
            }
        }
        return Array(Set(paths)).sorted()
    }
}

extension LayerStorage {
    /// What `imagegen layer-index` prints: one JSON line per directory, read as many at a time as
    /// there are cores.
    public static func indexLines(_ directories: [String], options: ImageExport.Options) -> [String] {
        ParallelMap.run(count: directories.count) { index in
            let directory = directories[index]
            let document: JSONValue
            do {
                let blob = try read(directory, key: directory, options: options)
                document = .object(["directory": .string(directory), "index": LayerIndexStore.encode(blob)])
            } catch {
                document = .object(["directory": .string(directory), "error": .string("\(error)")])
            }
            return document.canonical
        }
    }
}

extension LayerHelper.Failure: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
