import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Fake credentials, assembled at run time so the repository itself holds none.
enum FakeSecrets {
    static let aws = "AKIA" + "IOSFODNN7" + "EXAMPLX"
    static let github = "ghp_" + String(repeating: "a1B2", count: 9)
    static let githubFineGrained = "github_pat_" + String(repeating: "A1b2C3", count: 14)
    static let openAI = "sk-proj-" + String(repeating: "Zx9Yw8", count: 8)
    static let anthropic = "sk-ant-api03-" + String(repeating: "Qq7Rr6Ss5", count: 10)
    static let slack = "xoxb-" + "1234567890-abcdefABCDEF"
    static let pemBody = "MIIEowIBAAKCAQEA" + String(repeating: "q8Zr3KvT0wXy", count: 6)
    static let pem = "-----BEGIN " + "RSA PRIVATE KEY-----\n\(pemBody)\n-----END RSA PRIVATE KEY-----\n"
}

@Suite("Secret scanner")
struct SecretScannerTests {
    @Test(
        "each rule finds its secret at the right line and column",
        arguments: [
            (FakeSecrets.aws, "aws-access-key-id"),
            (FakeSecrets.github, "github-token"),
            (FakeSecrets.githubFineGrained, "github-token"),
            (FakeSecrets.openAI, "openai-api-key"),
            (FakeSecrets.anthropic, "anthropic-api-key"),
            (FakeSecrets.slack, "slack-token"),
            (FakeSecrets.pem, "private-key"),
        ])
    func rules(secret: String, rule: String) {
        let text = "first line\n  key: \(secret)\n"
        let (findings, binary) = SecretScanner.scan(Array(text.utf8))
        #expect(!binary)
        #expect(findings.map(\.rule) == [rule])
        #expect(findings.first?.line == 2)
        #expect(findings.first?.column == 8)
        #expect(findings.first.map { !$0.description.contains(secret) } == true)
    }

    @Test(
        "look-alikes are not secrets",
        arguments: [
            "task-runner-configuration-for-the-build", "AKIAshort", "ghp_tooshort", "sk-learn is a library",
            "-----BEGIN PUBLIC KEY-----", "XAKIA" + "IOSFODNN7EXAMPLX", "mask-" + String(repeating: "a1", count: 20),
        ])
    func lookAlikes(text: String) {
        #expect(SecretScanner.scan(Array(text.utf8)).findings.isEmpty)
    }

    @Test("chunk boundaries do not hide a secret")
    func chunkBoundaries() {
        let text = String(repeating: "padding line\n", count: 500) + "token=\(FakeSecrets.github)\n" + FakeSecrets.pem
        let bytes = Array(text.utf8)
        let whole = SecretScanner.scan(bytes).findings
        #expect(whole.count == 2)
        for chunkSize in [1, 7, 64, 333, 4096] {
            var scanner = SecretScanner()
            var offset = 0
            while offset < bytes.count {
                let end = min(offset + chunkSize, bytes.count)
                Array(bytes[offset..<end]).withUnsafeBytes { scanner.feed($0) }
                offset = end
            }
            #expect(scanner.finish() == whole, "chunk size \(chunkSize)")
        }
    }

