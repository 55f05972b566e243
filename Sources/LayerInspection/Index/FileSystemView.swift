import ContainerBasics
import ImageGenValues
import BuildContext
import DockerEngine
/// What a file tree keeps of each entry: all of it (``LayerFile``), or only what sizes need
/// (``FileSize``, for large images read only to count bytes).
public protocol FileTreeEntry: Sendable {
    init(_ file: LayerFile)
    var isFile: Bool { get }
    var isDirectory: Bool { get }
    /// Bytes, for a regular file.
    var size: Int64 { get }
}

extension LayerFile: FileTreeEntry {
    public init(_ file: LayerFile) { self = file }
    public var isFile: Bool { kind == .file }
    public var isDirectory: Bool { kind == .directory }
}

/// An entry's kind and, for a regular file, its size: 8 bytes where a ``LayerFile`` takes 72.
public struct FileSize: FileTreeEntry, Hashable {
    /// The size of a regular file; -1 a directory, -2 anything else.
    let value: Int64

    public init(_ file: LayerFile) {
        value = file.kind == .file ? file.size : file.kind == .directory ? -1 : -2
    }

    public var isFile: Bool { value >= 0 }
    public var isDirectory: Bool { value == -1 }
    public var size: Int64 { max(value, 0) }
}

/// An image's file system as its layers leave it, with what the layers wasted on the way.
public typealias FileSystemView = FileTree<LayerFile>

/// An image's file system as its layers leave it (each entry kept as `Entry` says), with what the
/// layers wasted on the way.
public struct FileTree<Entry: FileTreeEntry>: Sendable {
    public private(set) var files: [String: Entry] = [:]
    /// Bytes of files that a later layer overwrote or deleted (each earlier copy counts).
    public private(set) var waste: Int64 = 0
    public private(set) var wasted: [String: Int64] = [:]
    /// The newest contents of kept small files (`etc/passwd`…).
    public private(set) var keptFiles: [String: [UInt8]] = [:]
    /// The package databases as the layers leave them (by the path of the file each came from).
    public private(set) var packageRecords: [String: PackageRecord] = [:]
    /// Since ``track()``: each path changed since, with the entry it had then (nil: none); nil
    /// when not tracking. Two trees tracked from the same point are compared by these alone.
    public private(set) var changedSince: [String: Entry?]?

    public init() {}

    /// Starts (again) to note which paths change.
    public mutating func track() { changedSince = [:] }

    /// Notes what `path` is before it changes, the first time it does.
    private mutating func willChange(_ path: String) {
        guard changedSince != nil, changedSince?.index(forKey: path) == nil else { return }
        changedSince?[path] = .some(files[path])
    }

    public init(layers: [LayerBlob]) {
        for layer in layers { apply(layer) }
    }

    public mutating func apply(_ layer: LayerBlob) {
        // What the layer hides below it: the children of its opaque directories, the paths it
        // deletes, and the children of those that were directories. Found in one pass over the
        // files (a layer can mark thousands of directories opaque; a pass for each would be
        // quadratic).
        var hidden = Set(layer.opaqueDirectories.map { Substring($0) })
        for path in layer.deletions {
            willChange(path)
            if let previous = files.removeValue(forKey: path) {
                if previous.isFile { account(previous, at: path) }
                if previous.isDirectory { hidden.insert(Substring(path)) }
            }
        }
        removeDescendants(of: hidden)
        var replaced = Set<Substring>()
        for file in layer.files {
            willChange(file.path)
            if let previous = files[file.path] {
                if previous.isFile { account(previous, at: file.path) }
                if previous.isDirectory, file.kind != .directory { replaced.insert(Substring(file.path)) }
            }
            files[file.path] = Entry(file)
        }
        // A directory this layer replaced with a file or link: what it held is gone.
        removeDescendants(of: replaced)
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

    private mutating func account(_ file: Entry, at path: String) {
        waste += file.size
        wasted[path, default: 0] += file.size
    }

    /// Removes every file under one of `directories` (not the directories themselves), in one
    /// pass: each path's ancestors are looked up in the set.
    private mutating func removeDescendants(of directories: Set<Substring>) {
        guard !directories.isEmpty else { return }
        // The root ("") hides everything.
        let everything = directories.contains("")
        var gone: [String] = []
        for (path, _) in files {
            if everything {
                gone.append(path)
                continue
            }
            var index = path.startIndex
            while let slash = path[index...].firstIndex(of: "/") {
                if directories.contains(path[..<slash]) {
                    gone.append(path)
                    break
                }
                index = path.index(after: slash)
            }
        }
        for path in gone {
            willChange(path)
            if let file = files.removeValue(forKey: path), file.isFile { account(file, at: path) }
        }
    }

    /// The largest wasted paths.
    public func largestWaste(_ count: Int) -> [(path: String, bytes: Int64)] {
        wasted.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(count).map { ($0.key, $0.value) }
    }
}
