import ContainerBasics
import Foundation
import ImageGenValues
import Inventory

/// The checks of the last verify of each layer image on this machine, by the image's content hash
/// (and platform): what `imagegen diff` compares when it meets the image again, built or released.
public struct VerifyRecords: Sendable {
    static let version = "verify-record-1"
    let directory: String?

    public init(directory: String?) { self.directory = directory }

    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        CacheDirectory.path(environment: environment).map { $0 + "/verify" }
    }

    private func path(_ contentHash: ContentHash, platform: Platform?) -> String? {
        directory.map { "\($0)/\(contentHash.hex)\(platform.map { "-" + $0.slug } ?? "").json" }
    }

    /// Keeps `layer`'s checks (best effort: a cache).
    func store(_ layer: LayerVerification, contentHash: ContentHash) {
        guard let path = path(contentHash, platform: layer.platform) else { return }
        let document: JSONValue = [
            "format": .string(Self.version), "layer": .string(layer.layer), "image": .string(layer.reference.description),
            "checks": .array(layer.checks.map { ["name": .string($0.name), "passed": .bool($0.passed), "message": .string(Redactor.redact($0.message))] }),
        ]
        try? AtomicFile.write(Array(document.canonical.utf8), to: path, createDirectories: true)
    }

    /// The checks of the last verify of the image with `contentHash`, if this machine ran one.
    public func load(_ contentHash: ContentHash, platform: Platform?) -> [String: DiffSide.CheckOutcome]? {
        guard let path = path(contentHash, platform: platform), let data = FileManager.default.contents(atPath: path),
            let document = try? JSONValue(parsing: data), document["format"]?.stringValue == Self.version
        else { return nil }
        return Self.checks(document["checks"])
    }

    /// Checks as a verify report's JSON lists them (`name`, and `passed` or `status`).
    public static func checks(_ list: JSONValue?) -> [String: DiffSide.CheckOutcome]? {
        guard let items = list?.arrayValue else { return nil }
        var checks: [String: DiffSide.CheckOutcome] = [:]
        for item in items {
            guard let name = item["name"]?.stringValue else { continue }
            let passed = item["passed"]?.boolValue ?? (item["status"]?.stringValue == "passed")
            checks[name] = DiffSide.CheckOutcome(passed: passed, message: item["message"]?.stringValue ?? "")
        }
        return checks
    }
}
