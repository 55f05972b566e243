import ContainerRegistry
import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

@Suite("release rules")
struct ReleaseLogicTests {
    func v(_ text: String) throws -> SemVer { try SemVer(parsing: text) }

    @Test(
        "which tags a version gets",
        arguments: [
            ("1.4.2", "1.4.2", ["1.4", "1", "latest"]),
            ("0.3.1", "0.3.1", ["0.3", "latest"]),
            ("1.5.0-rc.1", "1.5.0-rc.1", []),
            ("1.4.2+build.7", "1.4.2_build.7", ["1.4", "1", "latest"]),
            ("2.0.0-beta+exp.sha.5114f85", "2.0.0-beta_exp.sha.5114f85", []),
        ])
    func tags(version: String, exact: String, floating: [String]) throws {
        let tags = TagPlanner.tags(for: try v(version))
        #expect(tags.exact.value == exact)
        #expect(tags.floating.map(\.value) == floating)
        #expect(Tag.isValid(tags.exact.value))
    }

    /// An image ID and a content hash made from a letter, for tables of cases.
    func id(_ letter: Character) throws -> ImageID { try ImageID(sha256: String(repeating: letter, count: 64)) }
    func hash(_ letter: Character) throws -> ContentHash { try ContentHash(parsing: String(repeating: letter, count: 64)) }

    @Test("an exact tag is created, kept when it is this release, refused when it names anything else")
    func exact() throws {
        let version = try v("1.4.2")
        let repository = try Repository(parsing: "r")
        #expect(try TagPlanner.exact("1.4.2", repository: repository, version: version, contentHash: hash("a"), current: nil) == .create)
        let same = TagPlanner.Current(imageID: try id("a"), version: version, contentHash: try hash("a"))
        #expect(try TagPlanner.exact("1.4.2", repository: repository, version: version, contentHash: hash("a"), current: same) == .keep("already released"))
        let other = TagPlanner.Current(imageID: try id("b"), version: version, contentHash: try hash("b"))
        #expect(throws: ReleaseError.self) { try TagPlanner.exact("1.4.2", repository: repository, version: version, contentHash: hash("a"), current: other) }
        let unlabelled = TagPlanner.Current(imageID: try id("c"), version: nil, contentHash: nil)
        #expect(throws: ReleaseError.self) { try TagPlanner.exact("1.4.2", repository: repository, version: version, contentHash: hash("a"), current: unlabelled) }
    }

    @Test("floating tags move only forward")
    func floating() throws {
        let older = TagPlanner.Current(imageID: try id("0"), version: try v("1.3.9"), contentHash: try hash("f"))
        let newer = TagPlanner.Current(imageID: try id("9"), version: try v("1.5.0"), contentHash: try hash("f"))
        let release = try v("1.4.2")
        let target = try id("e")
        #expect(TagPlanner.floating("latest", version: release, target: target, current: nil) == .create)
        #expect(TagPlanner.floating("latest", version: release, target: target, current: older) == .move(from: try id("0")))
        #expect(TagPlanner.floating("latest", version: release, target: target, current: newer) == .keep("stays at 1.5.0, which is newer"))
        let here = TagPlanner.Current(imageID: target, version: release, contentHash: try hash("f"))
        #expect(TagPlanner.floating("latest", version: release, target: target, current: here) == .keep("already there"))
        // A stable release is newer than its own pre-releases.
        let candidate = TagPlanner.Current(imageID: try id("c"), version: try v("1.4.2-rc.1"), contentHash: try hash("f"))
        #expect(TagPlanner.floating("1.4", version: release, target: target, current: candidate) == .move(from: try id("c")))
    }

    @Test("credential helpers: credHelpers for the registry, else credsStore, run as docker-credential-NAME get")
    func credentialHelpers() async throws {
        let scratch = Scratch()
        // A helper that answers for one server only, as real helpers do (exit 1 otherwise).
        scratch.write(
            "bin/docker-credential-fake",
            """
            #!/bin/sh
            [ "$1" = get ] || exit 2
            read server
            case "$server" in
              registry.example:5000) echo '{"ServerURL":"registry.example:5000","Username":"helper-user","Secret":"helper-s3cret"}' ;;
              tokens.example) echo '{"ServerURL":"tokens.example","Username":"<token>","Secret":"refresh-t0ken"}' ;;
              *) echo "credentials not found in native keychain"; exit 1 ;;
            esac
            """, executable: true)
        scratch.write(
            "docker/config.json",
            #"{"auths":{"other.example":{"auth":"\#(Data("file-user:file-pw".utf8).base64EncodedString())"}},"credsStore":"fake","credHelpers":{"other.example":"missing-helper"}}"#
        )
        let environment = ["DOCKER_CONFIG": scratch.url("docker"), "PATH": scratch.url("bin") + ":/usr/bin:/bin"]

        let stored = await RegistryAuth.resolve(registry: "registry.example:5000", environment: environment)
        #expect(stored.source == "docker-credential-fake")
        #expect(stored.credentials?.username == "helper-user" && stored.credentials?.password == "helper-s3cret")
        #expect(!stored.description.contains("helper-s3cret"))
        let token = await RegistryAuth.resolve(registry: "tokens.example", environment: environment)
        #expect(token.credentials == nil)
        let decoded = String(decoding: Data(base64Encoded: token.header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")) ?? Data(), as: UTF8.self)
        #expect(decoded == #"{"identitytoken":"# + #""refresh-t0ken","serveraddress":"tokens.example"}"#)
        // A helper named for a registry but not installed: the file's auths still count.
        #expect(await RegistryAuth.resolve(registry: "other.example", environment: environment).credentials?.username == "file-user")
        // The store has nothing for this one: anonymous.
        #expect(await RegistryAuth.resolve(registry: "unknown.example", environment: environment).source == "none (anonymous)")
    }

    @Test("registry credentials come from the environment or the docker config, and are never described")
    func credentials() async throws {
        let scratch = Scratch()
        let auth = Data("robot:s3cr3t-Pa55".utf8).base64EncodedString()
        scratch.write("docker/config.json", #"{"auths":{"127.0.0.1:5000":{"auth":"\#(auth)"}}}"#)
        let fromConfig = await RegistryAuth.resolve(registry: "127.0.0.1:5000", environment: ["DOCKER_CONFIG": scratch.url("docker")])
        let decoded = String(
            decoding: Data(base64Encoded: fromConfig.header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")) ?? Data(), as: UTF8.self)
        #expect(decoded == #"{"password":"# + #""s3cr3t-Pa55","serveraddress":"127.0.0.1:5000","username":"robot"}"#)
        #expect(!fromConfig.description.contains("s3cr3t") && fromConfig.description.contains("config.json"))
        let fromEnvironment = await RegistryCredentials.resolve(registry: "r.example:5000", environment: ["IMAGEGEN_REGISTRY_USER": "ci", "IMAGEGEN_REGISTRY_PASSWORD": "pw-123"])
        #expect(!fromEnvironment.description.contains("pw-123"))
        #expect(await RegistryAuth.resolve(registry: "elsewhere:1", environment: ["DOCKER_CONFIG": scratch.url("docker")]).source == "none (anonymous)")
    }
}