    @Test("binary files are skipped")
    func binary() {
        var bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0, 0, 0]
        bytes += Array(FakeSecrets.aws.utf8)
        let (findings, binary) = SecretScanner.scan(bytes)
        #expect(binary)
        #expect(findings.isEmpty)
    }

    @Test("the generic rule wants a secret-sounding key and a random-looking value")
    func generic() {
        let random = "DB_PASSWORD=" + "Xk9#mQ2$vL7pR4wZ8tN3"
        #expect(SecretScanner.scan(random).map(\.rule) == ["generic-secret"])
        #expect(SecretScanner.scan(random).first?.column == 13)
        for benign in [
            "DB_PASSWORD=changeme-changeme-changeme", "PASSWORD=${DB_PASSWORD_FROM_ENV}", "COLOR=Xk9#mQ2$vL7pR4wZ8tN3",
            "password = aaaaaaaaaaaaaaaaaaaa", "max_tokens = 4096", "password_file: /run/secrets/db", "token: xxxxxxxxxxxxxxxxxxxx",
        ] {
            #expect(SecretScanner.scan(benign).isEmpty, "\(benign)")
        }
    }

    @Test("docker config credentials are found in any file, empty ones are not")
    func dockerConfig() {
        let config = #"{"auths": {"registry.example:5000": {"auth": "# + #""cm9ib3Q6c2VjcmV0"}}}"#
        let findings = SecretScanner.scan(config)
        #expect(findings.map(\.rule) == ["docker-config-auth"])
        #expect(findings.first?.column == 47)
        #expect(SecretScanner.scan(#"{"auths": {"registry.example:5000": {}}}"#).isEmpty)
        #expect(SecretScanner.scan(#"{"auths": {"registry.example:5000": {"auth": ""}}}"#).isEmpty)
    }

    @Test("file names that hold secrets", arguments: [".env", ".env.production", "id_rsa", "id_ed25519", ".git-credentials"])
    func names(name: String) {
        #expect(SecretScanner.nameFinding(for: name) != nil)
    }

    @Test("benign names", arguments: [".env.example", "id_rsa.pub", "env", "README.md"])
    func benignNames(name: String) {
        #expect(SecretScanner.nameFinding(for: name) == nil)
    }

    @Test("a context with secrets is refused by validate, and the value is never printed")
    func refusedInContext() throws {
        let scratch = Scratch()
        scratch.write("ctx/manifest.yaml", "configs: [configs/]\n")
        scratch.write("ctx/configs/.env", "OPENAI_API_KEY=\(FakeSecrets.openAI)\n")
        scratch.write("ctx/configs/id_rsa", "not even a key\n")
        scratch.write("ctx/configs/server.pem", FakeSecrets.pem)
        scratch.write("ctx/configs/settings.yaml", "github: \(FakeSecrets.github)\nanthropic: \(FakeSecrets.anthropic)\naws: \(FakeSecrets.aws)\n")
        scratch.write("ctx/configs/fine.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        let recipe = scratch.write("recipe.yaml", minimalRecipe + "    context: {dir: ctx}\n")

        let result = try run(imagegenExecutable, ["validate", recipe], environment: ["IMAGEGEN_CACHE_DIR": scratch.url("cache")])
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix("ctx/configs/.env: error: secret refused: environment file '.env' (usually holds credentials) [dotenv-file] (value redacted)") })
        #expect(lines.contains { $0.hasSuffix("ctx/configs/.env:1:16: error: secret refused: OpenAI API key [openai-api-key] (value redacted)") })
        #expect(lines.contains { $0.hasSuffix("ctx/configs/id_rsa: error: secret refused: SSH private key file 'id_rsa' [ssh-private-key-file] (value redacted)") })
        #expect(lines.contains { $0.hasSuffix("ctx/configs/server.pem:1:1: error: secret refused: PEM private key [private-key] (value redacted)") })
        #expect(lines.contains { $0.hasSuffix("ctx/configs/settings.yaml:1:9: error: secret refused: GitHub token [github-token] (value redacted)") })
        #expect(lines.contains { $0.hasSuffix("ctx/configs/settings.yaml:2:12: error: secret refused: Anthropic API key [anthropic-api-key] (value redacted)") })
        #expect(lines.contains { $0.hasSuffix("ctx/configs/settings.yaml:3:6: error: secret refused: AWS access key id [aws-access-key-id] (value redacted)") })
        #expect(!lines.contains { $0.contains("fine.pem") })
        for secret in [FakeSecrets.openAI, FakeSecrets.github, FakeSecrets.anthropic, FakeSecrets.aws, FakeSecrets.pemBody] {
            #expect(!result.stderr.contains(secret) && !result.stdout.contains(secret))
            #expect(!result.stderr.contains(String(secret.prefix(12))))
        }
    }

    @Test("a secret excluded by .dockerignore is not baked, so not refused")
    func ignoredSecret() {
        let scratch = Scratch()
        scratch.write("ctx/manifest.yaml", "docs: [docs/]\n")
        scratch.write("ctx/docs/a.md", "a\n")
        scratch.write("ctx/.env", "TOKEN=\(FakeSecrets.github)\n")
        scratch.write("ctx/.dockerignore", ".env\n")
        let (plan, diagnostics) = RecipeTestSupport.plan(minimalRecipe + "    context: {dir: ctx}\n", in: scratch)
        #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
        #expect(plan?.layers.first?.entries.contains { $0.path.hasSuffix(".env") } == false)
    }
}
