import ContainerBasics
import ImageGenValues
import BuildContext
import DockerEngine
/// What verify knows of an image layer: its files, deletions and secret scan, made once per
/// layer (by diff ID) and kept in the ``LayerIndexStore``.

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

    public init(path: String, kind: ArchiveReader.Entry.Kind, size: Int64, mode: UInt32, uid: Int64, gid: Int64, linkTarget: String? = nil) {
        self.path = path
        self.kind = kind
        self.size = size
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.linkTarget = linkTarget
    }
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
    /// The package databases this layer writes, parsed (by the path of the file each came from).
    public var packageRecords: [String: PackageRecord] = [:]
}

/// The result of reading an export: every layer blob once, and each image's layer order.
public struct ExportAnalysis: Sendable {
    public var blobs: [String: LayerBlob]
    /// Image reference (as tagged) → its layer keys, bottom first.
    public var images: [String: [String]]
}
