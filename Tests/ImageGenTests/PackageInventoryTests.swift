import Foundation
import Testing
@testable import ImageGenValues
@testable import BuildContext
@testable import LayerInspection
@testable import Inventory
import ContainerBasics

/// Package databases read from layers as the indexer reads them, and the inventory made of an
/// image's layers: ownership, the layer that added each package, unowned bytes, purls, licenses.
@Suite("package inventory")
struct PackageInventoryTests {
    @Test("dpkg: installed packages with their files, source and license; a removed one is not listed; Multi-Arch .list files")
    func debian() throws {
        let base = try PackageFixtures.layer(
            [
                "var/lib/dpkg/status": PackageFixtures.status, "var/lib/dpkg/info/jq.list": "/.\n/usr\n/usr/bin\n/usr/bin/jq\n",
                "var/lib/dpkg/info/libc6:amd64.list": "/.\n/usr/lib/x86_64-linux-gnu/libc.so.6\n", "usr/bin/jq": String(repeating: "j", count: 300),
                "usr/lib/x86_64-linux-gnu/libc.so.6": String(repeating: "c", count: 2000), "usr/share/doc/jq/copyright": PackageFixtures.copyright,
                "etc/os-release": "PRETTY_NAME=\"Debian GNU/Linux 13 (trixie)\"\nID=debian\nVERSION_ID=\"13\"\n",
                "usr/local/bin/static-tool": String(repeating: "s", count: 5000),
            ])
        let inventory = PackageInventory.make([base])
        #expect(inventory.packages.map(\.name) == ["jq", "libc6"])
        let jq = try #require(inventory.packages.first)
        #expect(jq.version == "1.7.1-3+b1")
        #expect(jq.purl == "pkg:deb/debian/jq@1.7.1-3%2Bb1?arch=amd64&distro=debian-13&upstream=jq%401.7.1-3")
        #expect(jq.license == "Expat" && Licenses.spdxExpression(jq.license!) == "MIT")
        #expect(jq.supplier == "Debian jq Maintainers <jq@example.org>")
        #expect(jq.files.map(\.path) == ["usr/bin/jq"] && jq.bytes == 300)
        #expect(inventory.packages[1].files.map(\.path) == ["usr/lib/x86_64-linux-gnu/libc.so.6"])
        #expect(inventory.layers[0].added["deb/jq/amd64"] == 300)
        // What no package lists: the static binary, os-release, the databases themselves.
        #expect(inventory.layers[0].largestUnowned.first?.path == "usr/local/bin/static-tool")
    }

    @Test("the layer that added a package, or changed its version; bytes added by each layer; a deleted venv takes its packages with it")
    func layers() throws {
        let metadata = "Metadata-Version: 2.1\nName: Rich_Text\nVersion: 13.9.4\nAuthor-Email: Will <will@example.org>\nLicense-Expression: MIT\n\n# body\nName: not-this\n"
        let site = "opt/venv/lib/python3.13/site-packages"
        let record = "rich_text/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,1200\nrich_text-13.9.4.dist-info/METADATA,,\n../../../bin/rich,,\n"
        let first = try PackageFixtures.layer(["var/lib/dpkg/status": PackageFixtures.status, "var/lib/dpkg/info/jq.list": "/usr/bin/jq\n", "usr/bin/jq": "jq"])
        let second = try PackageFixtures.layer([
            "\(site)/rich_text-13.9.4.dist-info/METADATA": metadata, "\(site)/rich_text-13.9.4.dist-info/RECORD": record,
            "\(site)/rich_text/__init__.py": String(repeating: "p", count: 1200), "opt/venv/bin/rich": "#!/bin/sh\n",
        ])
        // An upgrade of jq: the status file rewritten, jq's version changed.
        let third = try PackageFixtures.layer(["var/lib/dpkg/status": PackageFixtures.status.replacingOccurrences(of: "1.7.1-3+b1", with: "1.8.0-1"), "usr/bin/jq": "jq 1.8"])
        let inventory = PackageInventory.make([first, second, third])
        let jq = try #require(inventory.packages.first { $0.name == "jq" })
        #expect(jq.version == "1.8.0-1" && jq.layer == 2)
        #expect(inventory.packages.first { $0.name == "libc6" }?.layer == 0)
        let rich = try #require(inventory.packages.first { $0.ecosystem == .pypi })
        #expect(rich.name == "Rich_Text" && rich.layer == 1 && rich.purl == "pkg:pypi/rich-text@13.9.4")
        #expect(rich.supplier == "Will <will@example.org>" && rich.license == "MIT")
        #expect(Set(rich.files.map(\.path)) == ["opt/venv/bin/rich", "\(site)/rich_text-13.9.4.dist-info/METADATA", "\(site)/rich_text/__init__.py"])
        #expect(rich.files.first { $0.path.hasSuffix("__init__.py") }?.checksum == "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(inventory.layers[1].added["pypi/\(site)/rich_text-13.9.4.dist-info"] == rich.bytes)
        #expect(inventory.layers[2].added["deb/jq/amd64"] == 6)
        let largest = inventory.largestAdded(in: 1..<3, count: 5)
        #expect(largest.first?.name == "Rich_Text")

        // A later layer deletes the venv: its package is gone from the image.
        let gone = try PackageFixtures.layer([:], deletions: ["opt/venv"])
        #expect(!PackageInventory.make([first, second, third, gone]).packages.contains { $0.ecosystem == .pypi })
    }

