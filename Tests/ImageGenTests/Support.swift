import Foundation
import Testing
@testable import ImageGen

/// A temporary directory removed when the value goes away.
final class Scratch {
    let path: String

    init(_ label: String = "imagegen-test") {
        var template = Array((NSTemporaryDirectory() + "/\(label).XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func url(_ relative: String) -> String { path + "/" + relative }

    @discardableResult
    func write(_ relative: String, _ text: String, executable: Bool = false) -> String {
        write(relative, bytes: Array(text.utf8), executable: executable)
    }

    @discardableResult
    func write(_ relative: String, bytes: [UInt8], executable: Bool = false) -> String {
        let full = url(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: full, contents: Data(bytes))
        chmod(full, executable ? 0o755 : 0o644)
        return full
    }

    func mkdir(_ relative: String) {
        try! FileManager.default.createDirectory(atPath: url(relative), withIntermediateDirectories: true)
    }

    func symlink(_ relative: String, to target: String) {
        let full = url(relative)
        try! FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    func read(_ relative: String) -> String? {
        FileManager.default.contents(atPath: url(relative)).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// The smallest valid recipe, on the busybox test image; tests append to it.
let minimalRecipe = """
    recipe: demo
    layers:
      base:
        from: imagegen-test/busybox:1
        distro: busybox
        user: {name: dev, uid: 1000}
        workdir: /workspace

    """

/// Loads, resolves and plans a recipe written into `scratch`, with an in-memory digest cache.
func plan(_ yaml: String, in scratch: Scratch, file: String = "recipe.yaml", overrides: [String: String] = [:]) -> (BuildPlan?, Diagnostics) {
    let path = scratch.write(file, yaml)
    return Planner.plan(recipeAt: path, overrides: overrides, cache: DigestCache(file: nil))
}

func diagnostics(for yaml: String, files: [String: String] = [:]) -> Diagnostics {
    let scratch = Scratch()
    for (path, text) in files { scratch.write(path, text) }
    return plan(yaml, in: scratch).1
}

/// Expects a diagnostic at exactly `line:column` whose message contains `text`.
func expectDiagnostic(
    _ diagnostics: Diagnostics, severity: Diagnostic.Severity = .error, line: Int, column: Int, contains text: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let found = diagnostics.items.contains {
        $0.severity == severity && $0.location.line == line && $0.location.column == column && $0.message.contains(text)
    }
    #expect(found, "no \(severity) at \(line):\(column) containing '\(text)'; got:\n\(diagnostics.sorted.map(\.description).joined(separator: "\n"))",
            sourceLocation: sourceLocation)
}

/// Runs a program and returns its exit status and output.
@discardableResult
func run(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
         stdin: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try input.fileHandleForWriting.close()
    // Read both pipes while the process runs so neither fills up.
    nonisolated(unsafe) var errorData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errorData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outputData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}

/// Finds a program on PATH.
func which(_ name: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// The imagegen executable built next to the test bundle.
var imagegenExecutable: String {
    let testBinary = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var directory = (testBinary as NSString).deletingLastPathComponent
    while !directory.isEmpty, directory != "/" {
        let candidate = directory + "/imagegen"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        directory = (directory as NSString).deletingLastPathComponent
    }
    return ".build/debug/imagegen"
}
