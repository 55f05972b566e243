import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
import Testing

/// What an integration test of a recipe works with: the engine, a name no other test uses
/// (image names derive from it), and a scratch directory.
final class RecipeFixture: @unchecked Sendable {
    let engine: DockerEngine
    let name: String
    let scratch = Scratch()
    private let lock = NSLock()
    private var extra: [String] = []

    init(engine: DockerEngine, name: String) {
        self.engine = engine
        self.name = name
    }

    func removeAfterwards(_ reference: ImageReference) { removeAfterwards(reference.description) }

    /// Also removes `reference` (an image the test made beside the recipe's) at the end.
    func removeAfterwards(_ reference: String) {
        lock.lock()
        extra.append(reference)
        lock.unlock()
    }

    private var references: [String] {
        lock.lock()
        defer { lock.unlock() }
        return extra
    }

    fileprivate func cleanUp() async {
        await EngineFixture.removeImages(ofRecipe: name, on: engine)
        for reference in references { try? await engine.removeImage(reference, force: true) }
    }
}

/// Runs `body` with a fresh ``RecipeFixture`` and awaits the removal of everything it built,
/// whether `body` returns or throws (no cleanup is left to a task nobody waits for).
func withRecipeFixture<T>(_ prefix: String, _ body: (RecipeFixture) async throws -> T) async throws -> T {
    let fixture = RecipeFixture(engine: try await EngineFixture.engine(), name: EngineFixture.uniqueName(prefix))
    do {
        let result = try await body(fixture)
        await fixture.cleanUp()
        return result
    } catch {
        await fixture.cleanUp()
        throw error
    }
}
