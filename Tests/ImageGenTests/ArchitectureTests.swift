import Foundation
import Testing

/// docs/architecture.md's layering, kept by a test: a folder of Sources/ImageGen uses only the
/// types of the folders before it in this order (a back edge fails here, naming both ends).
@Suite("architecture")
struct ArchitectureTests {
    static let order = ["Support", "Values", "Diagnostics", "Secrets", "YAML", "Archive", "Context", "Recipe", "Generate", "Import", "Plan",
                        "EngineState", "Build", "Verify", "Release"]

    static func sources(_ folder: String) throws -> [(file: String, code: [String])] {
        let directory = repositoryRoot + "/Sources/ImageGen/" + folder
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".swift") }.sorted().map { name in
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            // Code only: comments may name any type.
            let code = text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            return (folder + "/" + name, code)
        }
    }

    /// The types a folder declares at the top level (nested ones are named through their outer type).
    static func declaredTypes(_ folder: String) throws -> Set<String> {
        var names = Set<String>()
        let pattern = try NSRegularExpression(pattern: #"^(?:public |package |final |indirect )*(?:struct|enum|class|actor|protocol|typealias)\s+([A-Z][A-Za-z0-9]*)"#)
        for (_, code) in try sources(folder) {
            for line in code {
                for match in pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)) {
                    if let range = Range(match.range(at: 1), in: line) { names.insert(String(line[range])) }
                }
            }
        }
        return names
    }

    @Test("no stage uses a later one")
    func noBackEdges() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/Sources/ImageGen").filter { !$0.hasSuffix(".swift") }
        #expect(Set(folders) == Set(Self.order), "a folder is missing from the order (and from docs/architecture.md): \(Set(folders).symmetricDifference(Self.order))")
        var edges: [String] = []
        for (index, folder) in Self.order.enumerated() {
            var later: [String: String] = [:]
            for other in Self.order.dropFirst(index + 1) {
                for name in try Self.declaredTypes(other) where later[name] == nil { later[name] = other }
            }
            for (file, code) in try Self.sources(folder) {
                for line in code {
                    for (name, owner) in later where line.range(of: #"\b\#(name)\b"#, options: .regularExpression) != nil {
                        edges.append("\(file) uses \(owner).\(name)")
                    }
                }
            }
        }
        #expect(edges.isEmpty, "back edges:\n\(Set(edges).sorted().joined(separator: "\n"))")
    }
}
