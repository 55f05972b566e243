import ContainerBasics
import DockerEngine
import Foundation
import LayerInspection
import Planning

/// The engine's storage as a source of layer indexes: each layer's directory read in place where
/// this process can read it, else by a helper container (imagegen in a `FROM scratch` container
/// with the data root mounted read-only). Where neither can, it says so (``notes``) and leaves the
/// layers to the export; a forced way (`--layers-from storage|helper`) throws instead.
struct EngineStorage: LayerIndexSource {
    let engine: DockerEngine
    let mode: Verifier.LayersFrom
    let options: ImageExport.Options
    let helperBinary: String?
    let directoriesOf: @Sendable (ImageInspect) -> Result<[String], LayerStorage.Failure>
    let notes: @Sendable (String) -> Void

    init(
        engine: DockerEngine, mode: Verifier.LayersFrom, options: ImageExport.Options, helperBinary: String?,
        directories: @escaping @Sendable (ImageInspect) -> Result<[String], LayerStorage.Failure>, notes: @escaping @Sendable (String) -> Void
    ) {
        self.engine = engine
        self.mode = mode
        self.options = options
        self.helperBinary = helperBinary
        self.directoriesOf = directories
        self.notes = notes
    }

    /// The layers wanted, read in the engine's storage: in place where this process can
    /// read it (as many at a time as there are cores), else through the helper container. Where
    /// neither can, says so once and leaves the layers to the export (a forced way throws instead).
    func read(_ wanted: Set<Digest>, of images: [VerifiedImage]) async throws -> [Digest: (LayerBlob, LayerSource)] {
        var local: [(Digest, String)] = []
        var helped: [(Digest, String)] = []
        var seen = Set<Digest>()
        var unavailable: String?
        for image in images {
            let inspect = image.inspect, ids = image.diffIDs
            var directories: [String]?
            var reason: String?
            if mode == .auto || mode == .storage {
                switch directoriesOf(inspect) {
                case .success(let found): directories = found
                case .failure(let failure): reason = failure.description
                }
            }
            var viaHelper = false
            if directories == nil, mode == .auto || mode == .helper {
                if helperBinary == nil {
                    reason = reason ?? "no imagegen executable to run in a helper container"
                } else if case .success(let found) = LayerStorage.layout(of: inspect) {
                    directories = found
                    viaHelper = true
                } else if case .failure(let failure) = LayerStorage.layout(of: inspect) {
                    reason = failure.description
                }
            }
            guard let directories else {
                unavailable = unavailable ?? reason
                continue
            }
            for (id, directory) in zip(ids, directories) where wanted.contains(id) && !seen.contains(id) {
                seen.insert(id)
                if viaHelper { helped.append((id, directory)) } else { local.append((id, directory)) }
            }
        }
        if let unavailable {
            if mode == .storage || mode == .helper { throw Verifier.StorageUnavailable(description: "--layers-from \(mode.rawValue): \(unavailable)") }
            notes("note: reading layers from the engine's export: \(unavailable)")
        }
        var read: [Digest: (LayerBlob, LayerSource)] = [:]
        var failures: [String] = []
        for (id, blob) in try await readLocally(local, failures: &failures) { read[id] = (blob, .storage) }
        if !helped.isEmpty {
            do {
                let (dataRoot, problem) = try await LayerHelper.usable(on: engine)
                if let problem { throw LayerHelper.Failure(description: problem) }
                let found = try await LayerHelper.read(helped, binary: helperBinary ?? "", dataRoot: dataRoot, engine: engine, options: options)
                for (id, directory) in helped {
                    if let blob = found[id] { read[id] = (blob, .helper) } else { failures.append("\(directory): the helper could not read it") }
                }
            } catch let failure as LayerHelper.Failure {
                if mode == .helper { throw Verifier.StorageUnavailable(description: "--layers-from helper: \(failure)") }
                notes("note: reading layers from the engine's export: the helper container: \(failure)")
            } catch let error as DockerEngineError {
                guard error.isRefusal else { throw error }
                if mode == .helper { throw Verifier.StorageUnavailable(description: "--layers-from helper: \(error)") }
                notes("note: reading layers from the engine's export: the helper container: \(error)")
            }
        }
        if let first = failures.first {
            // The image was removed or rebuilt meanwhile: never a pass on half a layer.
            if mode == .storage || mode == .helper { throw Verifier.StorageUnavailable(description: "--layers-from \(mode.rawValue): \(first)") }
            notes(
                "note: \(failures.count) layer\(failures.count == 1 ? "" : "s") could not be read in the engine's storage (\(first)); reading \(failures.count == 1 ? "it" : "them") from the export"
            )
        }
        return read
    }

    /// Layer directories read by this process, as many at a time as there are cores.
    func readLocally(_ wanted: [(Digest, String)], failures: inout [String]) async throws -> [Digest: LayerBlob] {
        let exportOptions = options
        var read: [Digest: LayerBlob] = [:]
        var failed: [String] = []
        try await withThrowingTaskGroup(of: (Digest, Result<LayerBlob, LayerStorage.Failure>).self) { group in
            var next = 0
            func start() {
                guard next < wanted.count else { return }
                let (id, directory) = wanted[next]
                next += 1
                group.addTask {
                    let result = try await BlockingWork.run { () -> Result<LayerBlob, LayerStorage.Failure> in
                        do { return .success(try LayerStorage.read(directory, key: id.description, options: exportOptions)) } catch let failure as LayerStorage.Failure {
                            return .failure(failure)
                        }
                    }
                    return (id, result)
                }
            }
            for _ in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) { start() }
            while let (id, result) = try await group.next() {
                switch result {
                case .success(let blob): read[id] = blob
                case .failure(let failure): failed.append(failure.description)
                }
                start()
            }
        }
        failures += failed
        return read
    }
}
