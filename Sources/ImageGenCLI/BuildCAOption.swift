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

/// `--build-ca FILE` (or IMAGEGEN_BUILD_CA): certificates the pip and npm builder stages trust,
/// for a TLS-intercepting proxy. They reach builder stages only, never an image, and are not a
/// hash input: another proxy rebuilds nothing.
struct BuildCAOption: ParsableArguments {
    @Option(name: .customLong("build-ca"), help: ArgumentHelp("PEM certificates pip and npm trust in builder stages (default: IMAGEGEN_BUILD_CA).", valueName: "FILE"))
    var buildCA: String?

    /// The certificates, or nil; a file that is not PEM certificates, or holds a private key, is refused.
    func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [UInt8]? {
        guard let path = buildCA ?? environment["IMAGEGEN_BUILD_CA"].flatMap({ $0.isEmpty ? nil : $0 }) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure("--build-ca \(path): cannot read it", code: .badInput)
        }
        let text = String(decoding: data, as: UTF8.self)
        guard text.contains("-----BEGIN CERTIFICATE-----") else {
            throw CommandFailure("--build-ca \(path): not PEM certificates (no BEGIN CERTIFICATE)", code: .badInput)
        }
        if let finding = SecretScanner.scan(Array(data)).findings.first {
            throw CommandFailure("--build-ca \(path): holds a secret (\(finding.summary) [\(finding.rule)]); give certificates only", code: .badInput)
        }
        return Array(data)
    }
}
