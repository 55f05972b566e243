import ContainerBasics
import ContainerRegistry
import Foundation
import ImageGenValues
import Inventory
import Planning

/// What `release --push` attaches to each pushed image manifest, as OCI referrers: its SPDX SBOM,
/// its verify report, and an in-toto statement with a SLSA provenance v1 predicate (how it was
/// built: imagegen, the recipe and its commit, the args and platform, the base image by digest,
/// the layer's content hash). `imagegen attestations` lists and fetches them.
public enum Attestation: String, Sendable, CaseIterable {
    case sbom, verify, provenance

    public var artifactType: String {
        switch self {
        case .sbom: "application/spdx+json"
        case .verify: "application/vnd.imagegen.verify.report.v1+json"
        case .provenance: "application/vnd.in-toto+json"
        }
    }

    /// The media type of the artifact's one layer (the document itself).
    public var mediaType: String { artifactType }

    public init?(artifactType: String) {
        guard let found = Self.allCases.first(where: { $0.artifactType == artifactType }) else { return nil }
        self = found
    }

    public static let statementType = "https://in-toto.io/Statement/v1"
    public static let provenanceType = "https://slsa.dev/provenance/v1"
    /// The SLSA build type of an imagegen release: a layer of a recipe built on a Docker engine.
    public static let buildType = "https://imagegen.invalid/provenance/recipe-layer/v1"
}

/// How a release was made, for its provenance.
public struct ReleaseProvenance: Sendable {
    /// The recipe file as given, and its SHA-256.
    public var recipePath: String
    public var recipeDigest: String
    /// The git commit and repository the release was built from, when known.
    public var revision: String?
    public var sourceRepository: String?
    /// Who ran it: GitHub Actions' run, or this machine's imagegen.
    public var builderID: String
    public var invocationID: String?
    public var startedOn: String
    public var finishedOn: String

    public init(
        recipePath: String, recipeDigest: String, revision: String?, sourceRepository: String?, builderID: String, invocationID: String?, startedOn: String,
        finishedOn: String
    ) {
        self.recipePath = recipePath
        self.recipeDigest = recipeDigest
        self.revision = revision
        self.sourceRepository = sourceRepository
        self.builderID = builderID
        self.invocationID = invocationID
        self.startedOn = startedOn
        self.finishedOn = finishedOn
    }

