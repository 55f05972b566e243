import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

@Suite("Semantic versions")
struct SemVerTests {
    @Test(
        "valid versions from semver.org parse and print back",
        arguments: [
            "0.0.4", "1.2.3", "10.20.30", "1.1.2-prerelease+meta", "1.1.2+meta", "1.1.2+meta-valid", "1.0.0-alpha",
            "1.0.0-beta", "1.0.0-alpha.beta", "1.0.0-alpha.beta.1", "1.0.0-alpha.1", "1.0.0-alpha0.valid", "1.0.0-alpha.0valid",
            "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay", "1.0.0-rc.1+build.1", "2.0.0-rc.1+build.123",
            "1.2.3-beta", "10.2.3-DEV-SNAPSHOT", "1.2.3-SNAPSHOT-123", "2.0.0+build.1848", "2.0.1-alpha.1227",
            "1.0.0-0A.is.legal", "1.2.3----RC-SNAPSHOT.12.9.1--.12+788", "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
            "99999999999999999999999.999999999999999999.99999999999999999-rc.1".replacingOccurrences(of: "99999999999999999999999", with: "9999"),
        ])
    func valid(text: String) throws {
        #expect(try SemVer(parsing: text).description == text)
    }

    @Test(
        "invalid versions from semver.org are refused",
        arguments: [
            "1", "1.2", "1.2.3-0123", "1.2.3-0123.0123", "1.1.2+.123", "+invalid", "-invalid", "-invalid+invalid",
            "alpha", "alpha.beta", "alpha.1", "1.0.0-alpha_beta", "-alpha.", "1.0.0-alpha..", "1.0.0-alpha..1",
            "01.1.1", "1.01.1", "1.1.01", "1.2.3.DEV", "1.2-SNAPSHOT", "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
            "+justmeta", "9.8.7+meta+meta", "9.8.7-whatever+meta+meta", "1.2.3-", "1.2.3+", "v1.2.3", "1.2.3 ",
            "99999999999999999999999.1.1",
        ])
    func invalid(text: String) {
        #expect(throws: ValueError.self) { try SemVer(parsing: text) }
    }

    @Test("precedence follows the spec's example chain")
    func precedence() throws {
        let chain = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1",
        ]
        let versions = try chain.map { try SemVer(parsing: $0) }
        for (lower, higher) in zip(versions, versions.dropFirst()) {
            #expect(lower < higher, "\(lower) < \(higher)")
            #expect(lower.comparePrecedence(higher) == -1)
        }
        #expect(try SemVer(parsing: "1.0.0+a").hasSamePrecedence(as: SemVer(parsing: "1.0.0+b")))
        #expect(try SemVer(parsing: "1.0.0-2") < SemVer(parsing: "1.0.0-10"))
        #expect(try SemVer(parsing: "1.0.0-10") < SemVer(parsing: "1.0.0-a"))
    }

    @Test("ordering is total, antisymmetric and transitive over generated versions")
    func orderingProperties() throws {
        var generator = SplitMix64(seed: 42)
        let identifiers = ["0", "1", "2", "10", "a", "b", "alpha", "beta", "rc", "a1", "-", "x-y"]
        func randomVersion() -> SemVer {
            var version = SemVer(major: generator.next() % 3, minor: generator.next() % 3, patch: generator.next() % 3)
            for _ in 0..<Int(generator.next() % 3) { version.prerelease.append(identifiers[Int(generator.next() % UInt64(identifiers.count))]) }
            if generator.next() % 4 == 0 { version.build = [identifiers[Int(generator.next() % UInt64(identifiers.count))]] }
            return version
        }
        let versions = (0..<120).map { _ in randomVersion() }
        for a in versions {
            #expect(!(a < a))
            for b in versions {
                // Exactly one of <, ==, > holds.
                let relations = [a < b, a == b, b < a].filter { $0 }.count
                #expect(relations == 1, "\(a) vs \(b)")
                #expect(a.comparePrecedence(b) == -b.comparePrecedence(a))
                // Round trip through text keeps the value.
                #expect(try SemVer(parsing: a.description) == a)
            }
        }
        for _ in 0..<4000 {
            let a = versions[Int(generator.next() % 120)], b = versions[Int(generator.next() % 120)], c = versions[Int(generator.next() % 120)]
            if a < b, b < c { #expect(a < c, "\(a) < \(b) < \(c)") }
        }
        let sorted = versions.sorted()
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { !($0.1 < $0.0) })
    }
}

@Suite("Sizes")
struct ByteSizeTests {
    @Test(
        "units",
        arguments: [
            ("200MB", 200_000_000), ("200mb", 200_000_000), ("1.5GiB", 1_610_612_736), ("512KiB", 524_288), ("4096", 4096),
            ("1 GB", 1_000_000_000), ("0.5MiB", 524_288), ("3TB", 3_000_000_000_000), ("10B", 10),
        ] as [(String, Int64)])
    func parses(text: String, bytes: Int64) throws {
        #expect(try ByteSize(parsing: text).bytes == bytes)
    }

    @Test("nonsense is refused", arguments: ["big", "", "MB", "1.2.3MB", "-5MB", "5 parsecs", ".5MB", "1e9"])
    func refuses(text: String) {
        #expect(throws: ValueError.self) { try ByteSize(parsing: text) }
    }

    @Test("prints in binary units")
    func prints() {
        #expect(ByteSize(bytes: 1_610_612_736).description == "1.5 GiB")
        #expect(ByteSize(bytes: 512).description == "512 B")
    }
}

@Suite("Image references")
struct ImageReferenceTests {
    @Test(
        "valid references",
        arguments: [
            ("debian:bookworm-slim", nil, "debian", "bookworm-slim"),
            ("library/node:20-alpine", nil, "library/node", "20-alpine"),
            ("localhost:5000/team/app:1.0", "localhost:5000", "team/app", "1.0"),
            ("ghcr.io/org/tool", "ghcr.io", "org/tool", nil),
            ("127.0.0.1:5000/x:y", "127.0.0.1:5000", "x", "y"),
            ("a__b/c-d/e.f:1", nil, "a__b/c-d/e.f", "1"),
        ] as [(String, String?, String, String?)])
    func valid(text: String, registry: String?, path: String, tag: String?) throws {
        let reference = try ImageReference(parsing: text)
        #expect(reference.registry == registry)
        #expect(reference.path == path)
        #expect(reference.tag?.value == tag)
        #expect(reference.description == text)
    }

    @Test("digests")
    func digest() throws {
        let hex = String(repeating: "ab", count: 32)
        let reference = try ImageReference(parsing: "debian:12@sha256:\(hex)")
        #expect(reference.digest?.description == "sha256:\(hex)")
        #expect(reference.isPinned)
        #expect(throws: IdentifierError.self) { try ImageReference(parsing: "debian@sha256:abc") }
    }

    @Test("invalid references", arguments: ["Debian:12", "debian:", ":tag", "a//b", "a/-b", "debian:t@g", "", "x:" + String(repeating: "t", count: 129), "-a"])
    func invalid(text: String) {
        #expect(throws: IdentifierError.self) { try ImageReference(parsing: text) }
    }
}
