import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import DockerEngine

/// Remembers what ``ImageExport`` learned about each layer, by the layer's diff ID (the SHA-256
/// of its uncompressed tar). A layer never changes under its diff ID, so its file index and
/// secret scan stay true; when every layer of the images to verify is known, `verify` skips the
/// engine's export entirely (the export is most of verify's time: the engine writes the whole
/// image out on each `GET /images/get`). The scanner's rules version is part of the key, so a
/// change of rules scans again.
public final class LayerIndexStore: Sendable {
    /// Bump when the scanner's rules or what is recorded changes.
    static let version = "layer-index-3"

    private let directory: String?

    public init(directory: String?) { self.directory = directory }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        CacheDirectory.path(environment: environment).map { $0 + "/layers" }
    }

    private func path(_ diffID: Digest, options: ImageExport.Options) -> String? {
        guard let directory, diffID.algorithm == "sha256" else { return nil }
        return "\(directory)/\(diffID.hex).\(Self.key(options))"
    }

    /// What an index depends on besides its layer: the format, the secret rules, the package
    /// database parsers, the scan limit.
    /// An index made under another key is not trusted.
    package static func key(_ options: ImageExport.Options) -> String {
        "\(version)-rules\(SecretScanner.rulesVersion)-packages\(PackageRecord.parserVersion)-\(options.scanSecrets ? options.secretScanLimit : -1)"
    }

    /// Whether an index of the layer is kept (without reading it).
    public func contains(_ diffID: Digest, options: ImageExport.Options) -> Bool {
        path(diffID, options: options).map { FileManager.default.fileExists(atPath: $0) } ?? false
    }

    public func load(_ diffID: Digest, options: ImageExport.Options) -> LayerBlob? {
        guard let path = path(diffID, options: options), let bytes = try? readFileBytes(path, limit: 1 << 30) else { return nil }
        return Self.decode(bytes: bytes, key: diffID.description)
    }

    public func store(_ blob: LayerBlob, diffID: Digest, options: ImageExport.Options) {
        guard let path = path(diffID, options: options) else { return }
        try? AtomicFile.write(Array(Self.encode(blob).canonical.utf8), to: path, createDirectories: true)
    }

    // MARK: - Encoding

    package static func encode(_ blob: LayerBlob) -> JSONValue {
        [
            "size": .int(blob.size),
            "files": .array(
                blob.files.map { file in
                    .array([
                        .string(file.path), .string(file.kind.rawValue), .int(file.size), .int(Int64(file.mode)), .int(file.uid), .int(file.gid),
                        file.linkTarget.map(JSONValue.string) ?? .null,
                    ])
                }),
            "deletions": .array(blob.deletions.map(JSONValue.string)),
            "opaque": .array(blob.opaqueDirectories.map(JSONValue.string)),
            "secrets": .array(
                blob.secrets.map { hit in
                    [
                        "path": .string(hit.path), "rule": .string(hit.finding.rule), "summary": .string(hit.finding.summary),
                        "line": .int(Int64(hit.finding.line)), "column": .int(Int64(hit.finding.column)),
                    ]
                }),
            "scanned": .int(Int64(blob.scannedFiles)), "binary": .int(Int64(blob.skippedBinary)), "large": .int(Int64(blob.skippedLarge)),
            "kept": .object(blob.keptFiles.mapValues { .string(Data($0).base64EncodedString()) }),
            "packages": .object(blob.packageRecords.mapValues(\.json)),
        ]
    }

    /// Reads an index from its bytes without building its JSON tree (an index of a large layer
    /// holds tens of thousands of entries); nil when it is not one.
    package static func decode(bytes: [UInt8], key: String) -> LayerBlob? {
        var reader = JSONReader(bytes: bytes)
        var blob = LayerBlob(key: key)
        var sawSize = false, sawFiles = false
        do {
            try reader.readObject { reader, name throws(JSONValue.DecodeError) in
                switch name {
                case "size":
                    blob.size = try reader.readInt()
                    sawSize = true
                case "files":
                    sawFiles = true
                    try reader.readArray { reader throws(JSONValue.DecodeError) in
                        var fields: (String, String, Int64, Int64, Int64, Int64, String?) = ("", "", 0, 0, 0, 0, nil)
                        var position = 0
                        try reader.readArray { reader throws(JSONValue.DecodeError) in
                            switch position {
                            case 0: fields.0 = try reader.readString()
                            case 1: fields.1 = try reader.readString()
                            case 2: fields.2 = try reader.readInt()
                            case 3: fields.3 = try reader.readInt()
                            case 4: fields.4 = try reader.readInt()
                            case 5: fields.5 = try reader.readInt()
                            default: fields.6 = try reader.readOptionalString()
                            }
                            position += 1
                        }
                        guard position == 7, let kind = ArchiveReader.Entry.Kind(rawValue: fields.1) else { throw .invalid("a file entry of 7 fields") }
                        blob.files.append(
                            LayerFile(path: fields.0, kind: kind, size: fields.2, mode: UInt32(fields.3), uid: fields.4, gid: fields.5, linkTarget: fields.6))
                    }
                case "deletions": try reader.readArray { reader throws(JSONValue.DecodeError) in blob.deletions.append(try reader.readString()) }
                case "opaque": try reader.readArray { reader throws(JSONValue.DecodeError) in blob.opaqueDirectories.append(try reader.readString()) }
                case "secrets":
                    try reader.readArray { reader throws(JSONValue.DecodeError) in
                        let hit = try reader.readValue()
                        guard let path = hit["path"]?.stringValue, let rule = hit["rule"]?.stringValue, let summary = hit["summary"]?.stringValue else {
                            throw .invalid("a secret entry")
                        }
                        blob.secrets.append(
                            SecretHit(
                                path: path,
                                finding: SecretFinding(
                                    rule: rule, summary: summary, line: Int(hit["line"]?.intValue ?? 0), column: Int(hit["column"]?.intValue ?? 0))))
                    }
                case "scanned": blob.scannedFiles = Int(try reader.readInt())
                case "binary": blob.skippedBinary = Int(try reader.readInt())
                case "large": blob.skippedLarge = Int(try reader.readInt())
                case "kept":
                    try reader.readObject { reader, path throws(JSONValue.DecodeError) in
                        if let data = Data(base64Encoded: try reader.readString()) { blob.keptFiles[path] = Array(data) }
                    }
                case "packages":
                    var shared: SharedPaths?
                    try reader.readObject { reader, path throws(JSONValue.DecodeError) in
                        guard let record = PackageRecord(json: try reader.readValue()) else { throw .invalid("a package record") }
                        if shared == nil { shared = SharedPaths(blob.files) }
                        blob.packageRecords[path] = shared.map(record.sharing) ?? record
                    }
                default: _ = try reader.readValue()
                }
            }
            try reader.finish()
        } catch {
            return nil
        }
        return sawSize && sawFiles ? blob : nil
    }

    package static func decode(_ document: JSONValue, key: String) -> LayerBlob? {
        guard let size = document["size"]?.intValue, let files = document["files"]?.arrayValue else { return nil }
        var blob = LayerBlob(key: key, size: size)
        for file in files {
            guard let fields = file.arrayValue, fields.count == 7, let path = fields[0].stringValue,
                let kind = fields[1].stringValue.flatMap(ArchiveReader.Entry.Kind.init(rawValue:)),
                let fileSize = fields[2].intValue, let mode = fields[3].intValue, let uid = fields[4].intValue, let gid = fields[5].intValue
            else { return nil }
            blob.files.append(LayerFile(path: path, kind: kind, size: fileSize, mode: UInt32(mode), uid: uid, gid: gid, linkTarget: fields[6].stringValue))
        }
        blob.deletions = document["deletions"]?.arrayValue?.compactMap(\.stringValue) ?? []
        blob.opaqueDirectories = document["opaque"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for hit in document["secrets"]?.arrayValue ?? [] {
            guard let path = hit["path"]?.stringValue, let rule = hit["rule"]?.stringValue, let summary = hit["summary"]?.stringValue else { return nil }
            blob.secrets.append(
                SecretHit(
                    path: path,
                    finding: SecretFinding(
                        rule: rule, summary: summary, line: Int(hit["line"]?.intValue ?? 0),
                        column: Int(hit["column"]?.intValue ?? 0))))
        }
        blob.scannedFiles = Int(document["scanned"]?.intValue ?? 0)
        blob.skippedBinary = Int(document["binary"]?.intValue ?? 0)
        blob.skippedLarge = Int(document["large"]?.intValue ?? 0)
        for (path, value) in document["kept"]?.objectValue ?? [:] {
            if let text = value.stringValue, let data = Data(base64Encoded: text) { blob.keptFiles[path] = Array(data) }
        }
        let records = document["packages"]?.objectValue ?? [:]
        let shared = records.isEmpty ? nil : SharedPaths(blob.files)
        for (path, value) in records {
            guard let record = PackageRecord(json: value) else { return nil }
            blob.packageRecords[path] = shared.map(record.sharing) ?? record
        }
        return blob
    }
}
