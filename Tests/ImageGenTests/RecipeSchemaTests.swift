import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The recipe's JSON Schema: it names exactly the keys the loader reads, and the copy in the
/// repository is current (ToolTests checks check-jsonschema's verdicts against imagegen's).
@Suite("Recipe JSON Schema")
struct RecipeSchemaTests {
    @Test("every key the loader accepts is described, and no other")
    func keys() throws {
        let document = RecipeSchema.document
        #expect(!document.canonical.contains("undescribed key"))
        func keys(_ schema: JSONValue?) -> Set<String> { Set(schema?["properties"]?.objectValue?.keys.map { $0 } ?? []) }
        #expect(keys(document) == Set(RecipeLoader.rootKeys))
        let layer = document["properties"]?["layers"]?["additionalProperties"]
        #expect(keys(layer) == Set(RecipeLoader.layerKeys))
        #expect(keys(layer?["properties"]?["user"]) == Set(RecipeLoader.userKeys))
        #expect(keys(layer?["properties"]?["context"]) == Set(RecipeLoader.contextKeys))
        #expect(keys(layer?["properties"]?["copy"]?["items"]) == Set(RecipeLoader.copyKeys))
        #expect(keys(layer?["properties"]?["policy"]) == Set(RecipeLoader.policyKeys))
        #expect(keys(layer?["properties"]?["policy"]?["properties"]?["files"]) == Set(RecipeLoader.filePolicyKeys))
        #expect(keys(document["properties"]?["toolsets"]?["additionalProperties"]) == Set(RecipeLoader.toolsetKeys))
    }

    @Test("schema/recipe.schema.json is what imagegen schema prints")
    func checkedIn() throws {
        let file = try String(contentsOfFile: repositoryRoot + "/schema/recipe.schema.json", encoding: .utf8)
        #expect(file == RecipeSchema.document.pretty, "regenerate it: imagegen schema > schema/recipe.schema.json")
        let printed = try run(imagegenExecutable, ["schema"])
        #expect(printed.status == 0 && printed.stdout == file)
    }

    @Test("docs/recipes.md describes every key the loader and the manifest reader accept")
    func reference() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/docs/recipes.md", encoding: .utf8)
        let keys =
            RecipeLoader.rootKeys + RecipeLoader.layerKeys + RecipeLoader.userKeys + RecipeLoader.copyKeys + RecipeLoader.contextKeys
            + RecipeLoader.policyKeys + RecipeLoader.filePolicyKeys + RecipeLoader.toolsetKeys + RecipeLoader.probeKeys + RecipeLoader.healthcheckKeys
            + ContextManifest.keys + ContextManifest.configKeys + ContextManifest.repoKeys
        for key in Set(keys).sorted() {
            #expect(
                text.contains("`\(key)`") || text.contains("`\(key),") || text.contains(", \(key)") || text.contains("{\(key),")
                    || text.contains(" \(key)}") || text.contains(", \(key),") || text.contains("`\(key) ") || text.contains("| \(key)"),
                "docs/recipes.md does not mention '\(key)'")
        }
    }
}
