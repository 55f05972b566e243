import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Thousands of damaged recipes: each must give diagnostics or a plan, never a crash.
@Suite("Robustness")
struct RobustnessTests {
    static let repository = repositoryRoot

    enum Mutation: CaseIterable { case truncate, flipByte, renameKey, deleteLine, duplicateLine, reindent, insertSyntax }

    static func mutate(_ text: [UInt8], _ mutation: Mutation, _ random: inout SplitMix64) -> [UInt8] {
        guard !text.isEmpty else { return text }
        var bytes = text
        let lines = String(decoding: text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
        switch mutation {
        case .truncate:
            bytes = Array(bytes.prefix(Int(random.next() % UInt64(bytes.count))))
        case .flipByte:
            let index = Int(random.next() % UInt64(bytes.count))
            bytes[index] ^= UInt8(truncatingIfNeeded: random.next() | 1)
        case .renameKey:
            var edited = lines
            let index = Int(random.next() % UInt64(lines.count))
            if let colon = edited[index].firstIndex(of: ":") {
                let replacement = pick(["from", "packages", "layers", "user", "nonsense", "", "FROM", "recipe", "context", "x-y"])
                let indent = edited[index].prefix { $0 == " " || $0 == "-" }
                edited[index] = indent + replacement + edited[index][colon...]
            }
            bytes = Array(edited.joined(separator: "\n").utf8)
        case .deleteLine:
            var edited = lines
            edited.remove(at: Int(random.next() % UInt64(lines.count)))
            bytes = Array(edited.joined(separator: "\n").utf8)
        case .duplicateLine:
            var edited = lines
            let index = Int(random.next() % UInt64(lines.count))
            edited.insert(edited[index], at: index)
            bytes = Array(edited.joined(separator: "\n").utf8)
        case .reindent:
            var edited = lines
            let index = Int(random.next() % UInt64(lines.count))
            edited[index] = random.next() % 2 == 0 ? "  " + edited[index] : String(edited[index].drop { $0 == " " })
            bytes = Array(edited.joined(separator: "\n").utf8)
        case .insertSyntax:
            let index = Int(random.next() % UInt64(bytes.count))
            let snippet = pick([
                "{", "[", "]", "&anchor ", "*anchor", "!!binary ", ": ", "- ", "${X}", "\t", "'", "\"", "? ", "|", ">-", "%YAML 1.2\n", "\u{FEFF}", "~", "0x1F", "*",
            ])
            bytes.insert(contentsOf: Array(snippet.utf8), at: index)
        }
        return bytes
    }

    @Test("mutated recipes yield diagnostics or a plan, never a crash")
    func mutatedRecipes() throws {
        let path = Self.repository + "/recipes/sandbox.yaml"
        let original = try #require(FileManager.default.contents(atPath: path).map(Array.init))
        let cache = FileDigestCache(file: nil)
        var random = SplitMix64(seed: 2026)
        var outcomes = (planned: 0, refused: 0)
        for iteration in 0..<3000 {
            var bytes = original
            for _ in 0..<(1 + Int(random.next() % 3)) {
                bytes = Self.mutate(bytes, Mutation.allCases[Int(random.next() % UInt64(Mutation.allCases.count))], &random)
            }
            let (recipe, loadDiagnostics) = RecipeLoader.load(data: Data(bytes), path: path)
            var diagnostics = loadDiagnostics
            var plan: BuildPlan?
            if let recipe {
                let (resolved, resolveDiagnostics) = RecipeResolver.resolve(recipe)
                diagnostics.append(contentsOf: resolveDiagnostics)
                let (planned, planDiagnostics) = Planner.plan(resolved, cache: cache)
                diagnostics.append(contentsOf: planDiagnostics)
                plan = diagnostics.hasErrors ? nil : planned
            }
            if diagnostics.hasErrors {
                outcomes.refused += 1
            } else {
                #expect(plan != nil, "iteration \(iteration): no error and no plan")
                outcomes.planned += 1
            }
            for diagnostic in diagnostics.items {
                #expect(!diagnostic.message.isEmpty && diagnostic.location.line >= 0 && diagnostic.location.column >= 0)
            }
        }
        // The mutations must exercise both outcomes, or the test is not testing much.
        #expect(outcomes.planned > 100 && outcomes.refused > 1000, "\(outcomes)")
    }
}
