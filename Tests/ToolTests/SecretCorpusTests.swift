import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The rules measured on what people actually paste: scripts/secret-corpus makes, at run time,
/// fakes of every kind the rules know and look-alikes that are not secrets.
@Suite("Secret rules on a corpus")
struct SecretCorpusTests {
    struct Verdicts {
        var truePositives: [String] = []
        var falseNegatives: [String] = []
        var falsePositives: [String] = []
        var trueNegatives: [String] = []

        var recall: Double { Double(truePositives.count) / Double(max(1, truePositives.count + falseNegatives.count)) }
        var precision: Double { Double(truePositives.count) / Double(max(1, truePositives.count + falsePositives.count)) }
    }

    /// Writes the corpus for `seed` (`set`: seen, unseen or all) and scans each sample with imagegen's rules.
    static func measure(seed: Int, set: String = "seen") throws -> Verdicts {
        let scratch = Scratch()
        let made = try run("/usr/bin/env", ["python3", repositoryRoot + "/scripts/secret-corpus", scratch.path, "--seed", String(seed), "--set", set])
        try #require(made.status == 0, "\(made.stderr)")
        let labels = try #require(try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: scratch.url("labels.json")))).objectValue)
        var verdicts = Verdicts()
        for (file, expected) in labels.sorted(by: { $0.key < $1.key }) {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: scratch.url(file))))
            let flagged = !SecretScanner.scan(bytes).findings.isEmpty
            switch (expected == .bool(true), flagged) {
            case (true, true): verdicts.truePositives.append(file)
            case (true, false): verdicts.falseNegatives.append(file)
            case (false, true): verdicts.falsePositives.append(file)
            case (false, false): verdicts.trueNegatives.append(file)
            }
            // Whatever was found, the redactor leaves nothing the rules would find again.
            let text = String(decoding: bytes, as: UTF8.self)
            #expect(SecretScanner.scan(Redactor.redact(text)).isEmpty, "\(file): something survives redaction")
        }
        return verdicts
    }

    @Test("recall and precision of at least 0.95 on fakes of every kind and their look-alikes", arguments: [2026, 7, 99])
    func corpus(seed: Int) throws {
        let verdicts = try Self.measure(seed: seed)
        #expect(verdicts.truePositives.count + verdicts.falseNegatives.count >= 40)
        #expect(verdicts.falsePositives.count + verdicts.trueNegatives.count >= 40)
        #expect(verdicts.recall >= 0.95, "missed: \(verdicts.falseNegatives)")
        #expect(verdicts.precision >= 0.95, "false alarms: \(verdicts.falsePositives)")
    }

    @Test(
        "recall and precision of at least 0.97 on kinds written after the rules (60 and more of each): Basic headers anywhere, URL passwords with punctuation, account ids with their tokens, CLI flags; local default credentials left alone",
        arguments: [2026, 7, 99])
    func unseenCorpus(seed: Int) throws {
        let verdicts = try Self.measure(seed: seed, set: "unseen")
        #expect(verdicts.truePositives.count + verdicts.falseNegatives.count >= 60)
        #expect(verdicts.falsePositives.count + verdicts.trueNegatives.count >= 60)
        #expect(verdicts.recall >= 0.97, "missed: \(verdicts.falseNegatives)")
        #expect(verdicts.precision >= 0.97, "false alarms: \(verdicts.falsePositives)")
        // The kinds the issue names, by name: each caught, and the default credentials not.
        for kind in ["basic-nginx", "basic-wget", "url-password-tilde", "url-password-percent", "url-password-bang", "twilio-pair-env", "twilio-pair-code"] {
            #expect(verdicts.truePositives.contains { $0.hasSuffix("-\(kind).txt") }, "\(kind) missed")
        }
        for kind in ["local-postgres-default", "local-mysql-root", "local-amqp-guest", "twilio-sid-alone"] {
            #expect(verdicts.trueNegatives.contains { $0.hasSuffix("-\(kind).txt") }, "\(kind) flagged")
        }
    }

    @Test("the repository itself holds nothing the rules call a secret: recipes, generated files, docs, scripts and test fixtures")
    func repositoryIsClean() throws {
        let listed = try run("/usr/bin/env", ["git", "-C", repositoryRoot, "ls-files", "-z"])
        try #require(listed.status == 0, "\(listed.stderr)")
        let files = listed.stdout.split(separator: "\0").map(String.init)
        #expect(files.contains("recipes/sandbox.yaml"))
        var findings: [String] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: repositoryRoot + "/" + file) else { continue }
            for finding in SecretScanner.scan(Array(data)).findings { findings.append("\(file):\(finding.line):\(finding.column) \(finding.rule)") }
        }
        #expect(findings.isEmpty, "false positives: \(findings)")
    }
}
