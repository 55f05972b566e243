import ContainerBasics
import Foundation

/// Reading and writing manifests and blobs as they are (the OCI distribution API): what the layer
/// index cache stores, and how a multi-platform release writes its image index.
extension RegistryClient {
    /// A blob or manifest: its media type, digest and size, as an OCI descriptor names it.
    public struct Descriptor: Sendable, Hashable {
        public var mediaType: String
        public var digest: Digest
        public var size: Int64

        public init(mediaType: String, digest: Digest, size: Int64) {
            self.mediaType = mediaType
            self.digest = digest
            self.size = size
        }

        public var json: JSONValue {
            .object(["mediaType": .string(mediaType), "digest": .string(digest.description), "size": .int(size)])
        }
    }

    /// The path of a repository in the registry (a bare `app` on Docker Hub is `library/app`).
    func repositoryPath(_ raw: String) -> String {
        host.hasSuffix("docker.io") && !raw.contains("/") ? "library/" + raw : raw
    }

    /// The manifest `reference` (a tag or digest) names, as stored, or nil when there is none.
    public func rawManifest(repository raw: String, reference: String, accept: [String] = RegistryClient.manifestTypes) async throws -> (descriptor: Descriptor, body: [UInt8])? {
        let repository = repositoryPath(raw)
        guard let response = try await get("/v2/\(repository)/manifests/\(reference)", accept: accept, scope: "repository:\(repository):pull", limit: 4 << 20)
        else { return nil }
        let digest = Digest.sha256(of: response.body)
        if let stated = response.header("docker-content-digest"), stated != digest.description {
            throw RegistryError.unexpected(registry: host, what: "the manifest of \(repository):\(reference)", reason: "its bytes do not match the digest the registry states")
        }
        let mediaType = response.header("content-type")?.split(separator: ";").first.map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        return (Descriptor(mediaType: mediaType, digest: digest, size: Int64(response.body.count)), response.body)
    }

    /// A blob's bytes, checked against its digest, or nil when the registry does not have it.
    public func blob(repository raw: String, digest: Digest, limit: Int) async throws -> [UInt8]? {
        let repository = repositoryPath(raw)
        guard let response = try await get("/v2/\(repository)/blobs/\(digest)", accept: ["*/*"], scope: "repository:\(repository):pull", limit: limit)
        else { return nil }
        guard Digest.sha256(of: response.body) == digest else {
            throw RegistryError.unexpected(registry: host, what: "blob \(digest) of \(repository)", reason: "its bytes do not match its digest")
        }
        return response.body
    }

    /// Uploads a blob (in one request) unless the repository has it already.
    @discardableResult
    public func pushBlob(repository raw: String, bytes: [UInt8], mediaType: String) async throws -> Descriptor {
        let repository = repositoryPath(raw)
        let scope = "repository:\(repository):pull,push"
        let digest = Digest.sha256(of: bytes)
        let descriptor = Descriptor(mediaType: mediaType, digest: digest, size: Int64(bytes.count))
        if try await hasBlob(repository, digest, scope: scope) { return descriptor }
        let start = try await exchange("POST", baseURL + "/v2/\(repository)/blobs/uploads/", headers: [("Content-Length", "0")], body: [], scope: scope, limit: 1 << 16)
        guard start.status == 202, let location = start.header("location") else { throw failure(start, what: "an upload to \(repository)") }
        let upload = Self.resolve(location, against: baseURL + "/v2/")
        let url = upload + (upload.contains("?") ? "&" : "?") + URLEncoding.query([("digest", digest.description)])
        let put = try await exchange(
            "PUT", url, headers: [("Content-Type", "application/octet-stream"), ("Content-Length", String(bytes.count))],
            body: bytes, scope: scope, limit: 1 << 16)
        guard put.status == 201 || put.status == 204 else { throw failure(put, what: "blob \(digest) of \(repository)") }
        return descriptor
    }

