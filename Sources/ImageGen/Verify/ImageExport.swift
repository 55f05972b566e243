import DockerEngine
import Foundation

/// One entry of one image layer.
public struct LayerFile: Sendable, Hashable {
    /// Relative to the image root, without `./` or a trailing `/`: `etc/passwd`.
    public var path: String
    public var kind: ArchiveReader.Entry.Kind
    public var size: Int64
    public var mode: UInt32
    public var uid: Int64
    public var gid: Int64
    public var linkTarget: String?
}

/// A secret found in a layer's file.
public struct SecretHit: Sendable, Hashable {
    public var path: String
    public var finding: SecretFinding
}

/// What one layer blob of an exported image holds.
public struct LayerBlob: Sendable {
    /// The blob's path in the export (`<id>/layer.tar` or `blobs/sha256/<hex>`).
    public var key: String
    /// Uncompressed bytes of the layer tar.
    public var size: Int64 = 0
    public var files: [LayerFile] = []
    /// Paths this layer deletes (`.wh.name` entries).
    public var deletions: [String] = []
    /// Directories whose lower contents this layer hides (`.wh..wh..opq`).
    public var opaqueDirectories: [String] = []
    public var secrets: [SecretHit] = []
    public var scannedFiles = 0
    public var skippedBinary = 0
    public var skippedLarge = 0
    /// Contents of small files checks need (`etc/passwd`, `etc/group`).
    public var keptFiles: [String: [UInt8]] = [:]
}

/// The result of reading an export: every layer blob once, and each image's layer order.
public struct ExportAnalysis: Sendable {
    public var blobs: [String: LayerBlob]
    /// Image reference (as tagged) → its layer keys, bottom first.
    public var images: [String: [String]]
}

/// Streams `docker save` output from the engine through libarchive, layer tar inside export
/// tar, indexing every file and scanning each for secrets on the way: nothing is unpacked to disk
/// and no layer is held whole in memory.
public enum ImageExport {
    public struct Options: Sendable {
        /// Files larger than this are not scanned for secrets (counted instead), as trivy does.
        public var secretScanLimit: Int64 = 10 << 20
        public var scanSecrets = true
        public static let keptPaths: Set<String> = ["etc/passwd", "etc/group"]

        public init() {}
    }

    public static func analyze(_ references: [String], engine: DockerEngine, options: Options = Options()) async throws -> ExportAnalysis {
        let body = try await engine.exportImages(references)
        let pipe = ChunkPipe()
        return try await withThrowingTaskGroup(of: ExportAnalysis?.self) { group in
            group.addTask {
                do {
                    for try await chunk in body where !(await pipe.push(chunk)) { break }
                    pipe.finish()
                } catch {
                    pipe.finish(error)
                    throw error
                }
                return nil
            }
            group.addTask {
                do {
                    let result = try await onThread { try read(pipe, options: options) }
                    pipe.close()
                    return result
                } catch {
                    pipe.close()
                    throw error
                }
            }
            var result: ExportAnalysis?
            for try await value in group where value != nil { result = value }
            guard let result else { throw ArchiveError(message: "the export ended without a result") }
            return result
        }
    }

    /// Reads a whole export from `pipe` on the calling thread.
    static func read(_ pipe: ChunkPipe, options: Options) throws -> ExportAnalysis {
        let outer = try ArchiveReader { try pipe.pop() }
        var blobs: [String: LayerBlob] = [:]
        var aliases: [String: String] = [:]
        var manifest: JSONValue?
        while let entry = try outer.next() {
            let path = normalize(entry.path)
            // `docker save` stores a layer two images share once and links the other copy to it.
            if entry.kind == .symlink || entry.kind == .hardlink, let target = entry.linkTarget ?? entry.hardlinkTarget {
                aliases[path] = entry.kind == .hardlink ? normalize(target) : resolve(target, relativeTo: path)
                continue
            }
            guard entry.kind == .file else { continue }
            if path == "manifest.json" {
                manifest = try JSONValue(parsing: Data(try outer.readAll(limit: 16 << 20)))
                continue
            }
            guard path.hasSuffix("layer.tar") || path.hasPrefix("blobs/") else { continue }
            if let blob = try readLayer(key: path, size: entry.size, from: outer, options: options) {
                blobs[path] = blob
            }
        }
        for (alias, target) in aliases {
            var current = target
            for _ in 0..<8 where blobs[current] == nil { current = aliases[current] ?? current }
            if var blob = blobs[current] {
                blob.key = alias
                blobs[alias] = blob
            }
        }
        guard let entries = manifest?.arrayValue else { throw ArchiveError(message: "the export has no manifest.json") }
        var images: [String: [String]] = [:]
        for entry in entries {
            let layers = (entry["Layers"]?.arrayValue ?? []).compactMap(\.stringValue).map(normalize)
            for tag in entry["RepoTags"]?.arrayValue ?? [] {
                if let tag = tag.stringValue { images[tag] = layers }
            }
        }
        return ExportAnalysis(blobs: blobs, images: images)
    }

