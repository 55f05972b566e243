import ContainerRegistry
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import DockerEngine

/// With a cache registry, layer indexes are shared: each layer's index and secret scan is kept
/// there as a small OCI artifact, `REGISTRY/NAMESPACE/imagegen-layer-index:<diff ID hex>.<key>`,
/// so a fresh runner fetches it instead of reading the layer again. The key names the index
/// format, the secret rules and the scan limit (``LayerIndexStore/key(_:)``): an index made by
/// other rules is another tag, never trusted for this one.
///
/// An index says what is in a layer without the layer's bytes to prove it, so it is trusted as
/// the cache's images are: the cache registry is yours. Like the image cache it never fails a run:
/// a problem gives the session's one warning and the layers are read here instead.
extension RegistryCacheSession {
    static let layerIndexRepository = "imagegen-layer-index"
    static let layerIndexType = "application/vnd.imagegen.layer-index.v2+json"
    static let emptyConfigType = "application/vnd.oci.empty.v1+json"
    static let emptyConfig: [UInt8] = Array("{}".utf8)

    private nonisolated var indexRepository: String {
        cache.namespace.isEmpty ? Self.layerIndexRepository : cache.namespace + "/" + Self.layerIndexRepository
    }

    private nonisolated func indexTag(_ diffID: Digest, options: ImageExport.Options) -> String {
        "\(diffID.hex).\(LayerIndexStore.key(options))"
    }

    /// The shared index of a layer, or nil (not there, or the cache is not answering).
    public func fetchIndex(_ diffID: Digest, options: ImageExport.Options) async -> LayerBlob? {
        guard isAvailable, diffID.algorithm == "sha256" else { return nil }
        do {
            guard
                let (_, body) = try await client.rawManifest(
                    repository: indexRepository, reference: indexTag(diffID, options: options),
                    accept: ["application/vnd.oci.image.manifest.v1+json"])
            else { return nil }
            let manifest = try JSONValue(parsing: Data(body))
            guard manifest["artifactType"]?.stringValue == Self.layerIndexType,
                manifest["annotations"]?["dev.imagegen.diff-id"]?.stringValue == diffID.description,
                manifest["annotations"]?["dev.imagegen.index"]?.stringValue == LayerIndexStore.key(options),
                let layer = manifest["layers"]?.arrayValue?.first, layer["mediaType"]?.stringValue == Self.layerIndexType,
                let digest = layer["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) })
            else { return nil }
            guard let bytes = try await client.blob(repository: indexRepository, digest: digest, limit: 256 << 20) else { return nil }
            return LayerIndexStore.decode(bytes: bytes, key: diffID.description)
        } catch {
            disable("reading the layer index of \(diffID.short): \(error)")
            return nil
        }
    }

    /// The empty config's descriptor, uploaded once whatever the number of callers.
    private func emptyConfig(client: RegistryClient, repository: String) async throws -> RegistryClient.Descriptor {
        if let running = emptyConfigPush { return try await running.value }
        let push = Task { try await client.pushBlob(repository: repository, bytes: Self.emptyConfig, mediaType: Self.emptyConfigType) }
        emptyConfigPush = push
        return try await push.value
    }

    /// Shares a layer's index (read-write caches only; an index already there is kept).
    public func pushIndex(_ blob: LayerBlob, diffID: Digest, options: ImageExport.Options) async {
        guard cache.mode == .readwrite, isAvailable, diffID.algorithm == "sha256" else { return }
        let repository = indexRepository
        let tag = indexTag(diffID, options: options)
        if let running = indexPushes[tag] {
            _ = try? await running.value
            return
        }
        let client = self.client
        let push = Task {
            if try await client.rawManifest(repository: repository, reference: tag, accept: ["application/vnd.oci.image.manifest.v1+json"]) != nil { return }
            let content = try await client.pushBlob(repository: repository, bytes: Array(LayerIndexStore.encode(blob).canonical.utf8), mediaType: Self.layerIndexType)
            let config = try await self.emptyConfig(client: client, repository: repository)
            let manifest: JSONValue = .object([
                "schemaVersion": .int(2),
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": .string(Self.layerIndexType),
                "config": config.json,
                "layers": .array([content.json]),
                "annotations": .object(["dev.imagegen.diff-id": .string(diffID.description), "dev.imagegen.index": .string(LayerIndexStore.key(options))]),
            ])
            try await client.pushManifest(
                repository: repository, reference: tag, mediaType: "application/vnd.oci.image.manifest.v1+json",
                body: Array(manifest.canonical.utf8))
        }
        indexPushes[tag] = push
        do {
            try await push.value
        } catch {
            disable("sharing the layer index of \(diffID.short): \(error)")
        }
    }
}