    @Test("Node packages: node_modules at any depth, scoped names, Node's global directories; a manifest deeper in a package is not one; a linked manifest is the package it names")
    func node() throws {
        let layer = try PackageFixtures.layer(
            [
                "app/node_modules/left-pad/package.json": #"{"name": "left-pad", "version": "1.3.0", "license": "WTFPL", "coordinates": [37.38, -122.08]}"#,
                "app/node_modules/left-pad/index.js": String(repeating: "x", count: 500),
                "app/node_modules/left-pad/lib/package.json": #"{"type": "module"}"#,
                "app/node_modules/@types/node/package.json":
                    #"{"name": "@types/node", "version": "20.11.0", "licenses": [{"type": "MIT"}], "author": {"name": "DefinitelyTyped", "email": "dt@example.org"}}"#,
                "app/node_modules/left-pad/node_modules/inner/package.json": #"{"name": "inner", "version": "0.1.0", "repository": "github:someone/inner"}"#,
                "app/node_modules/left-pad/node_modules/inner/big.js": String(repeating: "y", count: 900),
                "usr/share/nodejs/acorn/package.json": #"{"name": "acorn", "version": "8.12.1", "license": "MIT"}"#,
                "usr/share/nodejs/lodash/package.json": #"{"name": "lodash", "version": "4.17.21", "license": "MIT"}"#,
                "app/src/package.json": #"{"name": "my-app", "version": "1.0.0"}"#,
            ], symlinks: ["usr/share/nodejs/lodash-es/package.json": "../lodash/package.json"])
        let inventory = PackageInventory.make([layer])
        #expect(
            inventory.packages.map { "\($0.name)@\($0.version) /\($0.location)" } == [
                "@types/node@20.11.0 /app/node_modules/@types/node", "acorn@8.12.1 /usr/share/nodejs/acorn", "inner@0.1.0 /app/node_modules/left-pad/node_modules/inner",
                "left-pad@1.3.0 /app/node_modules/left-pad", "lodash@4.17.21 /usr/share/nodejs/lodash", "lodash@4.17.21 /usr/share/nodejs/lodash-es",
            ])
        let types = try #require(inventory.packages.first)
        #expect(types.purl == "pkg:npm/%40types/node@20.11.0" && types.license == "MIT" && types.supplier == "DefinitelyTyped <dt@example.org>")
        let leftPad = try #require(inventory.packages.first { $0.name == "left-pad" })
        // Its own files, not its nested package's.
        #expect(
            leftPad.bytes == 500 + Int64(#"{"type": "module"}"#.utf8.count)
                + Int64(#"{"name": "left-pad", "version": "1.3.0", "license": "WTFPL", "coordinates": [37.38, -122.08]}"#.utf8.count))
        #expect(inventory.packages.first { $0.name == "inner" }?.supplier == "github.com/someone")
        #expect(inventory.layers[0].added["npm/app/node_modules/left-pad/node_modules/inner"] ?? 0 > 900)
    }

    @Test("Alpine: packages with files and their SHA-1 checksums")
    func alpine() throws {
        let installed = """
            C:Q1abc=
            P:busybox
            V:1.36.1-r29
            A:x86_64
            L:GPL-2.0-only
            o:busybox
            m:Sören Tempel <soeren@example.org>
            F:bin
            R:busybox
            Z:Q1kiPVl5jW6F3p1YJSBcnTvXhFMqE=

            P:ssl_client
            V:1.36.1-r29
            A:x86_64
            L:GPL-2.0-only
            o:busybox
            F:usr/bin
            R:ssl_client

            """
        let layer = try PackageFixtures.layer([
            "lib/apk/db/installed": installed, "bin/busybox": String(repeating: "b", count: 800), "usr/bin/ssl_client": "s",
            "etc/os-release": "ID=alpine\nVERSION_ID=3.20.3\n",
        ])
        let inventory = PackageInventory.make([layer])
        #expect(
            inventory.packages.map(\.purl) == [
                "pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3",
                "pkg:apk/alpine/ssl_client@1.36.1-r29?arch=x86_64&distro=alpine-3.20.3&upstream=busybox",
            ])
        #expect(inventory.packages[0].files == [.init(path: "bin/busybox", size: 800, checksum: "sha1:9223d59798d6e85de9d5825205c9d3bd784532a1")])
        #expect(inventory.packages[0].supplier == "Sören Tempel <soeren@example.org>")
    }

