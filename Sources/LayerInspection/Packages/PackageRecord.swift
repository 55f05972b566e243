import ContainerBasics

/// A package database file of one layer, parsed while the layer is indexed (the indexer sees every
/// file once and keeps only this), so an inventory needs no second read of the layer.
public enum PackageRecord: Sendable, Hashable {
    /// `var/lib/dpkg/status`, or one file of `var/lib/dpkg/status.d/` (distroless images).
    case dpkgStatus([DpkgPackage])
    /// `var/lib/dpkg/info/<package>[:<arch>].list`: the paths the package installed.
    case dpkgFiles(package: String, paths: [String])
    /// `usr/share/doc/<package>/copyright` in Debian's machine-readable format: its licenses.
    case debCopyright(package: String, licenses: [String])
    /// `lib/apk/db/installed`.
    case apkInstalled([ApkPackage])
    /// `<dir>.dist-info/METADATA` or `<dir>.egg-info/PKG-INFO`.
    case pythonMetadata(name: String, version: String, license: String?, author: String?)
    /// `<dir>.dist-info/RECORD`: the files of the distribution, relative to its site-packages.
    case pythonRecord([RecordedFile])
    /// `…/node_modules/<name>/package.json` (or a directory Node searches globally).
    case nodePackage(name: String, version: String, license: String?, author: String?)
    /// A database file that is a symbolic link (Debian links some Node packages' `package.json`
    /// to another's): the target, relative to the image root.
    case link(target: String)

    /// One installed Debian package, as dpkg's status database describes it.
    public struct DpkgPackage: Sendable, Hashable {
        public var name: String
        public var version: String
        public var architecture: String
        /// The source package, when it is named differently or at another version.
        public var source: String?
        public var sourceVersion: String?
        /// `Installed-Size`, in KiB (dpkg's estimate; the inventory counts the files instead).
        public var installedKiB: Int64?
        public var maintainer: String?

        public init(
            name: String, version: String, architecture: String, source: String? = nil, sourceVersion: String? = nil, installedKiB: Int64? = nil,
            maintainer: String? = nil
        ) {
            self.maintainer = maintainer
            self.name = name
            self.version = version
            self.architecture = architecture
            self.source = source
            self.sourceVersion = sourceVersion
            self.installedKiB = installedKiB
        }
    }

    /// One installed Alpine package and its files.
    public struct ApkPackage: Sendable, Hashable {
        public var name: String
        public var version: String
        public var architecture: String?
        public var license: String?
        public var origin: String?
        public var maintainer: String?
        public var files: [RecordedFile]

        public init(
            name: String, version: String, architecture: String? = nil, license: String? = nil, origin: String? = nil, maintainer: String? = nil,
            files: [RecordedFile]
        ) {
            self.maintainer = maintainer
            self.name = name
            self.version = version
            self.architecture = architecture
            self.license = license
            self.origin = origin
            self.files = files
        }
    }

    /// A file a package database lists, with the checksum it records (`sha256:<hex>`,
    /// `sha1:<hex>`) when it records one.
    public struct RecordedFile: Sendable, Hashable {
        public var path: String
        public var checksum: String?

        public init(path: String, checksum: String? = nil) {
            self.path = path
            self.checksum = checksum
        }
    }
}

extension PackageRecord {
    /// Bump when a parser reads more or differently: layer indexes made before are read again.
    public static let parserVersion = 3

    /// Largest database file read (a big image's dpkg status is a few MiB).
    static let sizeLimit: Int64 = 64 << 20

