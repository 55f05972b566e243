import ContainerBasics
import ImageGenValues
import BuildContext
import DockerEngine

/// Makes one layer's index from its entries, whichever way they are read: a layer tar in the
/// engine's export, or the layer's directory in the engine's storage. Both feed the same calls,
/// and the index is canonical (entries by path, a path listed twice keeps its last entry), so
/// every way to the same layer gives the same index, secret scan included.
package struct LayerIndexer {
    /// The bytes of a file, handed over in chunks.
    package typealias Content = (_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Void

    private let options: ImageExport.Options
    private var blob: LayerBlob
    private var files: [String: LayerFile] = [:]
    private var deletions: Set<String> = []
    private var opaque: Set<String> = []
    private var secrets: [String: [SecretFinding]] = [:]

    package init(key: String, options: ImageExport.Options) {
        self.options = options
        self.blob = LayerBlob(key: key)
    }

    var isEmpty: Bool { files.isEmpty && deletions.isEmpty && opaque.isEmpty }

    /// The layer deletes `path` from the layers below (`.wh.name`, or overlay's 0:0 device).
    package mutating func delete(_ path: String) { deletions.insert(path) }

    /// The layer hides what the layers below hold in `directory` (`.wh..wh..opq`, or overlay's
    /// `trusted.overlay.opaque=y`).
    package mutating func hideBelow(_ directory: String) { opaque.insert(directory) }

    /// Records an entry; for a file, scans its bytes (asked of `content` only when they are
    /// scanned, kept or a package database) and keeps the few that checks need.
    package mutating func add(_ file: LayerFile, content: Content) throws {
        files[file.path] = file
        secrets[file.path] = nil
        blob.keptFiles[file.path] = nil
        blob.packageRecords[file.path] = nil
        if file.kind == .symlink, let target = file.linkTarget, PackageRecord.isRecord(file.path) {
            blob.packageRecords[file.path] = PackageRecord.link(from: file.path, to: target)
        }
        guard file.kind == .file else { return }
        let keep = Self.isKept(file)
        let record = file.size <= PackageRecord.sizeLimit && PackageRecord.isRecord(file.path)
        let scan = options.scanSecrets && (file.size <= options.secretScanLimit || keep)
        if options.scanSecrets, !scan { blob.skippedLarge += 1 }
        guard scan || keep || record else { return }
        var scanner = SecretScanner()
        var collected: [UInt8] = []
        try content { chunk in
            if scan { scanner.feed(chunk) }
            if keep || record { collected.append(contentsOf: chunk) }
        }
        if keep { blob.keptFiles[file.path] = collected }
        if record { blob.packageRecords[file.path] = PackageRecord.parse(file.path, collected) }
        guard scan else { return }
        var findings = scanner.finish()
        if scanner.isBinary { blob.skippedBinary += 1 } else { blob.scannedFiles += 1 }
        let name = file.path.split(separator: "/").last.map(String.init) ?? file.path
        if let byName = SecretScanner.nameFinding(for: name) { findings.append(byName) }
        if !findings.isEmpty { secrets[file.path] = findings }
    }

    private static func isKept(_ file: LayerFile) -> Bool {
        file.kind == .file && ImageExport.Options.keptPaths.contains(file.path) && file.size <= 1 << 20
    }

    /// The index. `size` is the bytes of the layer's files (as `docker image ls` counts them),
    /// which every way to the layer agrees on, unlike the size of one tar rendering of it.
    package func finish() -> LayerBlob {
        var result = blob
        result.files = files.values.sorted { utf8Precedes($0.path, $1.path) }
        if !blob.packageRecords.isEmpty {
            let shared = SharedPaths(result.files)
            result.packageRecords = blob.packageRecords.mapValues { $0.sharing(shared) }
        }
        result.deletions = deletions.sorted(by: utf8Precedes)
        result.opaqueDirectories = opaque.sorted(by: utf8Precedes)
        result.size = result.files.reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) }
        result.secrets = secrets.keys.sorted(by: utf8Precedes).flatMap { path in secrets[path, default: []].map { SecretHit(path: path, finding: $0) } }
        return result
    }
}
