import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
@testable import ImageGenCLI

/// Fakes of each kind the tests plant, made at run time (the repository holds none).
enum PlantedSecrets {
    static func random(_ alphabet: String, _ count: Int, seed: UInt64) -> String {
        var generator = SplitMix64(seed: seed)
        let characters = Array(alphabet)
        return String((0..<count).map { _ in characters[Int(generator.next() % UInt64(characters.count))] })
    }

    static let alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    static let aws = "AKIA" + random("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, seed: 1)
    static let github = "ghp_" + random(alnum, 34, seed: 2) + "Z9"
    static let openAI = "sk-proj-" + random(alnum, 46, seed: 3) + "1a2"
    static let anthropic = "sk-ant-api03-" + random(alnum, 90, seed: 4) + "77"
    static let slack = "xoxb-" + random("0123456789", 12, seed: 5) + "-" + random(alnum, 24, seed: 6)
    static let genericValue = random(alnum, 30, seed: 7) + "9x"
    static let generic = "api_token=" + genericValue
    static let pemBody = random(alnum + "+/", 64, seed: 8)
    static let pem = "-----BEGIN " + "PRIVATE KEY-----\n" + pemBody + "\n" + random(alnum, 64, seed: 9) + "\n-----END PRIVATE KEY-----"

    /// (rule, the text to plant, the part of it that must never be printed, where the finding starts in it)
    static let tokens: [(rule: String, text: String, value: String, offset: Int)] = [
        ("aws-access-key-id", aws, aws, 0),
        ("github-token", github, github, 0),
        ("openai-api-key", openAI, openAI, 0),
        ("anthropic-api-key", anthropic, anthropic, 0),
        ("slack-token", slack, slack, 0),
        ("generic-secret", generic, genericValue, "api_token=".count),
    ]
}

@Suite("Secrets in recipe values")
struct RecipeSecretsTests {
    /// A recipe with `@@` where the secret goes; the finding's line and column follow from it.
    static let fields: [(name: String, template: String)] = [
        ("env value", minimalRecipe + "    env: {SOME_SETTING: \"@@\"}\n"),
        ("args value", "recipe: demo\nargs:\n  VALUE: \"@@\"\n" + minimalRecipe.dropFirst("recipe: demo\n".count) + "    run: [\"echo ${VALUE}\"]\n"),
        ("label value", minimalRecipe + "    labels: {com.example.note: \"@@\"}\n"),
        ("run line", minimalRecipe + "    run: [\"curl -s https://example.org/x?q=1 && echo @@\"]\n"),
        ("probe", minimalRecipe + "    probes: [\"echo @@\"]\n"),
        ("cmd", minimalRecipe + "    cmd: [\"/bin/sh\", \"@@\"]\n"),
        ("entrypoint", minimalRecipe + "    entrypoint: [\"@@\"]\n"),
        ("description", minimalRecipe + "    description: \"@@\"\n"),
        ("toolset run", minimalRecipe + "    toolsets: [t]\ntoolsets:\n  t:\n    run: [\"echo @@\"]\n"),
        ("toolset probe", minimalRecipe + "    toolsets: [t]\ntoolsets:\n  t:\n    probes: [\"echo @@\"]\n"),
        ("toolset env", minimalRecipe + "    toolsets: [t]\ntoolsets:\n  t:\n    env: {NOTE: \"@@\"}\n"),
        ("recipe label", "recipe: demo\nlabels:\n  com.example.owner: \"@@\"\n" + minimalRecipe.dropFirst("recipe: demo\n".count)),
    ]

    static var cases: [(String, String, String, String, Int)] {
        fields.flatMap { field in PlantedSecrets.tokens.map { (field.name, field.template, $0.rule, $0.text, $0.offset) } }
    }

    @Test("every field, every rule: refused at the value's line and column, naming the rule and never the value", arguments: cases)
    func refused(field: String, template: String, rule: String, secret: String, offset: Int) throws {
        let yaml = template.replacingOccurrences(of: "@@", with: secret)
        let lines = template.split(separator: "\n", omittingEmptySubsequences: false)
        let line = try #require(lines.firstIndex { $0.contains("@@") }) + 1
        let column = try #require(lines[line - 1].range(of: "@@")).lowerBound.utf16Offset(in: lines[line - 1]) + 1 + offset
        let found = diagnostics(for: yaml)
        expectDiagnostic(found, line: line, column: column, contains: "[\(rule)]")
        for diagnostic in found.items {
            #expect(!diagnostic.description.contains(secret) && !diagnostic.description.contains(String(secret.suffix(16))), "\(field): \(diagnostic)")
        }
    }

