import Crypto
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

/// An image's final file tree, read from the engine's export: every path with its type, mode,
/// owner, size, link target and content digest, whiteouts applied. Two images "have the same
/// file tree" when these are equal (mtimes aside).
struct ImageTree: Equatable {
    struct Entry: Equatable, CustomStringConvertible {
        var kind: String
        var mode: UInt32
        var uid: Int64
        var gid: Int64
        var size: Int64
        var sha256: String?
        var link: String?

        var description: String {
            "\(kind) \(String(mode, radix: 8)) \(uid):\(gid) \(size)\(sha256.map { " " + $0.prefix(12) } ?? "")\(link.map { " → " + $0 } ?? "")"
        }
    }

    var entries: [String: Entry] = [:]

    static func read(_ reference: String, engine: DockerEngine) async throws -> ImageTree {
        var bytes: [UInt8] = []
        for try await chunk in try await engine.exportImage(reference) { bytes += chunk }
        let export = try ArchiveReader(bytes: bytes)
        var files: [String: [UInt8]] = [:]
        var aliases: [String: String] = [:]
        while let entry = try export.next() {
            let path = ImageExport.normalize(entry.path)
            // `docker save` stores a layer once and links other copies to it (BuildKit's empty
            // layers, for one).
            if entry.kind == .symlink || entry.kind == .hardlink, let target = entry.linkTarget ?? entry.hardlinkTarget {
                aliases[path] = entry.kind == .hardlink ? ImageExport.normalize(target) : ImageExport.resolve(target, relativeTo: path)
                continue
            }
            if path == "manifest.json" || path.hasSuffix("/layer.tar") || path.hasPrefix("blobs/") {
                files[path] = try export.readAll(limit: 1 << 30)
            }
        }
        for (alias, target) in aliases where files[alias] == nil { files[alias] = files[target] }
        let manifestBytes = try #require(files["manifest.json"])
        let manifest = try #require(try JSONValue(parsing: manifestBytes).arrayValue?.first)
        var tree = ImageTree()
        for layer in manifest["Layers"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            try tree.apply(try #require(files[layer], "no \(layer) in the export of \(reference)"))
        }
        return tree
    }

    mutating func apply(_ layer: [UInt8]) throws {
        let reader = try ArchiveReader(bytes: layer)
        while let entry = try reader.next() {
            var path = entry.path.hasPrefix("./") ? String(entry.path.dropFirst(2)) : entry.path
            if path.hasSuffix("/") { path.removeLast() }
            if path.isEmpty || path == "." { continue }
            let name = String(path.lastPathComponent)
            let parent = path.parentPath.map(String.init)
            if name == ".wh..wh..opq" {
                let prefix = (parent ?? "") + "/"
                entries = entries.filter { !$0.key.hasPrefix(prefix) }
                continue
            }
            if name.hasPrefix(".wh.") {
                let removed = (parent.map { $0 + "/" } ?? "") + name.dropFirst(4)
                entries = entries.filter { $0.key != removed && !$0.key.hasPrefix(removed + "/") }
                continue
            }
            var sha: String?
            if entry.kind == .file {
                var hasher = SHA256()
                try reader.readData { hasher.update(bufferPointer: $0) }
                sha = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            }
            if let target = entry.hardlinkTarget {
                // A hard link has its target's content.
                let key = target.hasPrefix("./") ? String(target.dropFirst(2)) : target
                if let linked = entries[key] { entries[path] = linked; continue }
            }
            entries[path] = Entry(
                kind: "\(entry.kind)", mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid, size: entry.kind == .file ? entry.size : 0,
                sha256: sha, link: entry.linkTarget)
        }
    }

    /// Paths whose bytes say when they were written (logs, caches, the password aging fields),
    /// left out of a comparison of two builds.
    func without(_ volatile: [String]) -> ImageTree {
        var copy = self
        copy.entries = entries.filter { path, _ in !volatile.contains { path == $0 || path.hasPrefix($0 + "/") } }
        return copy
    }

    /// What differs, for a failure message.
    func differences(from other: ImageTree, limit: Int = 20) -> [String] {
        var lines: [String] = []
        for path in Set(entries.keys).union(other.entries.keys).sorted() where entries[path] != other.entries[path] {
            lines.append("/\(path): \(entries[path].map(\.description) ?? "absent") vs \(other.entries[path].map(\.description) ?? "absent")")
            if lines.count == limit { break }
        }
        return lines
    }
}

/// The parts of an image's config a Dockerfile decides (labels aside: imagegen adds its own).
struct ImageConfigSummary: Equatable {
    var user, workingDir, stopSignal: String?
    var env, cmd, entrypoint, exposedPorts, volumes, healthcheck: [String]

    init(_ image: ImageInspect) {
        let config = image.config
        user = config?.user
        workingDir = config?.workingDir
        stopSignal = config?.stopSignal
        env = config?.env ?? []
        cmd = config?.cmd ?? []
        entrypoint = config?.entrypoint ?? []
        exposedPorts = (config?.exposedPorts ?? [:]).keys.sorted()
        volumes = (config?.volumes ?? [:]).keys.sorted()
        let check = config?.healthcheck
        healthcheck = (check?.test ?? []) + [check?.interval, check?.timeout, check?.startPeriod].map { $0.map(String.init) ?? "-" } + [check?.retries.map(String.init) ?? "-"]
    }
}
