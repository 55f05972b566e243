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

    private nonisolated func indexTag(_ diffID: Digest, options: ImageExport.Options) -> String {
        "\(diffID.hex).\(LayerIndexStore.key(options))"
    }

    private nonisolated func indexAnnotations(_ diffID: Digest, options: ImageExport.Options) -> [String: String] {
        ["dev.imagegen.diff-id": diffID.description, "dev.imagegen.index": LayerIndexStore.key(options)]
    }

    /// The shared index of a layer, or nil (not there, or the cache is not answering).
    public func fetchIndex(_ diffID: Digest, options: ImageExport.Options) async -> LayerBlob? {
        guard diffID.algorithm == "sha256",
            let bytes = await fetchArtifact(
                repository: artifactRepository(Self.layerIndexRepository), tag: indexTag(diffID, options: options), type: Self.layerIndexType,
                annotations: indexAnnotations(diffID, options: options))
        else { return nil }
        return LayerIndexStore.decode(bytes: bytes, key: diffID.description)
    }

    /// Shares a layer's index (read-write caches only; an index already there is kept).
    public func pushIndex(_ blob: LayerBlob, diffID: Digest, options: ImageExport.Options) async {
        guard diffID.algorithm == "sha256" else { return }
        await pushArtifact(
            repository: artifactRepository(Self.layerIndexRepository), tag: indexTag(diffID, options: options), type: Self.layerIndexType,
            content: { Array(LayerIndexStore.encode(blob).canonical.utf8) }, annotations: indexAnnotations(diffID, options: options))
    }
}
