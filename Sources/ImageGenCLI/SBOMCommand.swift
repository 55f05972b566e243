import ArgumentParser
import CSystemShims
import ContainerBasics
import Foundation
import ImageGen
import ImageGenValues
import Inventory
import LayerInspection
import Planning

struct SBOMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sbom",
        abstract: "Write an SBOM of each built image: SPDX 2.3 or CycloneDX 1.6 JSON, its packages read from the image's package databases.",
        discussion: """
            Packages come from dpkg's status database, Alpine's installed database, Python distributions \
            (.dist-info) anywhere, and Node packages under node_modules (and Node's global directories). Each \
            has its version, license as stated (an SPDX expression where it is one), supplier, purl, the layer \
            that added it and its bytes. The same image gives the same document. One image is written to \
            stdout or --output FILE; several (no --layer, or a multi-platform recipe) need --output DIR, which \
            gets <image>.spdx.json or <image>.cdx.json each.
            """)

    @OptionGroup var options: RecipeOptions
    @OptionGroup var engineOptions: EngineOptions

    @Option(name: .customLong("layer"), help: "This layer's image (repeatable); all layers by default.")
    var layers: [String] = []

    @Option(help: "spdx-json or cyclonedx-json.")
    var format: SBOM.Format = .spdxJSON

    @Option(help: ArgumentHelp("Write to FILE (one image) or into the directory DIR (several).", valueName: "FILE|DIR"))
    var output: String?

    @Flag(help: "List each package's files with the checksums its database records (CycloneDX: every such file; SPDX: those with a SHA-1).")
    var files = false

    func run() async throws {
        let plan = try await options.loadPlan()
        for layer in layers where plan.layer(named: layer) == nil {
            throw CommandFailure("unknown layer '\(layer)'; the recipe has \(plan.layerNames.joined(separator: ", "))", code: .badInput)
        }
        let engine = try await engineOptions.connect()
        let native = try await engineOptions.connectPlatforms()
        var images: [DescribedImage] = []
        do {
            for (platform, platformPlan) in plan.perPlatform {
                var readOptions = Verifier.Options()
                readOptions.notes = { Console.error($0) }
                images += try await ImageInventories(engine: platform.flatMap { native[$0] } ?? engine, plan: platformPlan, options: readOptions).read(
                    layers: layers, files: files)
            }
        } catch let error as DescribeError {
            throw CommandFailure(error.description, code: .failed)
        } catch {
            throw EngineFailure.wrap(error)
        }
        // Reading the layers made and dropped much; the documents need it back.
        imagegen_release_free_memory()
        let suffix = format == .spdxJSON ? "spdx.json" : "cdx.json"
        let (format, files, described) = (self.format, self.files, images)
        if images.count == 1, !(output.map(Self.isDirectory) ?? false) {
            let image = images[0]
            let text = SBOM.document(image.inventory, subject: image.subject(), format: format, files: files).pretty
            if let output {
                try Self.write(text, to: output)
                Console.error("\(image.layer.displayName): \(image.inventory.packages.count) packages → \(output)")
            } else {
                Console.out(String(text.dropLast()))
            }
            return
        }
        guard let output else {
            throw CommandFailure("\(images.count) images: give --output DIR for their SBOMs, or --layer for one", code: .badInput)
        }
        let paths = images.map { image in
            let name = image.layer.reference.repository.description.split(separator: "/").last.map(String.init) ?? image.layer.name
            return "\(output)/\(name)\(image.layer.platform.map { "-" + $0.slug } ?? "").\(suffix)"
        }
        // One at a time, each written as soon as it is made: a large image's document is tens of
        // MiB while it is built.
        for (image, path) in zip(described, paths) {
            try Self.write(SBOM.document(image.inventory, subject: image.subject(), format: format, files: files).prettyBytes, to: path)
        }
        for (image, path) in zip(images, paths) { Console.error("\(image.layer.displayName): \(image.inventory.packages.count) packages → \(path)") }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    private static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        do {
            try AtomicFile.write(bytes, to: path, createDirectories: true)
        } catch {
            throw CommandFailure("\(error)", code: .failed)
        }
    }
}

extension SBOM.Format: ExpressibleByArgument {}