    /// From the environment a release runs in: GitHub Actions' variables when they are set.
    public static func current(
        recipePath: String, revision: String?, sourceRepository: String?, startedOn: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> ReleaseProvenance {
        let digest = FileManager.default.contents(atPath: recipePath).map { sha256Hex($0) } ?? ""
        var builder = "urn:imagegen:builder:local"
        var invocation: String?
        if let server = environment["GITHUB_SERVER_URL"], let repository = environment["GITHUB_REPOSITORY"], let run = environment["GITHUB_RUN_ID"] {
            builder = "https://github.com/actions/runner"
            invocation = "\(server)/\(repository)/actions/runs/\(run)/attempts/\(environment["GITHUB_RUN_ATTEMPT"] ?? "1")"
        }
        // finishedOn is set when the documents are attached, at the end of the release.
        return ReleaseProvenance(
            recipePath: recipePath, recipeDigest: digest, revision: revision, sourceRepository: sourceRepository, builderID: builder,
            invocationID: invocation, startedOn: startedOn, finishedOn: startedOn)
    }
}

extension Attestation {
    /// The in-toto statement for the image whose manifest is `subject`.
    public static func statement(
        layer: LayerPlan, plan: BuildPlan, repository: Repository, subject: RegistryClient.Descriptor, labels: [String: String],
        provenance: ReleaseProvenance
    ) -> JSONValue {
        var parameters: [String: JSONValue] = [
            "recipe": .string(provenance.recipePath), "layer": .string(layer.name),
            "args": .object(layer.layer.args.mapValues { .string(Redactor.redact($0)) }),
        ]
        if let platform = layer.platform { parameters["platform"] = .string(platform.description) }
        var dependencies: [JSONValue] = [
            ["name": .string(provenance.recipePath), "digest": ["sha256": .string(provenance.recipeDigest)]]
        ]
        if let revision = provenance.revision {
            var source: [String: JSONValue] = ["digest": ["gitCommit": .string(revision)]]
            if let repository = provenance.sourceRepository { source["uri"] = .string("git+" + repository) } else { source["name"] = "the recipe's git commit" }
            dependencies.append(.object(source))
        }
        // The base image by its registry digest, as `dev.imagegen.base-image` recorded it when the
        // layer was built; a base made offline has no digest, only its layers' identity.
        var base: [String: JSONValue] = ["uri": .string("docker://" + layer.layer.rootImage.description)]
        if let identity = labels[ImageLabels.baseImage] {
            if !identity.hasPrefix("rootfs:"), let digest = identity.split(separator: "@").last.flatMap({ try? Digest(parsing: String($0)) }) {
                base["digest"] = [.init(digest.algorithm): .string(digest.hex)]
            }
            base["annotations"] = [.init(ImageLabels.baseImage): .string(identity)]
        }
        dependencies.append(.object(base))
        var metadata: [String: JSONValue] = ["startedOn": .string(provenance.startedOn), "finishedOn": .string(provenance.finishedOn)]
        if let invocation = provenance.invocationID { metadata["invocationId"] = .string(invocation) }
        let runDetails: [String: JSONValue] = [
            "builder": ["id": .string(provenance.builderID), "version": ["imagegen": .string(ImageGenVersion.current)]],
            "metadata": .object(metadata),
            "byproducts": [["name": "content-hash", "digest": ["sha256": .string(layer.contentHash.hex)]]],
        ]
        return [
            "_type": .string(statementType),
            "subject": [["name": .string(repository.description), "digest": [.init(subject.digest.algorithm): .string(subject.digest.hex)]]],
            "predicateType": .string(provenanceType),
            "predicate": [
                "buildDefinition": [
                    "buildType": .string(buildType), "externalParameters": .object(parameters),
                    "internalParameters": ["contentHash": .string(layer.contentHash.hex)], "resolvedDependencies": .array(dependencies),
                ],
                "runDetails": .object(runDetails),
            ],
        ]
    }
}

/// Attaches a release's documents to its pushed manifests, once: a manifest that already has an
/// artifact of a kind (the same content released again) gets nothing new of that kind.
public struct AttestationWriter: Sendable {
    public let client: RegistryClient

    public init(client: RegistryClient) { self.client = client }

    /// Attaches what `documents` holds to `subject`; returns the kinds attached now.
    public func attach(
        _ documents: [Attestation: [UInt8]], to subject: RegistryClient.Descriptor, repository: Repository, created: String
    ) async throws
        -> [Attestation]
    {
        let existing = Set(try await client.referrers(repository: repository.path, subject: subject.digest).compactMap { Attestation(artifactType: $0.artifactType) })
        var attached: [Attestation] = []
        for kind in Attestation.allCases {
            guard let content = documents[kind], !existing.contains(kind) else { continue }
            try await client.attach(
                repository: repository.path, subject: subject, artifactType: kind.artifactType, content: content, mediaType: kind.mediaType,
                annotations: ["org.opencontainers.image.created": created])
            attached.append(kind)
        }
        return attached
    }
}

/// Reads what a release attached to a manifest.
public struct AttestationReader: Sendable {
    public let client: RegistryClient

    public init(client: RegistryClient) { self.client = client }

    /// The document of the `kind` artifact attached to `subject`, or nil when none is.
    public func fetch(_ kind: Attestation, repository: String, subject: Digest) async throws -> [UInt8]? {
        let referrers = try await client.referrers(repository: repository, subject: subject)
        guard let referrer = referrers.first(where: { $0.artifactType == kind.artifactType }),
            let (_, body) = try await client.rawManifest(repository: repository, reference: referrer.manifest.digest.description),
            let layer = try JSONValue(parsing: Data(body))["layers"]?.arrayValue?.first,
            let digest = layer["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) })
        else { return nil }
        return try await client.blob(repository: repository, digest: digest, limit: 256 << 20)
    }
}
