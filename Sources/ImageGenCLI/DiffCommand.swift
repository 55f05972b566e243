import ArgumentParser
import ContainerBasics
import Foundation
import ImageGen
import ImageGenValues
import Inventory
import Planning
import RegistryCache
import Recipes

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract:
            "What changed between two versions of a family, or two images: per layer, size, packages added, removed and changed, the largest files, and checks whose result changed.",
        discussion: """
            OLD and NEW are each a version of the family (1.3.0: each layer's release tag, in the engine or, \
            with --registry, in the registry it was pushed to), `current` (the layers as built now), or one \
            image reference. Images only in a registry are read from their manifest and config, their layers \
            from the layer indexes kept here or shared in the cache registry (--cache), without a pull; an \
            image is pulled only to read a layer no index knows. Checks are compared where this machine \
            verified both images. --format markdown writes a table for a pull request or $GITHUB_STEP_SUMMARY.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, markdown }

    @Argument(help: "The old side: a version, `current`, or an image reference.")
    var old: String

    @Argument(help: "The new side: a version, `current`, or an image reference.")
    var new: String

    @Option(help: ArgumentHelp("The family's recipe (for versions and `current`).", valueName: "FILE"))
    var recipe: String?

    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a recipe arg.", valueName: "NAME=VALUE"))
    var args: [String] = []

    @Option(help: ArgumentHelp("The registry the versions were released to, as release --registry.", valueName: "HOST[:PORT][/NS]"))
    var registry: String?

    @Option(name: .customLong("layer"), help: "Compare this layer (repeatable); all layers by default.")
    var layers: [String] = []

    @Option(help: "text, json or markdown.")
    var format: Format = .text

    @Option(help: ArgumentHelp("Write the report to FILE instead of stdout.", valueName: "FILE"))
    var output: String?

    @Flag(name: .customLong("exit-code"), help: "Exit 1 when anything changed (as git diff --exit-code).")
    var exitCode = false

    @OptionGroup var cache: CacheOptions
    @OptionGroup var engineOptions: EngineOptions

    func run() async throws {
        var plan: BuildPlan?
        if let recipe {
            var overrides: [String: String] = [:]
            for item in args {
                guard let equals = item.firstIndex(of: "="), equals != item.startIndex else { throw CommandFailure("--arg '\(item)' must be NAME=VALUE", code: .badInput) }
                overrides[String(item[..<equals])] = String(item[item.index(after: equals)...])
            }
            let (planned, diagnostics) = await Planner.planned(recipeAt: recipe, overrides: overrides, options: ResolveOptions())
            guard let planned, !Console.report(diagnostics) else { throw ExitCode.badInput }
            plan = planned
            for layer in layers where planned.layer(named: layer) == nil {
                throw CommandFailure("unknown layer '\(layer)'; the recipe has \(planned.layerNames.joined(separator: ", "))", code: .badInput)
            }
        }
        let engine = try await engineOptions.connect()
        var options = FamilyDiff.Options()
        options.registry = registry
        options.layers = layers
        options.notes = { Console.error($0) }
        options.read.notes = { Console.error($0) }
        if let chosen = try cache.resolve(recipe: plan?.recipe.recipe.cache?.value) { options.sharedIndex = await RegistryCacheSession.open(chosen) }
        let (oldSide, newSide) = (FamilyDiff.Side(parsing: old), FamilyDiff.Side(parsing: new))
        let diffs: [ImageDiff]
        do {
            diffs = try await FamilyDiff(engine: engine, plan: plan, options: options).run(old: oldSide, new: newSide)
        } catch let error as DescribeError {
            throw CommandFailure(error.description, code: .failed)
        } catch {
            throw EngineFailure.wrap(error)
        }
        let text: String
        switch format {
        case .text: text = DiffReport.text(diffs, old: old, new: new)
        case .json: text = DiffReport.json(diffs, old: old, new: new).pretty
        case .markdown: text = DiffReport.markdown(diffs, old: old, new: new)
        }
        if let output {
            do {
                try AtomicFile.write(Array(text.utf8), to: output, createDirectories: true)
            } catch {
                throw CommandFailure("\(error)", code: .failed)
            }
        } else {
            Console.out(text.hasSuffix("\n") ? String(text.dropLast()) : text)
        }
        if exitCode, diffs.contains(where: { !$0.isEmpty }) { throw ExitCode.failed }
    }
}
