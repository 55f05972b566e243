import ArgumentParser
import ContainerBasics
import ContainerRegistry
import Foundation
import ImageGen
import ImageGenValues
import RegistryCache

struct AttestationsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attestations",
        abstract: "List, or fetch, what a release attached to an image in a registry: its SBOM, its verify report, its provenance.",
        discussion: """
            The artifacts are OCI referrers of the image's manifest (each platform's, for a multi-platform \
            tag), found through the registry's referrers API or the sha256-<digest> tag registries without \
            one are given. --fetch prints one artifact's document: sbom (SPDX 2.3), verify (the verify \
            report's JSON), provenance (an in-toto statement with a SLSA provenance v1 predicate).
            """)

    @Argument(help: "The image: REGISTRY/REPOSITORY:TAG or @DIGEST.")
    var reference: String

    @Option(help: ArgumentHelp("Print this artifact's document: sbom, verify or provenance.", valueName: "KIND"))
    var fetch: Attestation?

    @Option(help: ArgumentHelp("For a multi-platform tag: this platform's image (default: this machine's).", valueName: "OS/ARCH"))
    var platform: String?

    @Option(help: ArgumentHelp("Write the fetched document to FILE.", valueName: "FILE"))
    var output: String?

    @Option(help: "Output format of the list.")
    var format: OutputFormat = .text

    func run() async throws {
        guard let parsed = try? ImageReference(parsing: reference), let host = parsed.registry else {
            throw CommandFailure("'\(reference)' must name its registry: HOST[:PORT]/REPOSITORY:TAG", code: .badInput)
        }
        let client = RegistryCredentials.client(host: host, auth: await RegistryCredentials.resolve(registry: host))
        let tagOrDigest = parsed.digest?.description ?? parsed.tag?.value ?? Tag.latest.value
        let architecture = try platform.map { try Platform(parsing: $0).architecture } ?? RegistryClient.architecture
        do {
            guard let (descriptor, body) = try await client.rawManifest(repository: parsed.path, reference: tagOrDigest) else {
                throw CommandFailure("\(reference) is not in its registry", code: .failed)
            }
            var subject = descriptor
            if let entries = try JSONValue(parsing: Data(body))["manifests"]?.arrayValue {
                guard let entry = entries.first(where: { $0["platform"]?["architecture"]?.stringValue == architecture }),
                    let digest = entry["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) }), let size = entry["size"]?.intValue
                else { throw CommandFailure("\(reference) has no linux/\(architecture) image", code: .failed) }
                subject = RegistryClient.Descriptor(mediaType: entry["mediaType"]?.stringValue ?? "", digest: digest, size: size)
            }
            let referrers = try await client.referrers(repository: parsed.path, subject: subject.digest)
            guard let fetch else {
                list(referrers, subject: subject)
                return
            }
            guard referrers.contains(where: { $0.artifactType == fetch.artifactType }) else {
                throw CommandFailure("\(reference) has no \(fetch.rawValue) attached", code: .failed)
            }
            guard let content = try await AttestationReader(client: client).fetch(fetch, repository: parsed.path, subject: subject.digest) else {
                throw CommandFailure("the \(fetch.rawValue) artifact of \(reference) is incomplete in its registry", code: .failed)
            }
            let text = String(decoding: content, as: UTF8.self)
            if let output {
                try AtomicFile.write(Array(Redactor.redact(text).utf8), to: output, createDirectories: true)
            } else {
                Console.out(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            }
        } catch let error as RegistryError {
            throw CommandFailure("\(error)", code: .failed)
        }
    }

    private func list(_ referrers: [RegistryClient.Referrer], subject: RegistryClient.Descriptor) {
        switch format {
        case .json:
            Console.out(
                JSONValue.object([
                    "subject": .string(subject.digest.description),
                    "attestations": .array(
                        referrers.map { referrer in
                            [
                                "kind": Attestation(artifactType: referrer.artifactType).map { .string($0.rawValue) } ?? .null,
                                "artifactType": .string(referrer.artifactType), "manifest": .string(referrer.manifest.digest.description),
                                "created": referrer.annotations["org.opencontainers.image.created"].map(JSONValue.string) ?? .null,
                            ]
                        }),
                ]).pretty)
        case .text:
            guard !referrers.isEmpty else {
                Console.out("\(reference)@\(subject.digest.short): nothing attached")
                return
            }
            var rows = [["KIND", "ARTIFACT TYPE", "MANIFEST", "CREATED"]]
            for referrer in referrers {
                rows.append([
                    Attestation(artifactType: referrer.artifactType)?.rawValue ?? "-", referrer.artifactType, referrer.manifest.digest.short,
                    referrer.annotations["org.opencontainers.image.created"] ?? "",
                ])
            }
            Console.out("\(reference)@\(subject.digest.short)\n" + Table.render(rows, indent: "  "))
        }
    }
}

extension Attestation: ExpressibleByArgument {}
