import ArgumentParser
import DockerEngine
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `imagegen index REGISTRY/REPOSITORY:TAG PLATFORM=IMAGE…`: one tag for several platforms, from
/// images in the engine (or in each platform's engine, `--engine`): how a base made offline for
/// amd64 and arm64 becomes one multi-platform `FROM`.
struct IndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Push local images of several platforms under one tag, as an OCI image index.",
        discussion: """
            Each image is pushed under <tag>-<arch> (the engine pushes only tags), then an image index \
            listing every platform is written under <tag> through the registry API. Credentials as for \
            release --push. Example: imagegen index 127.0.0.1:5000/base/busybox:1 \
            linux/amd64=busybox:1 linux/arm64=busybox:1-arm64
            """)

    @Argument(help: ArgumentHelp("Where the index goes.", valueName: "REGISTRY/REPOSITORY:TAG"))
    var target: String

    @Argument(help: ArgumentHelp("Each platform's image in the engine.", valueName: "PLATFORM=IMAGE"))
    var images: [String]

    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        let reference: ImageReference
        do {
            reference = try ImageReference(parsing: target)
        } catch {
            throw CommandFailure("\(target): \(error)", code: .badInput)
        }
        guard reference.registry != nil, let tag = reference.tag, reference.digest == nil else {
            throw CommandFailure("\(target) must name a registry and a tag, e.g. 127.0.0.1:5000/base/busybox:1", code: .badInput)
        }
        var wanted: [(Platform, String)] = []
        for item in images {
            guard let equals = item.firstIndex(of: "=") else { throw CommandFailure("'\(item)' must be PLATFORM=IMAGE", code: .badInput) }
            do {
                wanted.append((try Platform(parsing: String(item[..<equals])), String(item[item.index(after: equals)...])))
            } catch {
                throw CommandFailure("\(item): \(error)", code: .badInput)
            }
        }
        guard !wanted.isEmpty, Set(wanted.map(\.0)).count == wanted.count else {
            throw CommandFailure("give each platform once, e.g. linux/amd64=IMAGE linux/arm64=IMAGE", code: .badInput)
        }
        let engine = try await engineOptions.connect()
        let native = try await engineOptions.connectPlatforms()
        let publisher = await ImageIndexPublisher.make(reference.repository)
        do {
            let descriptor = try await publisher.publish(wanted.map { .init(platform: $0.0, source: $0.1, engine: native[$0.0] ?? engine) }, tag: tag) {
                Console.error($0)
            }
            Console.out("\(reference.repository.reference(tag)) is an image index (\(descriptor.digest)) of \(wanted.map(\.0.description).joined(separator: ", "))")
        } catch let failure as ImageIndexPublisher.Failure {
            throw CommandFailure("\(failure)", code: .badInput)
        } catch {
            throw EngineFailure.wrap(error)
        }
    }
}
