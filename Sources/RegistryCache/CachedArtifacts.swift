import ContainerBasics
import ContainerRegistry
import Foundation

/// What the cache registry keeps besides images: small OCI artifacts under a tag of their own,
/// `REGISTRY/NAMESPACE/<repository>:<tag>` (shared layer indexes, stored verify results), each
/// one document with annotations that say what it is of. A tag is never overwritten; an artifact
/// whose type or annotations are not the ones asked for is not used. Like the image cache, a
/// problem gives the session's one warning, never a failure.
extension RegistryCacheSession {
    /// The repository `name` under the cache's namespace.
    public nonisolated func artifactRepository(_ name: String) -> String {
        cache.namespace.isEmpty ? name : cache.namespace + "/" + name
    }

    /// The document of the artifact under `tag`, when its type and annotations are the ones given.
    public func fetchArtifact(repository: String, tag: String, type: String, annotations expected: [String: String], limit: Int = 256 << 20) async -> [UInt8]? {
        guard isAvailable else { return nil }
        do {
            guard let (_, body) = try await client.rawManifest(repository: repository, reference: tag, accept: [RegistryClient.imageManifestType])
            else { return nil }
            let manifest = try JSONValue(parsing: Data(body))
            guard manifest["artifactType"]?.stringValue == type,
                expected.allSatisfy({ manifest["annotations"]?[$0.key]?.stringValue == $0.value }),
                let layer = manifest["layers"]?.arrayValue?.first, layer["mediaType"]?.stringValue == type,
                let digest = layer["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) })
            else { return nil }
            return try await client.blob(repository: repository, digest: digest, limit: limit)
        } catch {
            disable("reading \(repository):\(tag): \(error)")
            return nil
        }
    }

    /// Keeps `content` as the artifact under `tag` (read-write caches only; a tag already there is
    /// kept). One push per tag and session, whatever the number of callers.
    public func pushArtifact(repository: String, tag: String, type: String, content: @escaping @Sendable () -> [UInt8], annotations: [String: String]) async {
        guard cache.mode == .readwrite, isAvailable else { return }
        let key = repository + ":" + tag
        if let running = artifactPushes[key] {
            _ = try? await running.value
            return
        }
        let client = self.client
        let push = Task {
            if try await client.rawManifest(repository: repository, reference: tag, accept: [RegistryClient.imageManifestType]) != nil { return }
            let document = try await client.pushBlob(repository: repository, bytes: content(), mediaType: type)
            let config = try await self.emptyConfig(client: client, repository: repository)
            let manifest: JSONValue = .object([
                "schemaVersion": .int(2), "mediaType": .string(RegistryClient.imageManifestType), "artifactType": .string(type),
                "config": config.json, "layers": .array([document.json]), "annotations": .object(annotations.mapValues(JSONValue.string)),
            ])
            try await client.pushManifest(repository: repository, reference: tag, mediaType: RegistryClient.imageManifestType, body: Array(manifest.canonical.utf8))
        }
        artifactPushes[key] = push
        do {
            try await push.value
        } catch {
            disable("keeping \(repository):\(tag): \(error)")
        }
    }

    /// The empty config's descriptor in `repository`, uploaded once whatever the number of callers:
    /// two uploads of one blob at once let docker-registry answer a manifest that names it with
    /// `DIGEST_INVALID` (it reads the blob's link while the other upload rewrites it).
    func emptyConfig(client: RegistryClient, repository: String) async throws -> RegistryClient.Descriptor {
        if let running = emptyConfigPushes[repository] { return try await running.value }
        let push = Task { try await client.pushBlob(repository: repository, bytes: RegistryClient.emptyConfig, mediaType: RegistryClient.emptyConfigType) }
        emptyConfigPushes[repository] = push
        return try await push.value
    }
}
