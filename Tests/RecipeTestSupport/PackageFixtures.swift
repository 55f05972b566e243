import ContainerBasics
import Foundation
import Inventory
import LayerInspection

/// Layers made through the layer indexer from files given as text, as every way of reading a real
/// layer makes them, and a sample image for the SBOM tests of every tier.
public enum PackageFixtures {
    /// A layer made through the indexer, as every way of reading a real layer makes it.
    public static func layer(_ files: [String: String], symlinks: [String: String] = [:], sizes: [String: Int64] = [:], deletions: [String] = []) throws -> LayerBlob {
        var indexer = LayerIndexer(key: "test", options: ImageExport.Options())
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            let bytes = Array(text.utf8)
            let file = LayerFile(path: path, kind: .file, size: sizes[path] ?? Int64(bytes.count), mode: 0o644, uid: 0, gid: 0, linkTarget: nil)
            try indexer.add(file) { body in try bytes.withUnsafeBytes { try body($0) } }
        }
        for (path, target) in symlinks {
            try indexer.add(LayerFile(path: path, kind: .symlink, size: 0, mode: 0o777, uid: 0, gid: 0, linkTarget: target)) { _ in }
        }
        for path in deletions { indexer.delete(path) }
        return indexer.finish()
    }

    public static let status = """
        Package: jq
        Status: install ok installed
        Maintainer: Debian jq Maintainers <jq@example.org>
        Architecture: amd64
        Source: jq (1.7.1-3)
        Version: 1.7.1-3+b1
        Installed-Size: 101
        Description: lightweight JSON processor
         jq is like sed for JSON data.

        Package: libc6
        Status: install ok installed
        Maintainer: GNU Libc Maintainers <libc@example.org>
        Architecture: amd64
        Multi-Arch: same
        Source: glibc
        Version: 2.41-12

        Package: removed-tool
        Status: deinstall ok config-files
        Architecture: amd64
        Version: 1.0

        """

    public static let copyright = """
        Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
        Upstream-Name: jq

        Files: *
        Copyright: 2012 Stephen Dolan
        License: Expat

        Files: debian/*
        License: GPL-2+

        """

    /// An image with a Debian package, a Python distribution and a Node package, and its subject.
    public static func sample() throws -> (PackageInventory, SBOMSubject) {
        let layer = try layer([
            "var/lib/dpkg/status": status, "var/lib/dpkg/info/jq.list": "/usr/bin/jq\n", "usr/bin/jq": "jq",
            "usr/share/doc/jq/copyright": copyright, "etc/os-release": "ID=debian\nVERSION_ID=13\n",
            "app/node_modules/odd/package.json": #"{"name": "odd", "version": "1.0.0", "license": "SEE LICENSE IN LICENSE.md", "author": "Odd Corp Inc <odd@example.org>"}"#,
            "usr/lib/python3/dist-packages/six-1.17.0.dist-info/METADATA": "Name: six\nVersion: 1.17.0\nLicense: MIT\nAuthor: Benjamin Peterson\n\n",
            "usr/lib/python3/dist-packages/six-1.17.0.dist-info/RECORD": "six.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n",
            "usr/lib/python3/dist-packages/six.py": "",
        ])
        let subject = SBOMSubject(
            name: "demo-base", version: "1.2.0", imageID: try Digest(parsing: "sha256:" + String(repeating: "ab", count: 32)),
            created: "2026-12-07T16:59:00.123456789Z", architecture: "amd64", labels: ["org.opencontainers.image.vendor": "Example Team"], toolVersion: "0.1.0")
        return (PackageInventory.make([layer]), subject)
    }
}
