import ContainerBasics
import LayerInspection
import Foundation

/// One package an image holds.
public struct InventoryPackage: Sendable, Hashable {
    public enum Ecosystem: String, Sendable, CaseIterable, Comparable {
        case deb, apk, pypi, npm

        public static func < (lhs: Self, rhs: Self) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
    }

    /// Stable within an image: the ecosystem, and where the package is (`deb/jq/amd64`,
    /// `pypi/opt/venv/lib/python3.13/site-packages/rich-13.9.4.dist-info`, `npm/usr/lib/node_modules/npm`).
    public var id: String
    public var ecosystem: Ecosystem
    public var name: String
    public var version: String
    public var architecture: String?
    /// The license its metadata states, as stated (``Licenses`` makes an SPDX expression of it).
    public var license: String?
    public var purl: String
    /// The directory of a Python or Node package; the database file of a Debian or Alpine one.
    public var location: String
    /// The image layer (bottom first) that added it, or last changed its version.
    public var layer: Int
    /// Bytes of its regular files in the image.
    public var bytes: Int64
    /// Its regular files in the image, with the checksum its database records, if any (when the
    /// inventory was made with its files; the bytes are counted either way).
    public var files: [OwnedFile]

    /// The source package (Debian's `Source`, Alpine's origin) when it differs: `glibc@2.41-12`.
    public var upstream: String? = nil
    /// Who supplies it, as its metadata says (a maintainer, an author), or, for a Python or Node
    /// package that an OS package installed, that package's maintainer.
    public var supplier: String? = nil

    public struct OwnedFile: Sendable, Hashable {
        public var path: String
        public var size: Int64
        public var checksum: String?
    }
}

/// What one image layer's files are, by package.
public struct LayerPackageUsage: Sendable {
    /// Bytes the layer's regular files add, by package id. A file counts once: for the Debian or
    /// Alpine package that lists it, else the Python distribution, else the Node package around it.
    public var added: [String: Int64] = [:]
    /// Bytes of the layer's regular files no package owns (static binaries, generated files…).
    public var unowned: Int64 = 0
    /// The largest of them.
    public var largestUnowned: [(path: String, bytes: Int64)] = []
}

/// The packages of an image, from the package databases its layers hold, and the bytes each layer
/// adds for each. Static binaries, copied files and anything no database lists are "unowned".
public struct PackageInventory: Sendable {
    public var packages: [InventoryPackage]
    /// One per image layer, bottom first.
    public var layers: [LayerPackageUsage]
    /// `ID` and `VERSION_ID` of the image's os-release (`debian`, `13`), when it has one.
    public var distro: (id: String, versionID: String?)?

    public func package(_ id: String) -> InventoryPackage? { packages.first { $0.id == id } }

    /// The packages of the layers `layerIndices` by the bytes those layers add for them, largest
    /// first, with the bytes no package owns as one row named `(unowned)`.
    public func largestAdded(in layerIndices: Range<Int>, count: Int) -> [AddedBytes] {
        var bytes: [String: Int64] = [:]
        var unowned: Int64 = 0
        for index in layerIndices where layers.indices.contains(index) {
            for (id, added) in layers[index].added { bytes[id, default: 0] += added }
            unowned += layers[index].unowned
        }
        let byID = Dictionary(uniqueKeysWithValues: packages.map { ($0.id, $0) })
        var rows: [AddedBytes] = bytes.map { id, added in
            let package = byID[id]
            return AddedBytes(name: package?.name ?? id, version: package?.version, ecosystem: package?.ecosystem, bytes: added)
        }
        if unowned > 0 { rows.append(AddedBytes(name: AddedBytes.unownedName, version: nil, ecosystem: nil, bytes: unowned)) }
        return Array(rows.sorted { ($0.bytes, $1.name) > ($1.bytes, $0.name) }.prefix(count))
    }
}

/// A path of an image that a walk changed since it began to track changes: the size of the
/// regular file it was then and is now (nil: none, or not a regular file).
public struct FileChange: Sendable, Hashable {
    public let path: String
    // -1: none (32 bytes a change where optionals would take 48; a large diff holds many).
    private let was: Int64
    private let now: Int64

    public var before: Int64? { was >= 0 ? was : nil }
    public var after: Int64? { now >= 0 ? now : nil }

    public init(path: String, before: Int64?, after: Int64?) {
        self.path = path
        self.was = before ?? -1
        self.now = after ?? -1
    }

