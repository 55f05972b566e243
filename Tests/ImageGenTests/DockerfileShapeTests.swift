import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The Dockerfiles imagegen generates: their shapes, and the checked-in generated/ is current.
@Suite("generated Dockerfiles")
struct DockerfileShapeTests {
    @Test("Dockerfiles of every shape: busybox, alpine, pinned digests, pipes, env, copies, entrypoints")
    func shapes() throws {
        let (plan, diagnostics) = SampleRecipes.planShapes()
        let layers = try #require(plan?.layers, "\(diagnostics.sorted)")
        #expect(layers.count == 5)
        let byName = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.dockerfile) })
        #expect(byName["tiny"]?.contains("SHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]") == true)
        #expect(byName["alpine-tools"]?.contains("apk add --no-cache") == true)
        #expect(byName["debian-child"]?.contains("USER 0:0") == true)
        #expect(byName["debian-child"]?.hasSuffix("LABEL dev.imagegen.content-hash=\"${IMAGEGEN_CONTENT_HASH}\"\n") == true)
    }

    @Test("the checked-in generated/ is current", arguments: SampleRecipes.repositoryRecipes)
    func checkedIn(recipe: String) throws {
        let (plan, _) = Planner.plan(recipeAt: repositoryRoot + "/recipes/\(recipe).yaml", cache: FileDigestCache(file: nil))
        let built = try #require(plan)
        #expect(GeneratedDirectory.check(built, against: repositoryRoot + "/generated").isEmpty, "run: imagegen generate recipes/\(recipe).yaml")
    }
}
