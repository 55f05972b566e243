import CByteScan
import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The scanner's kernels agree, and the repository's own recipes raise no finding.
@Suite("Secret rules: kernels and recipes")
struct SecretKernelTests {
    @Test("every recipe in recipes/ validates with no secret finding")
    func recipesValidate() throws {
        let recipes = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/recipes").filter { $0.hasSuffix(".yaml") }
        #expect(!recipes.isEmpty)
        for recipe in recipes {
            let (_, diagnostics) = Planner.plan(recipeAt: repositoryRoot + "/recipes/" + recipe, cache: FileDigestCache(file: nil))
            #expect(!diagnostics.items.contains { $0.message.contains("secret") }, "\(recipe): \(diagnostics.sorted)")
        }
    }

    @Test("the AVX2, SSE2 and byte-at-a-time kernels find the same candidates (those this processor runs)")
    func kernelsAgree() throws {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("aAgsrkxnpdhHSKeyJL0MNO-_.=:\"ipz \nBbCPqtu<".utf8)
        for round in 0..<40 {
            let length = 64 + Int(generator.next() % 4000)
            let bytes = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            var results: [[Int]] = []
            for level in 0...imagegen_secret_scan_best() {
                imagegen_secret_scan_level(level)
                var found: [Int] = []
                bytes.withUnsafeBufferPointer { buffer in
                    var i = 0
                    while i < length {
                        i = imagegen_next_secret_candidate(buffer.baseAddress!, length, i, length)
                        if i < length { found.append(i); i += 1 }
                    }
                }
                results.append(found)
            }
            imagegen_secret_scan_level(-1)
            #expect(Set(results).count == 1, "round \(round): the kernels disagree")
            #expect(!results[0].isEmpty)
        }
    }
}
