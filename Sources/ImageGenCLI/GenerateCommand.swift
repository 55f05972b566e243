import ArgumentParser
import Foundation
import ImageGen
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write each layer's Dockerfile and hash inputs under generated/, and optionally its tar build context.",
        discussion: """
            Writes generated/<recipe>/<layer>/Dockerfile and inputs.json. The recipe's folder is \
            replaced atomically: a failed run leaves the previous one untouched. With --check, \
            nothing is written and the exit code is 1 when generated/ is stale.
            """)

    @OptionGroup var options: RecipeOptions
    @OptionGroup var buildCA: BuildCAOption

    @Option(name: .long, help: "The output directory.")
    var out = "generated"

    @Flag(help: "Write nothing; exit 1 and list the files that differ when the output is stale.")
    var check = false

    @Option(name: .long, help: "The layer whose build context --context-out writes.")
    var layer: String?

    @Option(name: .customLong("context-out"), help: ArgumentHelp("Write the layer's tar build context to PATH ('-' for stdout).", valueName: "PATH"))
    var contextOut: String?

    func validate() throws {
        if contextOut != nil, layer == nil { throw ValidationError("--context-out needs --layer NAME") }
        if check, contextOut != nil { throw ValidationError("--check writes nothing; drop --context-out") }
    }

    func run() async throws {
        let plan = try await options.loadPlan()
        if check {
            let differences = GeneratedDirectory.check(plan, against: out)
            if differences.isEmpty {
                Console.error("\(out)/\(plan.name) is up to date")
                return
            }
            for difference in differences { Console.out(difference.description) }
            Console.error("\(out)/\(plan.name) is stale: run `imagegen generate \(options.recipe)`")
            throw ExitCode.failed
        }
        var layerPlan: LayerPlan?
        if let layer {
            guard let found = plan.layer(named: layer) else {
                throw CommandFailure("unknown layer '\(layer)'; the recipe has \(plan.layers.map(\.name).joined(separator: ", "))", code: .badInput)
            }
            layerPlan = found
        }
        do {
            try GeneratedDirectory.write(plan, to: out)
        } catch {
            throw CommandFailure("\(error)", code: .failed)
        }
        Console.error("wrote \(out)/\(plan.name) (\(Console.count(plan.layerNames.count, "layer")))")
        if let layerPlan, let contextOut {
            try writeContext(layerPlan, to: contextOut)
        }
    }

    private func writeContext(_ layer: LayerPlan, to path: String) throws {
        do {
            let stream = try TarWriter(entries: layer.entries(buildCA: try buildCA.load()))
            if path == "-" {
                guard !Console.stdoutIsTerminal else {
                    throw CommandFailure("refusing to write a tar to a terminal; redirect stdout or give a file", code: .badInput)
                }
                try stream.write(to: STDOUT_FILENO, path: "stdout")
            } else if ContextOutput.isSpecialFile(path) {
                let fd = open(path, O_WRONLY | O_CLOEXEC)
                guard fd >= 0 else { throw CommandFailure("cannot open \(path): \(String(cString: strerror(errno)))", code: .failed) }
                defer { close(fd) }
                try stream.write(to: fd, path: path)
            } else {
                try ContextOutput.writeAtomically(stream, to: path)
            }
            Console.error("wrote the build context of \(layer.name) (\(stream.bytesProduced) bytes, content hash \(layer.contentHash))")
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure("\(error)", code: .failed)
        }
    }
}
