import DockerEngine
import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// A base image's identity holds across machines: its pinned digest, else its registry digest for
/// the repository named, else the digest of its root file system (diff IDs), never the image ID.
@Suite("base image identity")
struct BaseIdentityTests {
    static func image(id: String, repoDigests: [String] = [], diffIDs: [String]) throws -> ImageInspect {
        let document: JSONValue = .object([
            "Id": .string(id), "RepoDigests": .array(repoDigests.map(JSONValue.string)),
            "RootFS": .object(["Type": "layers", "Layers": .array(diffIDs.map(JSONValue.string))]),
        ])
        return try JSONDecoder().decode(ImageInspect.self, from: Data(document.canonical.utf8))
    }

    static let layerA = "sha256:" + String(repeating: "a", count: 64)
    static let layerB = "sha256:" + String(repeating: "b", count: 64)
    static let digest = "sha256:" + String(repeating: "c", count: 64)

    @Test("the same layers imported on two machines (two image IDs) have one identity; other layers another")
    func rootFileSystem() throws {
        let reference = try ImageReference(parsing: "debian:trixie-slim")
        let here = BaseImages.identity(of: try Self.image(id: "sha256:" + String(repeating: "1", count: 64), diffIDs: [Self.layerA, Self.layerB]), named: reference)
        let there = BaseImages.identity(of: try Self.image(id: "sha256:" + String(repeating: "2", count: 64), diffIDs: [Self.layerA, Self.layerB]), named: reference)
        #expect(here == there)
        #expect(here.hasPrefix("rootfs:sha256:") && here.count == "rootfs:sha256:".count + 64)
        #expect(BaseImages.identity(of: try Self.image(id: "sha256:" + String(repeating: "1", count: 64), diffIDs: [Self.layerA]), named: reference) != here)
        #expect(
            BaseImages.identity(of: try Self.image(id: "sha256:" + String(repeating: "1", count: 64), diffIDs: [Self.layerB, Self.layerA]), named: reference) != here,
            "the order of layers is part of the file system")
    }

    @Test("a registry digest for the repository named wins; one for another repository does not count")
    func registryDigest() throws {
        let image = try Self.image(
            id: "sha256:" + String(repeating: "1", count: 64),
            repoDigests: ["other/image@sha256:" + String(repeating: "d", count: 64), "debian@\(Self.digest)"], diffIDs: [Self.layerA])
        #expect(BaseImages.identity(of: image, named: try ImageReference(parsing: "debian:trixie-slim")) == Self.digest)
        #expect(BaseImages.identity(of: image, named: try ImageReference(parsing: "docker.io/library/debian:trixie-slim")) == Self.digest)
        #expect(BaseImages.identity(of: image, named: try ImageReference(parsing: "mirror.example:5000/debian:trixie")).hasPrefix("rootfs:"))
        let pinned = "sha256:" + String(repeating: "e", count: 64)
        #expect(BaseImages.identity(of: image, named: try ImageReference(parsing: "debian:trixie-slim@\(pinned)")) == pinned)
    }
}