    @Test("a private key in a block scalar is refused")
    func privateKey() {
        let yaml = minimalRecipe + "    description: |\n      " + PlantedSecrets.pem.replacingOccurrences(of: "\n", with: "\n      ") + "\n"
        let found = diagnostics(for: yaml)
        #expect(found.errors.contains { $0.message.contains("[private-key]") }, "\(found.sorted)")
        #expect(!found.sorted.map(\.description).joined().contains(PlantedSecrets.pemBody))
    }

    @Test("a secret in an --arg override is refused without being shown")
    func override() {
        let scratch = Scratch()
        let yaml = "recipe: demo\nargs:\n  VALUE: \"\"\n" + minimalRecipe.dropFirst("recipe: demo\n".count)
        let found = plan(yaml, in: scratch, overrides: ["VALUE": PlantedSecrets.github]).1
        #expect(found.errors.contains { $0.message.contains("--arg VALUE: secret refused") && $0.message.contains("[github-token]") })
        #expect(!found.sorted.map(\.description).joined().contains(PlantedSecrets.github))
    }

    @Test("env names that say secret: a literal value is refused with how to pass it at run time; empty or resolving to nothing is fine")
    func secretNames() {
        let literal = diagnostics(for: minimalRecipe + "    env: {OPENAI_API_KEY: not-a-token-format-at-all}\n")
        expectDiagnostic(literal, line: 8, column: 11, contains: "docker run -e OPENAI_API_KEY")
        let allowed = """
            recipe: demo
            args:
              MAYBE_TOKEN: ""
            layers:
              base:
                from: imagegen-test/busybox:1
                distro: busybox
                user: {name: dev, uid: 1000}
                env: {GITHUB_TOKEN: "", NPM_TOKEN: "${MAYBE_TOKEN}", TOKENIZERS_PARALLELISM: "false", DB_PASSWORD_FILE: /run/secrets/db, MAX_TOKENS: "4096"}

            """
        #expect(!diagnostics(for: allowed).hasErrors, "\(diagnostics(for: allowed).sorted)")
    }

    @Test("values that could only fail later are refused now: root user, package names, OCI label shapes")
    func laterFailures() {
        let root = diagnostics(for: minimalRecipe.replacingOccurrences(of: "name: dev", with: "name: root"))
        expectDiagnostic(root, line: 6, column: 18, contains: "user.name 'root'")

        let debian = """
            recipe: demo
            layers:
              base:
                from: debian:bookworm-slim
                packages: [Python3, python3_venv, "libc6:amd64", "jq=1.6-2.1", x]

            """
        let found = diagnostics(for: debian)
        let packages = debian.split(separator: "\n")[4]
        func column(_ text: String) -> Int { packages.range(of: text)!.lowerBound.utf16Offset(in: packages) + 1 }
        expectDiagnostic(found, line: 5, column: column("Python3"), contains: "did you mean 'python3'")
        expectDiagnostic(found, line: 5, column: column("python3_venv"), contains: "did you mean 'python3-venv'")
        expectDiagnostic(found, line: 5, column: column(" x]") + 1, contains: "not a Debian package name")
        #expect(found.errors.count == 3, "\(found.sorted)")

        let alpine = "recipe: demo\nlayers:\n  base:\n    from: alpine:3.20\n    packages: [Build-Base, build-base, py3-pip@edge]\n"
        let alpineFound = diagnostics(for: alpine)
        expectDiagnostic(alpineFound, line: 5, column: 16, contains: "did you mean 'build-base'")
        #expect(alpineFound.errors.count == 1, "\(alpineFound.sorted)")

        let labels =
            minimalRecipe + """
                    labels:
                      org.opencontainers.image.source: not a url
                      org.opencontainers.image.created: yesterday
                      org.opencontainers.image.version: v1
                      org.opencontainers.image.documentation: https://example.org/docs

                """
        let labelFound = diagnostics(for: labels)
        expectDiagnostic(labelFound, line: 9, column: 7, contains: "is not a URL")
        expectDiagnostic(labelFound, line: 10, column: 7, contains: "RFC 3339")
        expectDiagnostic(labelFound, line: 11, column: 7, contains: "semantic version")
        #expect(labelFound.errors.count == 3)
    }

