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

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented starter recipe (and, for the OpenCode family, its FEAT-026 context directory).",
        discussion: """
            Writes recipe.yaml and recipe.schema.json (for editors) into DIR, and with --from \
            opencode-sandbox the context directory opencode-context/ (docs, prompts, skills, \
            configs, data, templates and manifest.yaml). Nothing already there is overwritten. \
            Exit codes: 0 written, 2 a file exists or the template is unknown.
            """)

    enum Template: String, ExpressibleByArgument, CaseIterable {
        case minimal
        case opencodeSandbox = "opencode-sandbox"

        var summary: String {
            switch self {
            case .minimal: "one layer on Debian: a non-root user, a workdir, a package, a probe"
            case .opencodeSandbox: "the OpenCode task sandbox: base, developer, sandbox and context layers on Debian trixie, with its FEAT-026 context"
            }
        }
    }

    @Flag(help: "List the starters --from takes, and exit.")
    var list = false

    @Argument(help: "Where to write (created if missing).")
    var directory = "."

    @Option(help: "The starter: minimal (one layer) or opencode-sandbox (the four-layer family with its context).")
    var from: Template = .minimal

    func run() throws {
        if list {
            for template in Template.allCases { Console.out("\(template.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0)) \(template.summary)") }
            Console.out("(a family of Dockerfiles: imagegen import DIR… --out recipe.yaml)")
            return
        }
        guard let files = StarterTemplates.all[from.rawValue] else {
            throw CommandFailure("no template '\(from.rawValue)'", code: .badInput)
        }
        let written = files + [("recipe.schema.json", RecipeSchema.document.pretty + "\n")]
        let existing = written.map { directory + "/" + $0.0 }.filter { FileManager.default.fileExists(atPath: $0) }
        guard existing.isEmpty else {
            throw CommandFailure("refusing to overwrite \(existing.joined(separator: ", ")); init writes into an empty place", code: .badInput)
        }
        do {
            for (path, text) in written {
                try AtomicFile.write(Array(text.utf8), to: directory + "/" + path, createDirectories: true)
            }
        } catch {
            throw CommandFailure("\(error)", code: .failed)
        }
        let recipe = directory == "." ? "recipe.yaml" : directory + "/recipe.yaml"
        Console.error("wrote \(Console.count(written.count, "file")) into \(directory): next, `imagegen validate \(recipe)`, then `imagegen build \(recipe)`")
    }
}
