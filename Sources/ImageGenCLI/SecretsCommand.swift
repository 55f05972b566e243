import ArgumentParser
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct SecretsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets",
        abstract: "Scan files and directories with the secret rules that validate and verify apply; values are never printed.",
        discussion: """
            Prints each finding as file:line:col with its rule. Binary files (a NUL byte in the \
            first 8000 bytes) are skipped, and so are the names of files that hold credentials by \
            convention (.env, id_rsa, .netrc), which are findings themselves. Exit codes: 0 no \
            secret, 1 secrets found, 2 a path cannot be read.
            """)

    @Argument(help: "Files or directories to scan.")
    var paths: [String]

    @Option(help: "Output: text or json (one object per finding).")
    var format: OutputFormat = .text

    func run() throws {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CommandFailure("\(path): no such file or directory", code: .badInput)
            }
            if isDirectory.boolValue {
                let enumerator = FileManager.default.enumerator(atPath: path)
                while let relative = enumerator?.nextObject() as? String {
                    let full = path + "/" + relative
                    var directory: ObjCBool = false
                    if FileManager.default.fileExists(atPath: full, isDirectory: &directory), !directory.boolValue { files.append(full) }
                }
            } else {
                files.append(path)
            }
        }
        var count = 0
        for file in files.sorted() {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CommandFailure("cannot read \(file)", code: .badInput)
            }
            var findings = SecretScanner.scan(Array(data)).findings
            if let byName = SecretScanner.nameFinding(for: (file as NSString).lastPathComponent) { findings.insert(byName, at: 0) }
            for finding in findings {
                count += 1
                switch format {
                case .text:
                    let position = finding.line > 0 ? ":\(finding.line):\(finding.column)" : ""
                    Console.out("\(file)\(position): secret: \(finding)")
                case .json:
                    Console.out(
                        JSONValue.object([
                            "path": .string(file), "line": .int(Int64(finding.line)), "column": .int(Int64(finding.column)),
                            "rule": .string(finding.rule), "summary": .string(finding.summary),
                        ]).canonical)
                }
            }
        }
        Console.error("\(Console.count(files.count, "file")) scanned, \(Console.count(count, "secret")) found")
        if count > 0 { throw ExitCode.failed }
    }
}
