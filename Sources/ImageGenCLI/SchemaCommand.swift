import ArgumentParser
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct SchemaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schema",
        abstract: "Print the recipe format as a JSON Schema, for editors.",
        discussion: """
            With the YAML language server (VS Code's YAML extension, and others), put \
            '# yaml-language-server: $schema=recipe.schema.json' on a recipe's first line for \
            completion, hover help and unknown keys marked as you type. The schema checks shape \
            only; imagegen validate remains the authority.
            """)

    func run() throws {
        // `pretty` ends with a newline already.
        var text = RecipeSchema.document.pretty
        text.removeLast()
        Console.out(text)
    }
}