    /// What `tree` changed since it began tracking (nothing when it does not), by path in UTF-8
    /// order, regular files only.
    public static func changes<Entry>(_ tree: FileTree<Entry>) -> [FileChange] {
        guard let since = tree.changedSince else { return [] }
        var changes: [FileChange] = []
        for (path, was) in since {
            let before = was.flatMap { $0.isFile ? $0.size : nil }, after = tree.files[path].flatMap { $0.isFile ? $0.size : nil }
            if before != nil || after != nil { changes.append(FileChange(path: path, before: before, after: after)) }
        }
        changes.sort { utf8Precedes($0.path, $1.path) }
        return changes
    }
}

/// Bytes some layers add for one package (or for no package: ``unownedName``).
public struct AddedBytes: Sendable, Equatable {
    public static let unownedName = "(unowned)"
    public var name: String
    public var version: String?
    public var ecosystem: InventoryPackage.Ecosystem?
    public var bytes: Int64

    public init(name: String, version: String?, ecosystem: InventoryPackage.Ecosystem?, bytes: Int64) {
        self.name = name
        self.version = version
        self.ecosystem = ecosystem
        self.bytes = bytes
    }

    /// `jq 1.7.1-3 (deb)`, or `(unowned)`.
    public var label: String {
        guard let version, let ecosystem else { return name }
        return "\(name) \(version) (\(ecosystem.rawValue))"
    }
}

extension PackageInventory {
    /// The inventory of an image whose layers (bottom first) are `layers`.
    /// `files`: each package lists its files (else only their bytes are counted).
    public static func make(_ layers: [LayerBlob], files: Bool = true) -> PackageInventory {
        var builder = InventoryBuilder(keepFiles: files)
        for (index, layer) in layers.enumerated() { builder.apply(layer, index: index) }
        return builder.finish()
    }

    /// An image as a walk up its layers leaves it: its packages, its regular files changed since
    /// the walk began to track them, its bytes.
    public struct Snapshot: Sendable {
        public var inventory: PackageInventory
        /// By path, in UTF-8 order; empty when the walk did not track changes.
        public var files: [FileChange]
        /// The bytes of every layer's files (as verify's size counts them).
        public var bytes: Int64
    }

    /// The images `chains` name, each a chain of layers (bottom first) that shares its first
    /// layers with others (a family: each image is the one below plus layers), made in one walk
    /// of the tree the chains make: each layer of it is loaded once, when its turn comes, and let
    /// go after (`layer` returns nil when it cannot: then nil). Where chains part, all but the
    /// last branch walk on a copy. `trackingFrom`: how many layers up the walk starts to track
    /// changed files, which snapshots then hold (nil: none; 0: every file).
    public static func snapshots<Key: Hashable>(
        chains: [[Key]], layer: (Key) -> LayerBlob?, files: Bool = false, trackingFrom tracking: Int? = nil
    ) -> [[Key]: Snapshot]? {
        var result: [[Key]: Snapshot] = [:]
        guard walk(chains: chains, layer: layer, files: files, trackingFrom: tracking, each: { result[$0] = $1 }) else { return nil }
        return result
    }

    /// ``snapshots(chains:layer:files:trackingFrom:)`` handing each to `each` as soon as it is
    /// made (so that a caller keeps only what it still needs); false when a layer could not be
    /// loaded.
    public static func walk<Key: Hashable>(
        chains: [[Key]], layer: (Key) -> LayerBlob?, files: Bool = false, trackingFrom tracking: Int? = nil,
        each: (_ chain: [Key], _ snapshot: Snapshot) -> Void
    ) -> Bool {
        var failed = false
        // The layer is let go when this returns, before the walk goes on up.
        func step(_ builder: inout InventoryBuilder, _ key: Key, depth: Int) -> Bool {
            guard let blob = layer(key) else { return false }
            builder.apply(blob, index: depth)
            return true
        }
        func visit(_ builder: inout InventoryBuilder, depth: Int, chains: [[Key]]) {
            if depth == tracking { builder.view.track() }
            for chain in chains where chain.count == depth { each(chain, builder.snapshot()) }
            var next: [Key] = []
            var above: [Key: [[Key]]] = [:]
            for chain in chains where chain.count > depth {
                if above[chain[depth]] == nil { next.append(chain[depth]) }
                above[chain[depth], default: []].append(chain)
            }
            for (position, key) in next.enumerated() where !failed {
                if position == next.count - 1 {
                    guard step(&builder, key, depth: depth) else {
                        failed = true
                        return
                    }
                    visit(&builder, depth: depth + 1, chains: above[key] ?? [])
                } else {
                    var branch = builder
                    guard step(&branch, key, depth: depth) else {
                        failed = true
                        return
                    }
                    visit(&branch, depth: depth + 1, chains: above[key] ?? [])
                }
            }
        }
        var root = InventoryBuilder(keepFiles: files)
        var unique = Set<[Key]>()
        visit(&root, depth: 0, chains: chains.filter { unique.insert($0).inserted })
        return !failed
    }

}