    /// Reads one entry of the export as a layer tar; nil when it is not a tar (an OCI config blob).
    static func readLayer(key: String, size: Int64, from outer: ArchiveReader, options: Options) throws -> LayerBlob? {
        let inner: ArchiveReader
        do {
            inner = try ArchiveReader { try outer.nextBlock() ?? [] }
        } catch {
            return nil
        }
        var blob = LayerBlob(key: key, size: size)
        while true {
            let next: ArchiveReader.Entry?
            do {
                next = try inner.next()
            } catch where blob.files.isEmpty && blob.deletions.isEmpty {
                return nil
            }
            guard let entry = next else { break }
            let path = normalize(entry.path)
            if path.isEmpty { continue }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            if name.hasPrefix(".wh.") {
                let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) : ""
                if name == ".wh..wh..opq" {
                    blob.opaqueDirectories.append(directory)
                } else {
                    let deleted = String(name.dropFirst(4))
                    blob.deletions.append(directory.isEmpty ? deleted : directory + "/" + deleted)
                }
                continue
            }
            blob.files.append(LayerFile(path: path, kind: entry.kind, size: entry.size, mode: entry.mode, uid: entry.uid, gid: entry.gid,
                                        linkTarget: entry.linkTarget ?? entry.hardlinkTarget.map(normalize)))
            guard entry.kind == .file else { continue }
            let keep = Options.keptPaths.contains(path) && entry.size <= 1 << 20
            guard options.scanSecrets || keep else { continue }
            if entry.size > options.secretScanLimit, !keep {
                blob.skippedLarge += 1
                continue
            }
            var scanner = SecretScanner()
            var kept: [UInt8] = []
            try inner.readData { chunk in
                if options.scanSecrets { scanner.feed(chunk) }
                if keep { kept.append(contentsOf: chunk) }
            }
            if keep { blob.keptFiles[path] = kept }
            guard options.scanSecrets else { continue }
            let findings = scanner.finish()
            if scanner.isBinary { blob.skippedBinary += 1 } else { blob.scannedFiles += 1 }
            blob.secrets += findings.map { SecretHit(path: path, finding: $0) }
            if let byName = SecretScanner.nameFinding(for: name) { blob.secrets.append(SecretHit(path: path, finding: byName)) }
        }
        return blob
    }

    /// A symlink target, relative to the link's directory, as a path from the archive root.
    static func resolve(_ target: String, relativeTo link: String) -> String {
        if target.hasPrefix("/") { return normalize(target) }
        let directory = link.parentPath.map(String.init) ?? ""
        return DockerIgnore.clean(directory.isEmpty ? target : directory + "/" + target)
    }

    static func normalize(_ path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        return path == "." ? "" : String(path)
    }
}

/// An image's file system as its layers leave it, with what the layers wasted on the way.
public struct FileSystemView: Sendable {
    public private(set) var files: [String: LayerFile] = [:]
    /// Bytes of files that a later layer overwrote or deleted (each earlier copy counts).
    public private(set) var waste: Int64 = 0
    public private(set) var wasted: [String: Int64] = [:]
    /// The newest contents of kept small files (`etc/passwd`…).
    public private(set) var keptFiles: [String: [UInt8]] = [:]

    public init() {}

    public init(layers: [LayerBlob]) {
        for layer in layers { apply(layer) }
    }

    public mutating func apply(_ layer: LayerBlob) {
        for directory in layer.opaqueDirectories {
            removeChildren(of: directory)
        }
        for path in layer.deletions {
            remove(path)
        }
        for file in layer.files {
            if let previous = files[file.path] {
                if previous.kind == .file { account(previous) }
                if previous.kind == .directory, file.kind != .directory { removeChildren(of: file.path) }
            }
            files[file.path] = file
        }
        for (path, bytes) in layer.keptFiles { keptFiles[path] = bytes }
        for path in layer.deletions where keptFiles[path] != nil { keptFiles[path] = nil }
    }

    private mutating func account(_ file: LayerFile) {
        waste += file.size
        wasted[file.path, default: 0] += file.size
    }

    private mutating func remove(_ path: String) {
        if let previous = files.removeValue(forKey: path) {
            if previous.kind == .file { account(previous) }
            if previous.kind == .directory { removeChildren(of: path) }
        }
    }

    private mutating func removeChildren(of directory: String) {
        let prefix = directory.isEmpty ? "" : directory + "/"
        for (path, file) in files where path.hasPrefix(prefix) && path != directory {
            files[path] = nil
            if file.kind == .file { account(file) }
        }
    }

    /// The largest wasted paths.
    public func largestWaste(_ count: Int) -> [(path: String, bytes: Int64)] {
        wasted.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(count).map { ($0.key, $0.value) }
    }
}
