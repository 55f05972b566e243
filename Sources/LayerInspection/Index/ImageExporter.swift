import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext

/// Streams `docker save` output from the engine through libarchive, layer tar inside export
/// tar, indexing every file and scanning each for secrets on the way: nothing is unpacked to disk
/// and no layer is held whole in memory.
public enum ImageExport {
    public struct Options: Sendable {
        /// Files larger than this are not scanned for secrets (counted instead), as trivy does.
        public var secretScanLimit: Int64 = 10 << 20
        public var scanSecrets = true
        public static let keptPaths: Set<String> = ["etc/passwd", "etc/group", "etc/os-release", "usr/lib/os-release"]

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
                    let result = try await BlockingWork.run { try read(pipe, options: options) }
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
            if let blob = try readLayer(key: path, from: outer, options: options) {
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
    static func readLayer(key: String, from outer: ArchiveReader, options: Options) throws -> LayerBlob? {
        let inner: ArchiveReader
        do {
            inner = try ArchiveReader { try outer.nextBlock() ?? [] }
        } catch {
            return nil
        }
        var indexer = LayerIndexer(key: key, options: options)
        while true {
            let next: ArchiveReader.Entry?
            do {
                next = try inner.next()
            } catch  where indexer.isEmpty {
                return nil
            }
            guard let entry = next else { break }
            let path = normalize(entry.path)
            if path.isEmpty { continue }
            let name = path.split(separator: "/").last.map(String.init) ?? path
            if name.hasPrefix(".wh.") {
                let directory = path.contains("/") ? String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) : ""
                if name == ".wh..wh..opq" {
                    indexer.hideBelow(directory)
                } else {
                    let deleted = String(name.dropFirst(4))
                    indexer.delete(directory.isEmpty ? deleted : directory + "/" + deleted)
                }
                continue
            }
            let file = LayerFile(
                path: path, kind: entry.kind, size: entry.kind == .file ? entry.size : 0, mode: entry.mode, uid: entry.uid, gid: entry.gid,
                linkTarget: entry.linkTarget ?? entry.hardlinkTarget.map(normalize))
            try indexer.add(file) { body in try inner.readData(body) }
        }
        return indexer.finish()
    }

    /// A symlink target, relative to the link's directory, as a path from the archive root.
    static func resolve(_ target: String, relativeTo link: String) -> String {
        if target.hasPrefix("/") { return normalize(target) }
        let directory = link.parentPath.map(String.init) ?? ""
        return DockerIgnore.clean(directory.isEmpty ? target : directory + "/" + target)
    }

    package static func normalize(_ path: String) -> String {
        var path = Substring(path)
        while path.hasPrefix("./") { path = path.dropFirst(2) }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        return path == "." ? "" : String(path)
    }
}