/// Walks an image's layers bottom up: the file system and package databases as each layer leaves
/// them, who owns each path, and each package's first layer.
private struct InventoryBuilder {
    /// Whether packages list their files (else only their bytes are counted).
    let keepFiles: Bool
    /// Sizes only: an inventory needs no more of each file, and a large image has many.
    var view = FileTree<FileSize>()
    /// Paths listed by a package database → the owning package (an index into `ownerIDs`; OS
    /// packages win over Python's).
    var owners: [String: Int32] = [:]
    var ownerIDs: [String] = []
    var ownerRanks: [Int] = []
    /// The package directories of Node packages (their files are found by directory).
    var nodeDirectories: [Substring: String] = [:]
    /// Package id → (version, layer that gave it).
    var firstSeen: [String: (version: String, layer: Int)] = [:]
    var usage: [LayerPackageUsage] = []
    var current: [String: Described] = [:]
    /// The bytes of the layers' files so far.
    var bytes: Int64 = 0

    /// A package as the databases describe it, before bytes are counted.
    struct Described {
        var package: InventoryPackage
        var listed: Listed
        var rank: Int
    }

    /// The paths a database lists for a package, with the checksums it records, if any. Kept as
    /// the database's own array of paths (dpkg's lists hold nearly every path of an image, and a
    /// copy of each list would be most of what the walk holds).
    struct Listed {
        var paths: [String] = []
        /// Empty, or one per path.
        var checksums: [String?] = []

        init() {}

        init(_ files: [PackageRecord.RecordedFile]) {
            paths = files.map(\.path)
            checksums = files.contains { $0.checksum != nil } ? files.map(\.checksum) : []
        }

        mutating func append(_ more: [String]) {
            if paths.isEmpty, checksums.isEmpty { paths = more; return }
            paths += more
            if !checksums.isEmpty { checksums += Array(repeating: nil, count: more.count) }
        }

        func checksum(at index: Int) -> String? { checksums.isEmpty ? nil : checksums[index] }
    }

    mutating func apply(_ layer: LayerBlob, index: Int) {
        let recordsChanged =
            !layer.packageRecords.isEmpty || !layer.deletions.isEmpty && !view.packageRecords.isEmpty
            || !layer.opaqueDirectories.isEmpty && !view.packageRecords.isEmpty
            || layer.files.contains { view.packageRecords[$0.path] != nil }
        view.apply(layer)
        bytes += layer.size
        if recordsChanged || index == 0 {
            // What the last description made goes first: both at once would be twice the tables.
            current = [:]
            owners = [:]
            ownerIDs = []
            ownerRanks = []
            nodeDirectories = [:]
            current = Self.describe(view.packageRecords)
            for (id, described) in current {
                if described.package.ecosystem == .npm {
                    nodeDirectories[Substring(described.package.location)] = id
                    continue
                }
                let number = Int32(ownerIDs.count)
                ownerIDs.append(id)
                ownerRanks.append(described.rank)
                for path in described.listed.paths where (owners[path].map { ownerRanks[Int($0)] } ?? Int.max) > described.rank {
                    owners[path] = number
                }
            }
            for (id, described) in current where firstSeen[id]?.version != described.package.version {
                firstSeen[id] = (described.package.version, index)
            }
        }
        var layerUsage = LayerPackageUsage()
        var largest = Largest(count: 10)
        for file in layer.files where file.kind == .file {
            if let owner = owners[file.path].map({ ownerIDs[Int($0)] }) ?? nodeOwner(of: file.path) {
                layerUsage.added[owner, default: 0] += file.size
            } else {
                layerUsage.unowned += file.size
                largest.offer(file.path, file.size)
            }
        }
        layerUsage.largestUnowned = largest.items
        usage.append(layerUsage)
    }

