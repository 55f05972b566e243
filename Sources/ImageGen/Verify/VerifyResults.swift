import ContainerBasics
import Foundation
import ImageGenValues
import Inventory
import LayerInspection
import Planning
import RegistryCache
import Recipes

/// Verify results kept in the cache registry, so that an image is verified once wherever it goes.
///
/// A layer's checks are a function of three things: the image (its ID, which is the digest of its
/// config and so names every layer), the rules (``Verifier/checksVersion``, the secret rules and
/// the package parsers) and what the recipe asks of the layer (its policy, the probes of its
/// lineage and their timeout, and its content hash, which covers the user, the context and the
/// Dockerfile the checks compare against). A result is kept as the artifact
/// `REGISTRY/NAMESPACE/imagegen-verify:<image ID hex>.<key>` where the key digests the other two,
/// and reused only when all three match. Only results that passed are kept: a failure (a flaky
/// probe, a timeout) is checked again on the next run.
struct VerifyResults: Sendable {
    static let repository = "imagegen-verify"
    static let type = "application/vnd.imagegen.verify-result.v1+json"
    static let format = "imagegen.verify-result/1"

    let session: RegistryCacheSession
    let options: Verifier.Options

    /// The digest of everything besides the image that the layer's checks depend on.
    func key(_ layer: LayerPlan, lineage: [LayerPlan]) -> String { Self.key(layer, lineage: lineage, options: options) }

    static func key(_ layer: LayerPlan, lineage: [LayerPlan], options: Verifier.Options) -> String {
        let policy = layer.layer.spec.policy
        let probes = Verifier.probes(of: lineage)
        let document: JSONValue = [
            "checks": .int(Int64(Verifier.checksVersion)),
            "index": .string(LayerIndexStore.key(options.export)),
            "contentHash": .string(layer.contentHash.hex),
            "platform": layer.platform.map { .string($0.description) } ?? .null,
            "policy": [
                "maxSize": policy.maxSize.map { .int($0.value.bytes) } ?? .null,
                "maxAdded": policy.maxAdded.map { .int($0.value.bytes) } ?? .null,
                "maxWaste": policy.maxWaste.map { .int($0.value.bytes) } ?? .null,
                "requiredLabels": policy.requiredLabels.map { .array($0.map { .string($0.value) }) } ?? .null,
                "exists": .array(policy.files.exists.map(rule)),
                "absent": .array(policy.files.absent.map(rule)),
                "scanSecrets": .bool(policy.scanSecrets),
                "allowRoot": policy.allowRoot.map { .string($0.value) } ?? .null,
            ],
            "probes": .array(probes.map { ["run": .string($0.command.value), "expect": $0.expect.map { .string($0.value) } ?? .null] }),
            "probeTimeout": .int(Int64(policy.probeTimeout?.value ?? options.probeTimeout)),
        ]
        return String(sha256Hex(Array(document.canonical.utf8)).prefix(32))
    }

    private static func rule(_ rule: FileRule) -> JSONValue {
        ["path": .string(rule.path.value), "mode": rule.mode.map { .int(Int64($0)) } ?? .null, "owner": rule.owner.map(JSONValue.string) ?? .null]
    }

    private func tag(_ image: ImageID, key: String) -> String { "\(image.hex).\(key)" }

    private func annotations(_ image: ImageID, key: String) -> [String: String] {
        ["dev.imagegen.image-id": image.description, "dev.imagegen.verify-key": key]
    }

    /// The stored result for `image` under `key`, as this layer's, marked reused.
    func fetch(_ layer: LayerPlan, image: ImageID, key: String) async -> LayerVerification? {
        let repository = session.artifactRepository(Self.repository)
        guard
            let bytes = await session.fetchArtifact(
                repository: repository, tag: tag(image, key: key), type: Self.type, annotations: annotations(image, key: key), limit: 16 << 20),
            let document = try? JSONValue(parsing: Data(bytes)), document["format"]?.stringValue == Self.format,
            document["imageID"]?.stringValue == image.description, document["key"]?.stringValue == key,
            let checks = document["checks"]?.arrayValue?.compactMap({ Self.check($0, layer: layer.name) }), !checks.isEmpty, checks.allSatisfy(\.passed)
        else { return nil }
        var result = LayerVerification(layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: image, checks: checks, seconds: 0)
        result.layerSources = (document["layerSources"]?.arrayValue ?? []).compactMap { item in
            guard let id = item["diffID"]?.stringValue.flatMap({ try? Digest(parsing: $0) }),
                let source = item["source"]?.stringValue.flatMap(LayerSource.init(rawValue:))
            else { return nil }
            return LayerRead(diffID: id, source: source)
        }
        result.packages = (document["packages"]?.arrayValue ?? []).compactMap { item in
            guard let name = item["name"]?.stringValue, let bytes = item["bytes"]?.intValue else { return nil }
            return AddedBytes(
                name: name, version: item["version"]?.stringValue, ecosystem: item["ecosystem"]?.stringValue.flatMap(InventoryPackage.Ecosystem.init(rawValue:)),
                bytes: bytes)
        }
        result.reused = ReusedVerification(
            verifiedAt: document["verifiedAt"]?.stringValue ?? "an unknown time", imagegen: document["imagegen"]?.stringValue ?? "",
            artifact: "\(session.cache.host)/\(repository):\(tag(image, key: key))")
        return result
    }

    /// Keeps a result that passed (read-write caches; a result already there is kept).
    func store(_ result: LayerVerification, key: String) async {
        guard result.passed, result.reused == nil, let image = result.imageID else { return }
        let document: JSONValue = [
            "format": .string(Self.format), "imageID": .string(image.description), "key": .string(key),
            "verifiedAt": .string(Timestamp.rfc3339(Date())), "imagegen": .string(ImageGenVersion.current),
            "layerSources": ReportFormats.layerSources(result), "packages": ReportFormats.packages(result),
            "checks": .array(result.checks.map { ReportFormats.check($0, redacted: true) }),
        ]
        await session.pushArtifact(
            repository: session.artifactRepository(Self.repository), tag: tag(image, key: key), type: Self.type,
            content: { Array(document.canonical.utf8) }, annotations: annotations(image, key: key))
    }

    /// A check as ``ReportFormats/check(_:redacted:)`` writes it.
    static func check(_ item: JSONValue, layer: String) -> CheckResult? {
        guard let name = item["name"]?.stringValue, let category = item["category"]?.stringValue,
            let status = item["status"]?.stringValue.flatMap(CheckResult.Status.init(rawValue:))
        else { return nil }
        return CheckResult(
            layer: layer, name: name, category: category, status: status, measured: item["measured"] ?? .null, threshold: item["threshold"] ?? .null,
            message: item["message"]?.stringValue ?? "", details: (item["details"]?.arrayValue ?? []).compactMap(\.stringValue),
            seconds: Double(item["milliseconds"]?.intValue ?? 0) / 1000)
    }
}

/// Where a reused verify result came from.
public struct ReusedVerification: Sendable, Equatable {
    /// When the checks ran (RFC 3339).
    public var verifiedAt: String
    /// The imagegen that ran them.
    public var imagegen: String
    /// The artifact the result was read from.
    public var artifact: String
}
