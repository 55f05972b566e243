import ContainerRegistry
import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// A base image for one platform of a multi-platform recipe. The engine's classic image store
/// keeps one image per tag, so `debian:trixie-slim` cannot name an amd64 and an arm64 image in it
/// at once: a base is used by its tag only when the image there is of the platform; else it is
/// looked up in its registry, where a multi-platform base is an image index, resolved to the
/// manifest digest the index names for the platform, pulled by that digest when missing, and
/// built on as `repository@digest`. The digest is its identity, the same on every machine.
public enum PlatformBases {
    public struct Base: Sendable, Equatable {
        /// What `dev.imagegen.base-image` records.
        public var identity: String
        /// What the layer's Dockerfile is built FROM for this platform.
        public var from: String
    }

    public enum Resolution: Sendable, Equatable {
        case resolved(Base)
        case missing(message: String)
    }

    /// Resolves `reference` for `platform` on `engine`; pulls the platform's image by digest when
    /// it is missing and `pull` (a build) allows.
    public static func resolve(
        _ reference: ImageReference, platform: Platform, engine: DockerEngine, pull: Bool = true,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Resolution {
        if reference.digest == nil, let image = try await engine.inspectImage(reference), matches(image, platform) {
            return .resolved(Base(identity: BaseImages.identity(of: image, named: reference), from: reference.description))
        }
        let here = try await engine.inspectImage(reference).map { " (the engine's \(reference) is \($0.platform))" } ?? ""
        let host = reference.registry ?? "docker.io"
        let auth = await RegistryCredentials.resolve(registry: host, environment: environment)
        let client = RegistryCredentials.client(host: host, auth: auth)
        let digest: Digest
        do {
            guard let found = try await manifestDigest(reference, platform: platform, client: client) else {
                return .missing(
                    message: "base image \(reference) has no \(platform) image\(here): a multi-platform base comes from a registry as an image index listing \(platform)")
            }
            digest = found
        } catch let error as RegistryError {
            return .missing(
                message: "base image \(reference) for \(platform)\(here): its registry did not answer (\(error)); a multi-platform base comes from a registry as an image index")
        }
        let pinned = ImageReference(registry: reference.registry, path: reference.path, digest: digest)
        if try await engine.inspectImage(pinned) == nil {
            guard pull else { return .missing(message: "base image \(pinned) (\(platform)) is not in the engine; imagegen build pulls it") }
            do {
                try await engine.pull(pinned, registryAuth: auth.header, platform: platform.description)
            } catch let error as DockerEngineError {
                guard let message = error.refusalMessage else { throw error }
                return .missing(message: "base image \(pinned) (\(platform)) could not be pulled: \(message)")
            }
        }
        guard let image = try await engine.inspectImage(pinned), matches(image, platform) else {
            return .missing(message: "base image \(pinned) is not a \(platform) image, though its registry says so")
        }
        return .resolved(Base(identity: digest.description, from: pinned.description))
    }

    /// The key a platform's base goes by in a run: `reference`, or `reference@platform`.
    public static func key(_ reference: ImageReference, _ platform: Platform?) -> String {
        Platform.qualified(reference.description, platform)
    }

    static func matches(_ image: ImageInspect, _ platform: Platform) -> Bool {
        image.os ?? "linux" == platform.os && image.architecture == platform.architecture
            && (platform.variant == nil || image.variant == nil || image.variant == platform.variant)
    }

    /// The digest of the platform's manifest: the index entry for it, or the manifest itself
    /// when its config says it is of the platform; nil when the registry has neither.
    static func manifestDigest(_ reference: ImageReference, platform: Platform, client: RegistryClient) async throws -> Digest? {
        let tagOrDigest = reference.digest?.description ?? reference.tag?.value ?? Tag.latest.value
        guard let (descriptor, body) = try await client.rawManifest(repository: reference.path, reference: tagOrDigest) else { return nil }
        let document = try JSONValue(parsing: Data(body))
        if let entries = document["manifests"]?.arrayValue {
            let entry = entries.first { entry in
                let candidate = entry["platform"]
                return candidate?["os"]?.stringValue == platform.os && candidate?["architecture"]?.stringValue == platform.architecture
                    && (platform.variant == nil || candidate?["variant"]?.stringValue == platform.variant)
            }
            return entry?["digest"]?.stringValue.flatMap { try? Digest(parsing: $0) }
        }
        guard let config = document["config"]?["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) }),
            let bytes = try await client.blob(repository: reference.path, digest: config, limit: 16 << 20)
        else { return nil }
        let image = try JSONValue(parsing: Data(bytes))
        guard image["os"]?.stringValue ?? "linux" == platform.os, image["architecture"]?.stringValue == platform.architecture else { return nil }
        return descriptor.digest
    }
}