    @Test(
        "every command exits 2 on a recipe with a secret, and the value reaches no output, no generated file, no cache file",
        arguments: ["env: {NOTE: \"@@\"}", "run: [\"echo @@\"]", "labels: {com.example.x: \"@@\"}"])
    func noLeak(line: String) throws {
        let secret = PlantedSecrets.github
        let scratch = Scratch()
        scratch.write("recipe.yaml", minimalRecipe + "    " + line.replacingOccurrences(of: "@@", with: secret) + "\n")
        let environment = ["IMAGEGEN_CACHE_DIR": scratch.url("cache"), "DOCKER_HOST": "unix://" + scratch.url("no-engine.sock")]
        let commands: [[String]] = [
            ["validate"], ["generate", "--out", "gen"], ["generate", "--check", "--out", "gen"], ["plan"], ["plan", "--format", "json"],
            ["plan", "--explain"], ["build"], ["build", "--format", "json"], ["verify"], ["verify", "--format", "json"], ["verify", "--format", "junit"],
            ["release", "--version", "1.0.0"], ["release", "--version", "1.0.0", "--format", "json"], ["secrets", "recipe.yaml"],
        ]
        for command in commands {
            let arguments = command.first == "secrets" ? command : [command[0], "recipe.yaml"] + command.dropFirst()
            let result = try run(imagegenExecutable, arguments, directory: scratch.path, environment: environment)
            #expect(result.status == (command.first == "secrets" ? 1 : 2), "\(arguments): exit \(result.status)\n\(result.stderr)")
            for text in [result.stdout, result.stderr] {
                #expect(!text.contains(secret) && !text.contains(String(secret.dropFirst(4).prefix(20))), "\(arguments) printed the secret")
            }
            if command.first != "secrets" { #expect(result.stderr.contains("[github-token]"), "\(arguments): \(result.stderr)") }
        }
        // Nothing written holds it: generated/ was not written, and the caches hold no value.
        #expect(!FileManager.default.fileExists(atPath: scratch.url("gen")))
        for file in (FileManager.default.enumerator(atPath: scratch.path)?.allObjects as? [String]) ?? [] where file != "recipe.yaml" {
            guard let data = FileManager.default.contents(atPath: scratch.url(file)) else { continue }
            #expect(!String(decoding: data, as: UTF8.self).contains(String(secret.dropFirst(4).prefix(20))), "\(file) holds the secret")
        }
    }

    @Test("the redactor: every rule's match replaced by «redacted:RULE», the rest kept")
    func redactor() {
        for token in PlantedSecrets.tokens {
            let text = "before \(token.text) after"
            let redacted = Redactor.redact(text)
            #expect(!redacted.contains(token.value), "\(token.rule): \(redacted)")
            #expect(redacted.contains("«redacted:\(token.rule)»"))
            #expect(redacted.hasPrefix("before ") && redacted.hasSuffix(" after"))
        }
        #expect(Redactor.redact("api_token=" + PlantedSecrets.genericValue) == "api_token=«redacted:generic-secret»")
        let pem = Redactor.redact("key:\n" + PlantedSecrets.pem + "\ndone")
        #expect(pem == "key:\n«redacted:private-key»\ndone")
        #expect(Redactor.redact("nothing here: a=b, c: d") == "nothing here: a=b, c: d")
    }

    @Test("a private key printed line by line is redacted to its end line")
    func lineRedactor() {
        var redactor = LineRedactor()
        let lines = ("echo start\n" + PlantedSecrets.pem + "\nafter the key").split(separator: "\n").map { redactor.redact(String($0)) }
        #expect(lines.first == "echo start")
        #expect(lines.last == "after the key")
        #expect(lines.dropFirst().dropLast().allSatisfy { $0 == "«redacted:private-key»" }, "\(lines)")
        // A header in documentation, with no body after it, ends the redaction at the next line.
        var docs = LineRedactor()
        #expect(docs.redact("the key starts with -----BEGIN " + "PRIVATE KEY----- and then") == "the key starts with «redacted:private-key»")
        #expect(docs.redact("more text follows here.") == "more text follows here.")
    }

    @Test("console output passes the redactor")
    func console() {
        #expect(Console.redacted("token " + PlantedSecrets.slack) == "token «redacted:slack-token»")
    }
}
