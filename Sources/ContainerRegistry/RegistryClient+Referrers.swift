import ContainerBasics
import Foundation

/// OCI 1.1 referrers: artifacts (an SBOM, a report, an attestation) attached to a manifest by a
/// `subject`. Each is an image manifest with an `artifactType`, the empty config and one layer,
/// pushed by digest. A registry with the referrers API lists them itself (it answers the push
/// with `OCI-Subject`); for one without, the spec's fallback is kept: an image index under the
/// tag `sha256-<subject hex>` listing every referrer, updated on each attach.
extension RegistryClient {
    /// One attached artifact, as a referrers list describes it.
    public struct Referrer: Sendable, Hashable {
        public var manifest: Descriptor
        public var artifactType: String
        public var annotations: [String: String]
    }

    public static let emptyConfigType = "application/vnd.oci.empty.v1+json"
    public static let imageManifestType = "application/vnd.oci.image.manifest.v1+json"
    public static let emptyConfig: [UInt8] = Array("{}".utf8)

    /// The fallback tag of a subject: `sha256-<hex>`.
    public static func referrersTag(_ subject: Digest) -> String { "\(subject.algorithm)-\(subject.hex)" }

    /// The artifacts attached to `subject` in `repository`: the referrers API where the registry
    /// has it, else the fallback tag's index.
    public func referrers(repository raw: String, subject: Digest) async throws -> [Referrer] {
        let repository = repositoryPath(raw)
        let api = try await exchange(
            "GET", baseURL + "/v2/\(repository)/referrers/\(subject)", headers: [("Accept", Self.indexType)], scope: "repository:\(repository):pull",
            limit: 4 << 20)
        if api.status == 200, let listed = Self.referrers(in: api.body) { return listed }
        guard let (_, body) = try await rawManifest(repository: raw, reference: Self.referrersTag(subject), accept: [Self.indexType]) else { return [] }
        return Self.referrers(in: body) ?? []
    }

    static func referrers(in body: [UInt8]) -> [Referrer]? {
        guard let document = try? JSONValue(parsing: Data(body)), let manifests = document["manifests"]?.arrayValue else { return nil }
        return manifests.compactMap { entry in
            guard let digest = entry["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) }), let size = entry["size"]?.intValue else { return nil }
            var annotations: [String: String] = [:]
            for (key, value) in entry["annotations"]?.objectValue ?? [:] { annotations[key] = value.stringValue }
            return Referrer(
                manifest: Descriptor(mediaType: entry["mediaType"]?.stringValue ?? Self.imageManifestType, digest: digest, size: size),
                artifactType: entry["artifactType"]?.stringValue ?? "", annotations: annotations)
        }
    }

    /// Attaches `content` (of `mediaType`) to `subject` as an artifact of `artifactType`, and
    /// lists it where the registry's referrers are found. Returns the artifact's manifest.
    @discardableResult
    public func attach(
        repository raw: String, subject: Descriptor, artifactType: String, content: [UInt8], mediaType: String, annotations: [String: String] = [:]
    ) async throws -> Descriptor {
        let repository = repositoryPath(raw)
        let config = try await pushBlob(repository: raw, bytes: Self.emptyConfig, mediaType: Self.emptyConfigType)
        let layer = try await pushBlob(repository: raw, bytes: content, mediaType: mediaType)
        var document: [String: JSONValue] = [
            "schemaVersion": 2, "mediaType": .string(Self.imageManifestType), "artifactType": .string(artifactType),
            "config": config.json, "layers": [layer.json], "subject": subject.json,
        ]
        if !annotations.isEmpty { document["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        let body = Array(JSONValue.object(document).canonical.utf8)
        let digest = Digest.sha256(of: body)
        let response = try await exchange(
            "PUT", baseURL + "/v2/\(repository)/manifests/\(digest)",
            headers: [("Content-Type", Self.imageManifestType), ("Content-Length", String(body.count))],
            body: body, scope: "repository:\(repository):pull,push", limit: 1 << 16)
        guard response.status == 201 || response.status == 200 else { throw failure(response, what: "an artifact of \(repository)@\(subject.digest)") }
        let manifest = Descriptor(mediaType: Self.imageManifestType, digest: digest, size: Int64(body.count))
        // A registry with the referrers API says so; for one without, the fallback tag lists it.
        if response.header("oci-subject") == nil {
            try await listInFallback(repository: raw, subject: subject.digest, referrer: Referrer(manifest: manifest, artifactType: artifactType, annotations: annotations))
        }
        return manifest
    }

    /// Adds `referrer` to the index under the subject's fallback tag (made when there is none).
    private func listInFallback(repository raw: String, subject: Digest, referrer: Referrer) async throws {
        let tag = Self.referrersTag(subject)
        var entries: [JSONValue] = []
        if let (_, body) = try await rawManifest(repository: raw, reference: tag, accept: [Self.indexType]),
            let document = try? JSONValue(parsing: Data(body)), let listed = document["manifests"]?.arrayValue
        {
            entries = listed
        }
        if entries.contains(where: { $0["digest"]?.stringValue == referrer.manifest.digest.description }) { return }
        var entry = referrer.manifest.json.objectValue ?? [:]
        entry["artifactType"] = .string(referrer.artifactType)
        if !referrer.annotations.isEmpty { entry["annotations"] = .object(referrer.annotations.mapValues(JSONValue.string)) }
        entries.append(.object(entry))
        let index: JSONValue = ["schemaVersion": 2, "mediaType": .string(Self.indexType), "manifests": .array(entries)]
        try await pushManifest(repository: raw, reference: tag, mediaType: Self.indexType, body: Array(index.canonical.utf8))
    }
}
