import ArgumentParser
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a recipe and the files it bakes in; report every problem as file:line:col.",
        discussion: "Exits 0 when the recipe is valid (warnings allowed) and 2 on any error.")

    @OptionGroup var options: RecipeOptions

    func run() async throws {
        let plan = try await options.loadPlan()
        let files = plan.layers.reduce(0) { $0 + $1.layer.sources.filter { $0.kind == .file }.count }
        Console.error("\(options.recipe): ok (\(Console.count(plan.layers.count, "layer")), \(Console.count(files, "context file")))")
    }
}
