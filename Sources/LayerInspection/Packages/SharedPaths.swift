/// A layer's file paths, so that the paths its package databases list are kept as the same
/// strings: dpkg lists nearly every file of an image, and each path held twice (once as a file,
/// once as listed) is most of what a walk up a large image holds.
struct SharedPaths {
    private let paths: Set<String>

    init(_ files: [LayerFile]) {
        var paths = Set<String>(minimumCapacity: files.count)
        for file in files { paths.insert(file.path) }
        self.paths = paths
    }

    /// The layer's own string for `path` when the layer has that path, else `path`.
    func callAsFunction(_ path: String) -> String {
        paths.firstIndex(of: path).map { paths[$0] } ?? path
    }
}

extension PackageRecord {
    /// The record with the paths it lists replaced by `shared`'s equal strings.
    func sharing(_ shared: SharedPaths) -> PackageRecord {
        func files(_ list: [RecordedFile]) -> [RecordedFile] { list.map { RecordedFile(path: shared($0.path), checksum: $0.checksum) } }
        switch self {
        case .dpkgFiles(let package, let paths): return .dpkgFiles(package: package, paths: paths.map { shared($0) })
        case .apkInstalled(let packages):
            return .apkInstalled(
                packages.map { package in
                    var package = package
                    package.files = files(package.files)
                    return package
                })
        case .dpkgStatus, .debCopyright, .pythonMetadata, .pythonRecord, .nodePackage, .link: return self
        }
    }
}