    /// Makes blob `digest` of repository `source` (same registry) one of `repository`'s too,
    /// without moving its bytes: a cross-repository mount, or, where the registry declines one,
    /// a copy through this client a chunk at a time. True when the blob was there already or mounted.
    @discardableResult
    public func mountBlob(repository raw: String, digest: Digest, from source: String) async throws -> Bool {
        let repository = repositoryPath(raw)
        let from = repositoryPath(source)
        let scope = "repository:\(repository):pull,push"
        if try await hasBlob(repository, digest, scope: scope) { return true }
        let query = URLEncoding.query([("mount", digest.description), ("from", from)])
        let mount = try await exchange(
            "POST", baseURL + "/v2/\(repository)/blobs/uploads/?" + query, headers: [("Content-Length", "0")], body: [], scope: scope, limit: 1 << 16)
        switch mount.status {
        case 201: return true
        case 202:
            // Declined (another scope, a registry without mounts): the bytes go through here.
            try await copyBlob(digest, from: self, repository: from, into: repository)
            return false
        default: throw failure(mount, what: "mounting blob \(digest) from \(from) into \(repository)")
        }
    }

    /// Whether `repository` (its path in the registry) has blob `digest`: a HEAD.
    func hasBlob(_ repository: String, _ digest: Digest, scope: String) async throws -> Bool {
        try await exchange("HEAD", baseURL + "/v2/\(repository)/blobs/\(digest)", headers: [], scope: scope, limit: 0).status == 200
    }

    /// Stores a manifest (or image index) under `reference` (a tag, or its digest).
    @discardableResult
    public func pushManifest(repository raw: String, reference: String, mediaType: String, body: [UInt8]) async throws -> Descriptor {
        let repository = repositoryPath(raw)
        let response = try await exchange(
            "PUT", baseURL + "/v2/\(repository)/manifests/\(reference)",
            headers: [("Content-Type", mediaType), ("Content-Length", String(body.count))],
            body: body, scope: "repository:\(repository):pull,push", limit: 1 << 16)
        guard response.status == 201 || response.status == 200 else { throw failure(response, what: "the manifest \(repository):\(reference)") }
        return Descriptor(mediaType: mediaType, digest: Digest.sha256(of: body), size: Int64(body.count))
    }
}

/// One platform's image in an image index.
public struct ImageIndexEntry: Sendable, Hashable {
    public var manifest: RegistryClient.Descriptor
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(manifest: RegistryClient.Descriptor, os: String, architecture: String, variant: String? = nil) {
        self.manifest = manifest
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }
}

extension RegistryClient {
    public static let indexType = "application/vnd.oci.image.index.v1+json"

    /// The OCI image index listing `entries` (in the order given), as bytes to store.
    public static func index(_ entries: [ImageIndexEntry], annotations: [String: String] = [:]) -> [UInt8] {
        var document: [String: JSONValue] = [
            "schemaVersion": .int(2),
            "mediaType": .string(indexType),
            "manifests": .array(
                entries.map { entry in
                    var platform: [String: JSONValue] = ["os": .string(entry.os), "architecture": .string(entry.architecture)]
                    if let variant = entry.variant { platform["variant"] = .string(variant) }
                    var descriptor = entry.manifest.json.objectValue ?? [:]
                    descriptor["platform"] = .object(platform)
                    return .object(descriptor)
                }),
        ]
        if !annotations.isEmpty { document["annotations"] = .object(annotations.mapValues(JSONValue.string)) }
        return Array(JSONValue.object(document).canonical.utf8)
    }

    /// Stores an image index of `entries` under `tag`; every manifest it lists must be in the
    /// repository already.
    @discardableResult
    public func pushIndex(repository: String, tag: String, entries: [ImageIndexEntry], annotations: [String: String] = [:]) async throws -> Descriptor {
        try await pushManifest(repository: repository, reference: tag, mediaType: Self.indexType, body: Self.index(entries, annotations: annotations))
    }
}