    /// The Node package whose directory is the nearest around `path`.
    func nodeOwner(of path: String) -> String? {
        guard !nodeDirectories.isEmpty else { return nil }
        var end = path.endIndex
        while let slash = path[..<end].lastIndex(of: "/") {
            if let id = nodeDirectories[path[..<slash]] { return id }
            end = slash
        }
        return nil
    }

    func snapshot() -> PackageInventory.Snapshot {
        PackageInventory.Snapshot(inventory: finish(), files: FileChange.changes(view), bytes: bytes)
    }

    func finish() -> PackageInventory {
        let distro = Self.osRelease(view)
        var packages: [InventoryPackage] = []
        var nodeFiles: [String: [InventoryPackage.OwnedFile]] = [:]
        var nodeBytes: [String: Int64] = [:]
        if !nodeDirectories.isEmpty {
            for (path, file) in view.files where file.isFile {
                guard let id = nodeOwner(of: path) else { continue }
                nodeBytes[id, default: 0] += file.size
                if keepFiles { nodeFiles[id, default: []].append(.init(path: path, size: file.size, checksum: nil)) }
            }
        }
        for (id, described) in current {
            var package = described.package
            package.layer = firstSeen[id]?.layer ?? 0
            if package.ecosystem == .npm {
                // In no particular order (a document that lists them sorts them).
                package.bytes = nodeBytes[id] ?? 0
                if keepFiles { package.files = nodeFiles[id] ?? [] }
            } else if keepFiles {
                var seen = Set<String>()
                let listed = described.listed
                package.files = listed.paths.indices.compactMap { index in
                    let path = listed.paths[index]
                    guard seen.insert(path).inserted, let file = view.files[path], file.isFile else { return nil }
                    return .init(path: path, size: file.size, checksum: listed.checksum(at: index))
                }
                package.bytes = package.files.reduce(0) { $0 + $1.size }
            } else {
                package.bytes = Self.listedBytes(described.listed.paths, in: view)
            }
            package.purl = PackageURL.make(package, distro: distro)
            packages.append(package)
        }
        // A Python or Node package an OS package installed (Debian's python3-*, node-*) is
        // supplied through that package when its own metadata names nobody.
        for index in packages.indices where packages[index].supplier == nil && [.pypi, .npm].contains(packages[index].ecosystem) {
            let manifest = packages[index].location + (packages[index].ecosystem == .npm ? "/package.json" : "/METADATA")
            if let owner = owners[manifest].map({ ownerIDs[Int($0)] }), let installer = current[owner], installer.package.ecosystem < .pypi {
                packages[index].supplier = installer.package.supplier
            }
        }
        packages.sort { ($0.ecosystem, $0.name, $0.version, $0.location) < ($1.ecosystem, $1.name, $1.version, $1.location) }
        return PackageInventory(packages: packages, layers: usage, distro: distro)
    }

