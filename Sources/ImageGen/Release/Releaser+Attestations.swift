import ContainerBasics
import ContainerRegistry
import Foundation
import ImageGenValues
import Inventory
import LayerInspection
import DockerEngine
import Planning

extension Releaser {
    /// Attaches to every pushed image manifest of `releases` (each platform's, for an index) its
    /// SBOM, its layer's verify report and its provenance; a manifest that has them already gets
    /// nothing new. Returns a line per manifest.
    func attest(_ releases: [LayerRelease], registry: ReleaseRegistry, verification: VerifyReport, provenance: ReleaseProvenance) async throws -> [String] {
        var lines: [String] = []
        var provenance = provenance
        provenance.finishedOn = Timestamp.rfc3339(Date())
        let writer = AttestationWriter(client: registry.client)
        let created = options.info.created
        for release in releases {
            guard let tag = release.exactTags.first ?? release.floatingTags.first else { continue }
            guard let (descriptor, body) = try await registry.client.rawManifest(repository: release.repository.path, reference: tag.value) else { continue }
            // An index lists each platform's manifest; an image manifest is its own subject.
            var subjects: [(RegistryClient.Descriptor, LayerPlan)] = []
            if descriptor.mediaType.contains("index") || descriptor.mediaType.contains("manifest.list") {
                let document = try JSONValue(parsing: Data(body))
                for entry in document["manifests"]?.arrayValue ?? [] {
                    guard let digest = entry["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) }), let size = entry["size"]?.intValue,
                        let architecture = entry["platform"]?["architecture"]?.stringValue,
                        let layer = release.layers.first(where: { $0.platform?.architecture == architecture })
                    else { continue }
                    subjects.append((RegistryClient.Descriptor(mediaType: entry["mediaType"]?.stringValue ?? "", digest: digest, size: size), layer))
                }
            } else {
                subjects.append((descriptor, release.reference))
            }
            for (subject, layer) in subjects {
                let documents = try await documents(for: layer, release: release, subject: subject, registry: registry, verification: verification, provenance: provenance)
                let attached = try await writer.attach(documents, to: subject, repository: release.repository, created: created)
                let names = attached.map(\.rawValue).joined(separator: ", ")
                lines.append(
                    "\(release.repository.reference(tag))@\(subject.digest.short)\(layer.platform.map { " (\($0))" } ?? ""): \(attached.isEmpty ? "already attached" : names + " attached")"
                )
            }
        }
        return lines
    }

    /// The SBOM, verify report and provenance of one pushed manifest.
    private func documents(
        for layer: LayerPlan, release: LayerRelease, subject: RegistryClient.Descriptor, registry: ReleaseRegistry, verification: VerifyReport,
        provenance: ReleaseProvenance
    ) async throws -> [Attestation: [UInt8]] {
        var documents: [Attestation: [UInt8]] = [:]
        let platformPlan = layer.platform.map { plan.forPlatform($0) } ?? plan
        var readOptions = Verifier.Options()
        readOptions.records = nil
        let remote = try await registry.client.imageConfig(repository: release.repository.path, reference: subject.digest.description)
        let inventory: PackageInventory
        var image: ImageInspect?
        if try await engine(for: layer.platform).inspectImage(layer.reference) != nil || remote == nil {
            let images = try await ImageInventories(engine: engine(for: layer.platform), plan: platformPlan, options: readOptions).read(layers: [layer.name])
            guard let described = images.first else { return documents }
            inventory = described.inventory
            image = described.inspect
        } else {
            // Released from the cache without a pull: the layers' indexes, kept or shared.
            inventory = try await indexedInventory(remote?.diffIDs ?? [], options: readOptions)
        }
        let repositoryURL = release.repository.description
        let labels = remote?.labels ?? image?.labels ?? [:]
        let sbomSubject = SBOMSubject(
            name: repositoryURL, version: options.info.version.description, imageID: remote?.configDigest ?? image?.id ?? subject.digest, manifestDigest: subject.digest,
            repositoryURL: repositoryURL, created: remote?.created ?? options.info.created, architecture: remote?.architecture ?? image?.architecture ?? "amd64",
            labels: labels, toolVersion: ImageGenVersion.current)
        documents[.sbom] = Array(SBOM.document(inventory, subject: sbomSubject, format: .spdxJSON).pretty.utf8)
        let checks = verification.layers.filter { $0.layer == layer.name && $0.platform == layer.platform }
        documents[.verify] = Array(ReportFormats.json(VerifyReport(recipe: plan.name, layers: checks)).pretty.utf8)
        let statement = Attestation.statement(
            layer: layer, plan: plan, repository: release.repository, subject: subject, labels: labels, provenance: provenance)
        documents[.provenance] = Array(statement.pretty.utf8)
        return documents
    }

    /// The inventory of an image not in the engine, from its layers' indexes: kept on this
    /// machine, else shared in the cache registry.
    private func indexedInventory(_ diffIDs: [Digest], options read: Verifier.Options) async throws -> PackageInventory {
        var blobs: [LayerBlob] = []
        for id in diffIDs {
            if let kept = read.layerCache?.load(id, options: read.export) {
                blobs.append(kept)
            } else if let shared = await options.cache?.fetchIndex(id, options: read.export) {
                blobs.append(shared)
            } else {
                throw DescribeError("no index of layer \(id.short) here or in the cache, so the SBOM cannot be made without a pull (give --no-attestations)")
            }
        }
        return PackageInventory.make(blobs, files: false)
    }
}
