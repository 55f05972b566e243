import ArgumentParser
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `imagegen layer-index DIR…`: what the helper container runs (see ``LayerHelper``). Indexes
/// each layer directory of the engine's overlay2 storage and prints one JSON line per directory:
/// `{"directory": …, "index": …}`, or `{"directory": …, "error": …}`. Not for people: hidden.
struct LayerIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layer-index",
        abstract: "Index layer directories of the engine's storage (run by verify's helper container).",
        shouldDisplay: false)

    @Option(name: .customLong("scan-limit"), help: "Files larger than this many bytes are not scanned for secrets.")
    var scanLimit: Int64 = 10 << 20

    @Flag(name: .customLong("no-secrets"), help: "Do not scan files for secrets.")
    var noSecrets = false

    @Argument(help: "Layer directories.")
    var directories: [String]

    func run() throws {
        var options = ImageExport.Options()
        options.secretScanLimit = scanLimit
        options.scanSecrets = !noSecrets
        let lines = LayerStorage.indexLines(directories, options: options)
        for line in lines { print(line) }
    }
}