    @Test("a layer index keeps the package records: what is stored reads back the same")
    func storedRecords() throws {
        let layer = try PackageFixtures.layer(
            [
                "var/lib/dpkg/status": PackageFixtures.status, "lib/apk/db/installed": "P:x\nV:1\nF:a\nR:b\nZ:Q1kiPVl5jW6F3p1YJSBcnTvXhFMqE=\n",
                "usr/lib/node_modules/npm/package.json": #"{"name":"npm","version":"10.8.2"}"#,
            ],
            symlinks: ["usr/lib/node_modules/npx/package.json": "/usr/lib/node_modules/npm/package.json"])
        #expect(layer.packageRecords.count == 4)
        let decoded = try #require(LayerIndexStore.decode(LayerIndexStore.encode(layer), key: "test"))
        #expect(decoded.packageRecords == layer.packageRecords)
        #expect(layer.packageRecords["usr/lib/node_modules/npx/package.json"] == .link(target: "usr/lib/node_modules/npm/package.json"))
    }

    @Test(
        "licenses: SPDX identifiers in any case, Debian's short names, Python's classifiers; anything else is left as stated",
        arguments: [
            ("MIT", "MIT"), ("Expat", "MIT"), ("GPL-2+", "GPL-2.0-or-later"), ("GPL-2+ or Artistic", "GPL-2.0-or-later OR Artistic-1.0-Perl"),
            ("LGPL-2.1+", "LGPL-2.1-or-later"), ("(MIT OR Apache-2.0)", "(MIT OR Apache-2.0)"), ("apache-2.0 and bsd-3-clause", "Apache-2.0 AND BSD-3-Clause"),
            ("MIT License", "MIT"), ("Python Software Foundation License", "PSF-2.0"), ("GPL-2.0 WITH Classpath-exception-2.0", "GPL-2.0-only WITH Classpath-exception-2.0"),
            ("public-domain", nil), ("BSD", nil), ("MIT AND", nil), ("Custom license, see LICENSE", nil),
        ] as [(String, String?)])
    func licenses(stated: String, expected: String?) {
        #expect(Licenses.spdxExpression(stated) == expected)
    }

