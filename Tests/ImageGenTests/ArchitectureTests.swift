import Foundation
import Testing

/// docs/architecture.md's layering. Between targets the compiler keeps it (a target cannot use
/// one it does not depend on, and SwiftPM refuses cycles): this test checks that Package.swift
/// declares only edges down the pipeline. Inside the stages target (`ImageGen`), whose folders
/// run in order, a folder may use only the types of the folders before it.
@Suite("architecture")
struct ArchitectureTests {
    /// The project's targets, bottom first: each may depend only on targets before it.
    static let targets = [
        "CArchive", "CSystemShims", "CByteScan", "ContainerBasics", "DockerEngine", "ContainerRegistry",
        "ImageGenValues", "BuildContext", "Recipes", "Planning", "LayerInspection", "Inventory", "RegistryCache", "ImageGen", "ImageGenCLI",
        "imagegen",
    ]
    /// The clients a reader could take for any project: they know nothing of imagegen.
    static let reusable: [String: Set<String>] = [
        "ContainerBasics": [], "DockerEngine": ["ContainerBasics"], "ContainerRegistry": ["ContainerBasics"],
    ]

    /// Each non-test target's dependencies on other targets of the package, read from Package.swift.
    static func declaredDependencies() throws -> [String: [String]] {
        let text = try String(contentsOfFile: repositoryRoot + "/Package.swift", encoding: .utf8)
        var result: [String: [String]] = [:]
        let pattern = try NSRegularExpression(pattern: #"\.(target|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)""#)
        let nsText = text as NSString
        for match in pattern.matches(in: text, range: NSRange(location: 0, length: nsText.length)) {
            let name = nsText.substring(with: match.range(at: 2))
            // The call's text: up to the parenthesis that closes it.
            var depth = 0
            var end = match.range.location
            for (offset, character) in nsText.substring(from: match.range.location).enumerated() {
                if character == "(" { depth += 1 }
                if character == ")" { depth -= 1; if depth == 0 { end = match.range.location + offset; break } }
            }
            let call = nsText.substring(with: NSRange(location: match.range.location, length: end - match.range.location))
            guard let list = call.range(of: #"dependencies:\s*\[(.*?)\]"#, options: .regularExpression) else {
                result[name] = []
                continue
            }
            // Plain strings are targets; `.product(name:…)` entries are other packages'.
            let body = String(call[list]).replacingOccurrences(of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
            result[name] = body.matches(of: /"([^"]+)"/).map { String($0.1) }
        }
        return result
    }

    @Test("Package.swift: every target depends only on targets before it in the pipeline; the clients on nothing of imagegen's")
    func targetLayering() throws {
        let declared = try Self.declaredDependencies()
        #expect(Set(declared.keys).isSuperset(of: Self.targets.filter { $0 != "CArchive" }), "a target is missing from the order: \(Set(declared.keys).subtracting(Self.targets))")
        var edges: [String] = []
        for (name, dependencies) in declared {
            guard let position = Self.targets.firstIndex(of: name) else { continue }
            for dependency in dependencies where (Self.targets.firstIndex(of: dependency) ?? Int.max) >= position {
                edges.append("\(name) → \(dependency)")
            }
        }
        #expect(edges.isEmpty, "back edges in Package.swift: \(edges.sorted())")
        for (client, allowed) in Self.reusable {
            #expect(Set(declared[client] ?? []).isSubset(of: allowed), "\(client) depends on \(declared[client] ?? [])")
        }
        // And the documentation draws the same targets.
        let architecture = try String(contentsOfFile: repositoryRoot + "/docs/architecture.md", encoding: .utf8)
        for target in Self.targets where !target.hasPrefix("C") || target == "ContainerBasics" || target == "ContainerRegistry" {
            #expect(architecture.contains("`\(target)`"), "docs/architecture.md does not name \(target)")
        }
    }

    // MARK: - Inside the stages target

    static let stages = ["EngineState", "Build", "Verify", "Describe", "Release"]

    static func sources(_ folder: String) throws -> [(file: String, code: [String])] {
        let directory = repositoryRoot + "/Sources/ImageGen/" + folder
        return try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".swift") }.sorted().map { name in
            let text = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            let code = text.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            return (folder + "/" + name, code)
        }
    }

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

    @Test("inside the stages target: engine state, then build, verify, release; no folder uses a later one")
    func stageFolders() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/Sources/ImageGen").filter { !$0.hasSuffix(".swift") }
        #expect(Set(folders) == Set(Self.stages), "a folder is missing from the order: \(Set(folders).symmetricDifference(Self.stages))")
        var edges: [String] = []
        for (index, folder) in Self.stages.enumerated() {
            var later: [String: String] = [:]
            for other in Self.stages.dropFirst(index + 1) {
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

    /// Spellings that exist in Glibc only (macOS's Darwin has other names, or none).
    static let linuxOnly = [
        "Glibc.", "st_mtim", "st_ctim", "st_atim", "SOCK_CLOEXEC", "SOCK_STREAM.rawValue", "MSG_NOSIGNAL", "posix_fadvise", "/proc/self/exe", "malloc_trim",
    ]

    @Test("no Linux-only call outside a file whose name says Linux (each with its Darwin branch there)")
    func linuxOnlyCalls() throws {
        let root = repositoryRoot + "/Sources"
        let files = try #require(FileManager.default.enumerator(atPath: root)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 100)
        for file in files where !file.contains("Linux") {
            let text = try String(contentsOfFile: "\(root)/\(file)", encoding: .utf8)
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let code = line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for spelling in Self.linuxOnly where code.contains(spelling) {
                    Issue.record("Sources/\(file):\(index + 1): '\(spelling)' is Linux-only: call SystemCalls (SystemCalls+LinuxDarwin.swift)")
                }
            }
        }
        let platform = try String(contentsOfFile: root + "/ContainerBasics/System/SystemCalls+LinuxDarwin.swift", encoding: .utf8)
        #expect(platform.contains("#if os(Linux)") && platform.contains("Darwin"))
    }
}
