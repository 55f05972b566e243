import ArgumentParser
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// The recipe a command works on, with arg overrides.
struct RecipeOptions: ParsableArguments {
    @Argument(help: "The recipe file (YAML).")
    var recipe: String

    @Option(name: .customLong("arg"), help: ArgumentHelp("Override a recipe arg.", valueName: "NAME=VALUE"))
    var args: [String] = []

    @Option(name: .customLong("context-dir"), help: ArgumentHelp("Bake this directory in the layer with context: instead of the recipe's (the hash follows it).", valueName: "DIR"))
    var contextDirectory: String?

    @Option(
        name: .customLong("allow-local-repos"),
        help: ArgumentHelp(
            "Let a context manifest's repos: fetch git repositories on this machine under DIR (by default only network URLs, and paths inside the recipe's directory).",
            valueName: "DIR"))
    var allowLocalRepos: [String] = []

    var resolveOptions: ResolveOptions { ResolveOptions(contextDirectory: contextDirectory, localRepoRoots: allowLocalRepos) }

    func validate() throws {
        _ = try overrides()
    }

    func overrides() throws -> [String: String] {
        var result: [String: String] = [:]
        for item in args {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw ValidationError("--arg '\(item)' must be NAME=VALUE")
            }
            result[String(item[..<equals])] = String(item[item.index(after: equals)...])
        }
        return result
    }

    /// Loads, resolves and plans the recipe, printing every diagnostic; exits 2 on any error.
    func loadPlan() async throws -> BuildPlan {
        let (plan, diagnostics) = await Planner.planned(recipeAt: recipe, overrides: try overrides(), options: resolveOptions)
        let failed = Console.report(diagnostics)
        guard let plan, !failed else { throw ExitCode.badInput }
        return plan
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}