    @Test("purls: versions and qualifiers percent-encoded, Python names normalized, npm scopes as namespaces")
    func purls() {
        func package(_ ecosystem: InventoryPackage.Ecosystem, _ name: String, _ version: String, architecture: String? = nil) -> InventoryPackage {
            InventoryPackage(
                id: "x", ecosystem: ecosystem, name: name, version: version, architecture: architecture, license: nil, purl: "", location: "", layer: 0,
                bytes: 0, files: [])
        }
        #expect(
            PackageURL.make(package(.deb, "git", "1:2.47.3-0+deb13u1", architecture: "amd64"), distro: ("debian", "13"))
                == "pkg:deb/debian/git@1%3A2.47.3-0%2Bdeb13u1?arch=amd64&distro=debian-13")
        #expect(PackageURL.make(package(.pypi, "Zope.Interface__X", "7.0"), distro: nil) == "pkg:pypi/zope-interface-x@7.0")
        #expect(PackageURL.make(package(.npm, "@babel/core", "7.26.0"), distro: nil) == "pkg:npm/%40babel/core@7.26.0")
        #expect(PackageURL.make(package(.deb, "libc6", "2.41-12", architecture: "arm64"), distro: nil) == "pkg:deb/debian/libc6@2.41-12?arch=arm64")
    }
}

/// SBOM documents of an inventory: their shape, and the same bytes for the same image.
@Suite("SBOM documents")
struct SBOMDocumentTests {
    @Test("SPDX 2.3: the image as the root, every package with its purl, supplier and declared license, a LicenseRef for what is not SPDX")
    func spdx() throws {
        let (inventory, subject) = try PackageFixtures.sample()
        let document = SBOM.document(inventory, subject: subject, format: .spdxJSON)
        #expect(document["spdxVersion"] == "SPDX-2.3")
        #expect(document["creationInfo"]?["created"] == "2026-12-07T16:59:00Z")
        let packages = document["packages"]?.arrayValue ?? []
        #expect(packages.count == 1 + inventory.packages.count)
        #expect(packages[0]["SPDXID"] == "SPDXRef-Image" && packages[0]["supplier"] == "Organization: Example Team")
        let jq = try #require(packages.first { $0["name"] == "jq" })
        #expect(jq["licenseDeclared"] == "MIT")
        #expect(jq["supplier"] == "Organization: Debian jq Maintainers (jq@example.org)")
        #expect(jq["externalRefs"]?.arrayValue?.first?["referenceLocator"]?.stringValue?.hasPrefix("pkg:deb/debian/jq@") == true)
        let odd = try #require(packages.first { $0["name"] == "odd" })
        #expect(odd["licenseDeclared"]?.stringValue?.hasPrefix("LicenseRef-") == true)
        #expect(document["hasExtractedLicensingInfos"]?.arrayValue?.count == 1)
        #expect(packages.first { $0["name"] == "six" }?["supplier"] == "Person: Benjamin Peterson")
        let relationships = document["relationships"]?.arrayValue ?? []
        #expect(relationships.filter { $0["relationshipType"] == "CONTAINS" }.count == inventory.packages.count)
        #expect(SBOM.document(inventory, subject: subject, format: .spdxJSON).pretty == document.pretty, "the same image, the same bytes")
    }

    @Test("CycloneDX 1.6: the image as metadata's component, the OS, libraries with properties; --files lists files with their hashes")
    func cyclonedx() throws {
        let (inventory, subject) = try PackageFixtures.sample()
        let document = SBOM.document(inventory, subject: subject, format: .cyclonedxJSON, files: true)
        #expect(document["specVersion"] == "1.6" && document["metadata"]?["component"]?["type"] == "container")
        let components = document["components"]?.arrayValue ?? []
        #expect(components.first?["type"] == "operating-system" && components.first?["version"] == "13")
        let six = try #require(components.first { $0["name"] == "six" })
        #expect(six["licenses"]?.arrayValue?.first?["license"]?["id"] == "MIT")
        #expect(six["components"]?.arrayValue?.first?["hashes"]?.arrayValue?.first?["alg"] == "SHA-256")
        #expect(document["dependencies"]?.arrayValue?.first?["dependsOn"]?.arrayValue?.count == components.count)
        #expect(document["serialNumber"] == SBOM.document(inventory, subject: subject, format: .cyclonedxJSON)["serialNumber"])
    }