    /// Whether `path` (relative to the image root) is a file some ``PackageRecord`` is parsed from.
    /// Called for every file of every layer: suffix checks first.
    static func isRecord(_ path: String) -> Bool {
        let utf8 = path.utf8
        guard let last = utf8.last else { return false }
        if utf8.first == UInt8(ascii: "v"), path.hasPrefix("var/lib/dpkg/status.d/") {
            return !path.dropFirst(22).contains("/") && !path.hasSuffix(".md5sums")
        }
        switch last {
        case UInt8(ascii: "A"):  // METADATA
            return path.hasSuffix(".dist-info/METADATA")
        case UInt8(ascii: "D"):  // RECORD
            return path.hasSuffix(".dist-info/RECORD")
        case UInt8(ascii: "O"):  // PKG-INFO
            return path.hasSuffix(".egg-info/PKG-INFO")
        case UInt8(ascii: "n"):  // package.json
            return path.hasSuffix("/package.json") && NodeModules.packageDirectory(ofManifest: path) != nil
        case UInt8(ascii: "t"):  // .list, copyright
            return (path.hasPrefix("var/lib/dpkg/info/") && path.hasSuffix(".list") && !path.dropFirst(18).contains("/"))
                || (path.hasPrefix("usr/share/doc/") && path.hasSuffix("/copyright") && path.split(separator: "/").count == 5)
        case UInt8(ascii: "s"):  // status
            return path == "var/lib/dpkg/status"
        case UInt8(ascii: "d"):  // installed
            return path == "lib/apk/db/installed"
        default:
            return false
        }
    }

    /// The record of a symbolic link at `path` to `target` (as the link says it).
    static func link(from path: String, to target: String) -> PackageRecord? {
        let directory = path.split(separator: "/").dropLast().joined(separator: "/")
        let joined = target.hasPrefix("/") ? String(target.dropFirst()) : (directory.isEmpty ? target : directory + "/" + target)
        return normalize(joined).map { .link(target: $0) }
    }

    /// `a/b/../c` → `a/c`; nil when the path climbs above the image root.
    public static func normalize(_ path: String) -> String? {
        var parts: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            } else {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }

    /// Parses `bytes`, the content of the file at `path`; nil when it holds no package.
    static func parse(_ path: String, _ bytes: [UInt8]) -> PackageRecord? {
        let text = String(decoding: bytes, as: UTF8.self)
        if path == "var/lib/dpkg/status" || path.hasPrefix("var/lib/dpkg/status.d/") {
            return .dpkgStatus(PackageDatabases.dpkgStatus(text))
        }
        if path.hasPrefix("var/lib/dpkg/info/") {
            let package = String(path.dropFirst(18).dropLast(5))
            return .dpkgFiles(package: package, paths: PackageDatabases.dpkgList(text))
        }
        if path.hasPrefix("usr/share/doc/") {
            let package = String(path.split(separator: "/")[3])
            let licenses = PackageDatabases.copyrightLicenses(text)
            return licenses.isEmpty ? nil : .debCopyright(package: package, licenses: licenses)
        }
        if path == "lib/apk/db/installed" { return .apkInstalled(PackageDatabases.apkInstalled(text)) }
        if path.hasSuffix("/METADATA") || path.hasSuffix("/PKG-INFO") {
            guard let (name, version, license, author) = PackageDatabases.pythonMetadata(text) else { return nil }
            return .pythonMetadata(name: name, version: version, license: license, author: author)
        }
        if path.hasSuffix("/RECORD") { return .pythonRecord(PackageDatabases.pythonRecord(text)) }
        if path.hasSuffix("/package.json") {
            guard let (name, version, license, author) = PackageDatabases.packageJSON(bytes) else { return nil }
            return .nodePackage(name: name, version: version, license: license, author: author)
        }
        return nil
    }
}

/// Where Node packages are: a package's directory is `node_modules/<name>` or
/// `node_modules/@scope/<name>` anywhere, or a directory of Node's global search path on Debian
/// (`usr/share/nodejs/<name>`, `usr/lib/nodejs/<name>`, scoped likewise).
enum NodeModules {
    static let globalRoots = ["usr/share/nodejs", "usr/lib/nodejs"]

    /// The package directory whose manifest `path` (…/package.json) is, or nil when it is a file
    /// deeper inside a package (a `{"type": "module"}` marker, a test fixture).
    static func packageDirectory(ofManifest path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 3 else { return nil }
        let directory = parts.dropLast()
        let parent = directory.dropLast()
        if parent.last == "node_modules" || isGlobalRoot(parent) { return directory.joined(separator: "/") }
        // @scope/name
        if let scope = parent.last, scope.hasPrefix("@") {
            let above = parent.dropLast()
            if above.last == "node_modules" || isGlobalRoot(above) { return directory.joined(separator: "/") }
        }
        return nil
    }

    private static func isGlobalRoot(_ parts: ArraySlice<Substring>) -> Bool {
        let joined = parts.joined(separator: "/")
        return globalRoots.contains(joined)
    }
}