    /// Every package the databases describe, by id.
    static func describe(_ records: [String: PackageRecord]) -> [String: Described] {
        var described: [String: Described] = [:]
        var dpkgByName: [String: [String]] = [:]  // name → ids
        var licenses: [String: String] = [:]  // Debian package → license
        var lists: [(package: String, paths: [String])] = []
        var pythonRecords: [String: [PackageRecord.RecordedFile]] = [:]  // dist-info directory → files
        for path in records.keys.sorted(by: utf8Precedes) {
            let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
            switch records[path]! {
            case .dpkgStatus(let packages):
                for entry in packages {
                    let id = "deb/\(entry.name)/\(entry.architecture)"
                    let package = InventoryPackage(
                        id: id, ecosystem: .deb, name: entry.name, version: entry.version, architecture: entry.architecture, license: nil,
                        purl: "", location: path, layer: 0, bytes: 0, files: [])
                    described[id] = Described(package: package, listed: Listed(), rank: 0)
                    described[id]?.package.supplier = entry.maintainer
                    dpkgByName[entry.name, default: []].append(id)
                    if let source = entry.source { described[id]?.package.upstream = sourceQualifier(source, entry.sourceVersion) }
                }
            case .dpkgFiles(let package, let paths):
                lists.append((package, paths))
            case .debCopyright(let package, let found):
                licenses[package] = found.count == 1 ? found[0] : found.map { "(\($0))" }.joined(separator: " AND ")
            case .apkInstalled(let packages):
                for entry in packages {
                    let id = "apk/\(entry.name)"
                    var package = InventoryPackage(
                        id: id, ecosystem: .apk, name: entry.name, version: entry.version, architecture: entry.architecture, license: entry.license,
                        purl: "", location: path, layer: 0, bytes: 0, files: [])
                    if let origin = entry.origin, origin != entry.name { package.upstream = origin }
                    package.supplier = entry.maintainer
                    described[id] = Described(package: package, listed: Listed(entry.files), rank: 0)
                }
            case .pythonMetadata(let name, let version, let license, let author):
                let id = "pypi/" + directory
                var package = InventoryPackage(
                    id: id, ecosystem: .pypi, name: name, version: version, architecture: nil, license: license, purl: "", location: directory,
                    layer: 0, bytes: 0, files: [])
                package.supplier = author
                described[id] = Described(package: package, listed: Listed(), rank: 1)
            case .pythonRecord(let files):
                // RECORD's paths are relative to the site-packages directory holding the dist-info.
                let sitePackages = String(directory[..<(directory.lastIndex(of: "/") ?? directory.startIndex)])
                pythonRecords[directory] = files.compactMap { file in
                    PackageRecord.normalize(sitePackages.isEmpty ? file.path : sitePackages + "/" + file.path).map { .init(path: $0, checksum: file.checksum) }
                }
            case .nodePackage(let name, let version, let license, let author):
                let id = "npm/" + directory
                var package = InventoryPackage(
                    id: id, ecosystem: .npm, name: name, version: version, architecture: nil, license: license, purl: "", location: directory,
                    layer: 0, bytes: 0, files: [])
                package.supplier = author
                described[id] = Described(package: package, listed: Listed(), rank: 2)
            case .link(let target):
                // A package directory whose manifest is another's (Debian's lodash-es → lodash).
                guard case .nodePackage(let name, let version, let license, let author)? = records[target] else { continue }
                let id = "npm/" + directory
                let package = InventoryPackage(
                    id: id, ecosystem: .npm, name: name, version: version, architecture: nil, license: license, purl: "", location: directory,
                    layer: 0, bytes: 0, files: [], supplier: author)
                described[id] = Described(package: package, listed: Listed(), rank: 2)
            }
        }
        for (package, paths) in lists {
            let parts = package.split(separator: ":", maxSplits: 1).map(String.init)
            let candidates = dpkgByName[parts[0]] ?? []
            let id = parts.count == 2 ? candidates.first { $0.hasSuffix("/" + parts[1]) } : candidates.first
            guard let id else { continue }
            described[id]?.listed.append(paths)
        }
        for (name, ids) in dpkgByName {
            guard let license = licenses[name] else { continue }
            for id in ids { described[id]?.package.license = license }
        }
        for (directory, files) in pythonRecords { described["pypi/" + directory]?.listed = Listed(files) }
        return described
    }

    /// Bytes of the regular files `listed` names, each counted once, without listing them.
    static func listedBytes(_ paths: [String], in view: FileTree<FileSize>) -> Int64 {
        var bytes: Int64 = 0
        var seen = Set<String>()
        for path in paths {
            guard let file = view.files[path], file.isFile else { continue }
            if seen.insert(path).inserted { bytes += file.size }
        }
        return bytes
    }

    static func sourceQualifier(_ source: String, _ version: String?) -> String {
        version.map { "\(source)@\($0)" } ?? source
    }

    /// `ID` and `VERSION_ID` from `etc/os-release` (or `usr/lib/os-release`).
    static func osRelease(_ view: FileTree<FileSize>) -> (id: String, versionID: String?)? {
        guard let bytes = view.keptFiles["etc/os-release"] ?? view.keptFiles["usr/lib/os-release"] else { return nil }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = line[line.index(after: equals)...].trimmingCharacters(in: CharacterSet(charactersIn: "\"' "))
        }
        return fields["ID"].map { ($0, fields["VERSION_ID"]) }
    }
}

/// The `count` largest of what is offered, largest first (ties by path), without sorting it all.
struct Largest {
    let count: Int
    private(set) var items: [(path: String, bytes: Int64)] = []

    init(count: Int) { self.count = count }

    mutating func offer(_ path: String, _ bytes: Int64) {
        if items.count == count, let last = items.last, (last.bytes, path) >= (bytes, last.path) { return }
        let position = items.firstIndex { ($0.bytes, path) < (bytes, $0.path) } ?? items.count
        items.insert((path, bytes), at: position)
        if items.count > count { items.removeLast() }
    }
}