    @Test("a secret in package metadata never reaches a document")
    func redacted() throws {
        let token = PlantedSecrets.github
        let layer = try PackageFixtures.layer(["app/node_modules/leaky/package.json": #"{"name": "leaky", "version": "1.0.0", "author": "ci \#(token)"}"#])
        let (_, subject) = try PackageFixtures.sample()
        for format in SBOM.Format.allCases {
            let text = SBOM.document(PackageInventory.make([layer]), subject: subject, format: format).pretty
            #expect(!text.contains(token) && text.contains("leaky"))
        }
    }
}

/// What changed between two images: packages by identity, files by path, checks by name.
@Suite("image diff")
struct ImageDiffTests {
    @Test("packages added, removed and changed; the largest files added and removed; checks whose result changed; the three reports")
    func compare() throws {
        let old = try PackageFixtures.layer([
            "var/lib/dpkg/status": PackageFixtures.status, "var/lib/dpkg/info/jq.list": "/usr/bin/jq\n", "usr/bin/jq": "jq",
            "app/node_modules/gone/package.json": #"{"name": "gone", "version": "1.0.0"}"#, "srv/old.bin": String(repeating: "o", count: 700),
        ])
        let new = try PackageFixtures.layer([
            "var/lib/dpkg/status": PackageFixtures.status.replacingOccurrences(of: "1.7.1-3+b1", with: "1.8.0-1"), "var/lib/dpkg/info/jq.list": "/usr/bin/jq\n",
            "usr/bin/jq": "jq 1.8", "app/node_modules/fresh/package.json": #"{"name": "fresh", "version": "2.0.0"}"#, "srv/new.bin": String(repeating: "n", count: 900),
        ])
        let before = DiffSide(reference: "demo:1.0.0", blobs: [old], checks: ["size.total": .init(passed: true, message: "ok"), "probe: jq": .init(passed: true, message: "ok")])
        let after = DiffSide(
            reference: "demo:1.1.0", blobs: [new], checks: ["size.total": .init(passed: false, message: "over by 1 MiB"), "probe: jq": .init(passed: true, message: "ok")])
        let diff = ImageDiff.compare(layer: "tool", old: before, new: after)
        #expect(diff.added.map(\.name) == ["fresh"] && diff.removed.map(\.name) == ["gone"])
        #expect(diff.changed.map { "\($0.new.name) \($0.old.version)→\($0.new.version)" } == ["jq 1.7.1-3+b1→1.8.0-1"])
        #expect(diff.filesAdded.first?.path == "srv/new.bin" && diff.filesRemoved.first?.path == "srv/old.bin")
        #expect(diff.checks == [ImageDiff.ChangedCheck(name: "size.total", old: true, new: false, message: "over by 1 MiB")])
        #expect(!diff.isEmpty)

        let text = DiffReport.text([diff], old: "1.0.0", new: "1.1.0")
        #expect(text.contains("~ jq 1.7.1-3+b1 → 1.8.0-1 (deb)") && text.contains("check size.total: passed → FAILED"))
        let markdown = DiffReport.markdown([diff], old: "1.0.0", new: "1.1.0")
        #expect(markdown.contains("| `tool` |") && markdown.contains("+1 −1 ~1"))
        let json = DiffReport.json([diff], old: "1.0.0", new: "1.1.0")
        #expect(json["schema"] == "imagegen.diff/1" && json["layers"]?.arrayValue?.first?["checks"]?.arrayValue?.count == 1)

        // The same image on both sides: nothing changed.
        #expect(ImageDiff.compare(layer: "tool", old: after, new: after).isEmpty)
        // A side without a verify report: checks are not compared, and say so.
        let unknown = ImageDiff.compare(layer: "tool", old: DiffSide(reference: "x", blobs: [old]), new: after)
        #expect(unknown.checks == nil && DiffReport.text([unknown], old: "a", new: "b").contains("not compared"))
    }

    @Test("a walk of two chains that part compares files from where they part: the same diff as two walks of every file")
    func parted() throws {
        let base = try PackageFixtures.layer(["etc/a": "1", "srv/keep": "22", "srv/old/x": "333", "srv/old/y": "4444", "opt/d/z": "5"])
        let shared = try PackageFixtures.layer(["srv/shared": "666666", "opt/d/w": "77"])
        let left = try PackageFixtures.layer(["srv/left": "8", "etc/a": "11"], deletions: ["srv/keep"])
        var right = try PackageFixtures.layer(["srv/old/new": "9999", "etc/a": "111"])
        right.opaqueDirectories = ["srv/old"]
        let leftTop = try PackageFixtures.layer(["srv/left": "88888"])
        let blobs = ["base": base, "shared": shared, "left": left, "right": right, "leftTop": leftTop]
        let old = ["base", "shared", "left", "leftTop"], new = ["base", "shared", "right"]
        let walked = try #require(PackageInventory.snapshots(chains: [old, new, ["base"]], layer: { blobs[$0] }, trackingFrom: 2))
        let fromWalk = ImageDiff.compare(
            layer: "l", old: DiffSide(reference: "old", snapshot: try #require(walked[old])), new: DiffSide(reference: "new", snapshot: try #require(walked[new])))
        let reference = ImageDiff.compare(
            layer: "l", old: DiffSide(reference: "old", blobs: old.map { blobs[$0]! }), new: DiffSide(reference: "new", blobs: new.map { blobs[$0]! }))
        func summary(_ diff: ImageDiff) -> [String] {
            diff.filesAdded.map { "+\($0.path) \($0.bytes)" } + diff.filesRemoved.map { "-\($0.path) \($0.bytes)" } + ["~\(diff.filesChangedCount)"]
        }
        #expect(summary(fromWalk) == summary(reference))
        #expect(Set(summary(reference)) == ["+srv/old/new 4", "+srv/keep 2", "-srv/left 5", "-srv/old/x 3", "-srv/old/y 4", "~1"])
        #expect((fromWalk.oldBytes, fromWalk.newBytes) == (reference.oldBytes, reference.newBytes))
        // Below where they part, nothing is tracked: the base's snapshot holds no files.
        #expect(walked[["base"]]?.files.isEmpty == true && walked[old]?.files.count ?? 0 < 8)
    }

    @Test("files compared by path in one pass: paths that sort between each other (a, a-b, a/b, a0), files that became directories, sizes changed")
    func files() throws {
        let old = try PackageFixtures.layer(
            ["a": "1", "a-b": "22", "a0/x": "333", "c/d": "4444", "same": "s", "grows": "g", "only/old": "o"], symlinks: ["link": "a"])
        let new = try PackageFixtures.layer(
            ["a/b": "55555", "a-b": "22", "a0/x": "333", "a0/y": "6", "c/d": "4444", "same": "s", "grows": "gg", "z": "7"], symlinks: ["link2": "z"])
        let diff = ImageDiff.compare(layer: "l", old: DiffSide(reference: "old", blobs: [old]), new: DiffSide(reference: "new", blobs: [new]))
        // What a comparison by dictionary finds, regular files only.
        func regular(_ blob: LayerBlob) -> [String: Int64] {
            Dictionary(uniqueKeysWithValues: blob.files.filter { $0.kind == .file }.map { ($0.path, $0.size) })
        }
        let before = regular(old), after = regular(new)
        let added = after.filter { before[$0.key] == nil }, removed = before.filter { after[$0.key] == nil }
        let resized = after.filter { path, size in before[path].map { $0 != size } ?? false }
        #expect(Set(diff.filesAdded.map(\.path)) == Set(added.keys) && Set(added.keys) == ["a/b", "a0/y", "z"])
        #expect(Set(diff.filesRemoved.map(\.path)) == Set(removed.keys) && Set(removed.keys) == ["a", "only/old"])
        #expect(diff.filesChangedCount == resized.count && resized.count == 1)
        #expect((diff.filesAddedCount, diff.filesRemovedCount) == (3, 2))
        #expect(diff.filesAdded.map(\.bytes) == [5, 1, 1] && diff.filesAdded.map(\.path) == ["a/b", "a0/y", "z"])
    }
}
