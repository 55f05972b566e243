import ContainerBasics
import ImageGenValues
import BuildContext
import DockerEngine
/// An image's file system as its layers leave it, with what the layers wasted on the way.
public struct FileSystemView: Sendable {
    public private(set) var files: [String: LayerFile] = [:]
    /// Bytes of files that a later layer overwrote or deleted (each earlier copy counts).
    public private(set) var waste: Int64 = 0
    public private(set) var wasted: [String: Int64] = [:]
    /// The newest contents of kept small files (`etc/passwd`…).
    public private(set) var keptFiles: [String: [UInt8]] = [:]
    /// The package databases as the layers leave them (by the path of the file each came from).
    public private(set) var packageRecords: [String: PackageRecord] = [:]

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
        if !packageRecords.isEmpty {
            for directory in layer.opaqueDirectories { dropRecords(under: directory, including: false) }
            for path in layer.deletions { dropRecords(under: path, including: true) }
            for file in layer.files where packageRecords[file.path] != nil { packageRecords[file.path] = nil }
        }
        for (path, record) in layer.packageRecords { packageRecords[path] = record }
    }

    private mutating func dropRecords(under path: String, including: Bool) {
        let prefix = path.isEmpty ? "" : path + "/"
        for key in packageRecords.keys where key.hasPrefix(prefix) || (including && key == path) { packageRecords[key] = nil }
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
