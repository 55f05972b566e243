import ContainerBasics
import Foundation
import ImageGenValues

/// The image an SBOM describes.
public struct SBOMSubject: Sendable {
    /// The image's repository (`opencode-sandbox-context`, `registry.example/acme/base`).
    public var name: String
    /// A version for the root (the release version, else the content-hash tag).
    public var version: String
    /// The image ID (its config's digest).
    public var imageID: Digest
    /// The manifest digest in a registry, when the image is there (the root's purl names it).
    public var manifestDigest: Digest?
    /// Where the image lives in a registry (`127.0.0.1:5000/acme/base`), for the root's purl.
    public var repositoryURL: String?
    /// The image's creation time (its config's `created`): the SBOM's timestamp, so the same image
    /// gives the same document.
    public var created: String
    public var architecture: String
    /// The image's labels (vendor, authors, source, revision…).
    public var labels: [String: String]
    /// The generating tool's version.
    public var toolVersion: String

    public init(
        name: String, version: String, imageID: Digest, manifestDigest: Digest? = nil, repositoryURL: String? = nil, created: String, architecture: String,
        labels: [String: String], toolVersion: String
    ) {
        self.name = name
        self.version = version
        self.imageID = imageID
        self.manifestDigest = manifestDigest
        self.repositoryURL = repositoryURL
        self.created = created
        self.architecture = architecture
        self.labels = labels
        self.toolVersion = toolVersion
    }

    /// `created` as SPDX and CycloneDX want it: UTC, whole seconds (`2026-12-07T16:59:00Z`).
    var timestamp: String {
        let trimmed = created.split(separator: ".").first.map(String.init) ?? created
        return trimmed.hasSuffix("Z") ? trimmed : trimmed.prefix(19) + "Z"
    }

    /// The image's supplier as its labels say (`org.opencontainers.image.vendor`, else `authors`).
    var supplier: String? { labels["org.opencontainers.image.vendor"] ?? labels["org.opencontainers.image.authors"] }

    /// `pkg:oci/<name>@<manifest digest>?arch=…&repository_url=…`, when the manifest digest is known.
    var purl: String? {
        guard let manifestDigest else { return nil }
        let last = name.split(separator: "/").last.map(String.init) ?? name
        var qualifiers = ["arch=" + PackageURL.encode(architecture)]
        if let repositoryURL { qualifiers.append("repository_url=" + PackageURL.encode(repositoryURL)) }
        return "pkg:oci/\(PackageURL.encode(last))@\(PackageURL.encode(manifestDigest.description))?" + qualifiers.joined(separator: "&")
    }
}

/// SBOM documents of an image's ``PackageInventory``: SPDX 2.3 and CycloneDX 1.6, in JSON. The
/// same image gives the same bytes (timestamps are the image's, identifiers derived from its ID,
/// everything sorted), and every string passes the redactor.
public enum SBOM {
    public enum Format: String, Sendable, CaseIterable {
        case spdxJSON = "spdx-json"
        case cyclonedxJSON = "cyclonedx-json"

        public var mediaType: String {
            switch self {
            case .spdxJSON: "application/spdx+json"
            case .cyclonedxJSON: "application/vnd.cyclonedx+json"
            }
        }
    }

    public static func document(_ inventory: PackageInventory, subject: SBOMSubject, format: Format, files: Bool = false) -> JSONValue {
        switch format {
        case .spdxJSON: spdx(inventory, subject: subject, files: files)
        case .cyclonedxJSON: cyclonedx(inventory, subject: subject, files: files)
        }
    }

    static func text(_ value: String) -> JSONValue { .string(Redactor.redact(value)) }

    /// A UUID made from a hash: the same input, the same UUID (version 5's layout).
    static func uuid(_ seed: String) -> String {
        var bytes = Array(sha256Hex(Array(seed.utf8)).utf8.prefix(32))
        bytes[12] = UInt8(ascii: "5")
        let variant = Array("89ab".utf8)
        bytes[16] = variant[Int(bytes[16]) % 4]
        let hex = String(decoding: bytes, as: UTF8.self)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }

    /// What an SBOM says about where a package came from in the image.
    static func provenanceNote(_ package: InventoryPackage) -> String {
        "image layer \(package.layer + 1), \(package.bytes) bytes, at /\(package.location)"
    }

    // MARK: - SPDX 2.3

    static func spdx(_ inventory: PackageInventory, subject: SBOMSubject, files: Bool) -> JSONValue {
        var packages: [JSONValue] = []
        var relationships: [JSONValue] = [
            ["spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Image"]
        ]
        var extracted: [String: String] = [:]  // LicenseRef id → statement
        var fileEntries: [JSONValue] = []

        var image: [String: JSONValue] = [
            "SPDXID": "SPDXRef-Image", "name": text(subject.name), "versionInfo": text(subject.version), "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false, "primaryPackagePurpose": "CONTAINER", "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION", "supplier": subject.supplier.map { text(supplierField($0)) } ?? "NOASSERTION",
            "checksums": [["algorithm": "SHA256", "checksumValue": .string(subject.imageID.hex)]],
        ]
        if let purl = subject.purl {
            image["externalRefs"] = [["referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": .string(purl)]]
        }
        packages.append(.object(image))

        for package in inventory.packages {
            let id = spdxID(package)
            let declared: JSONValue
            if let stated = package.license {
                if let expression = Licenses.spdxExpression(stated) {
                    declared = .string(expression)
                } else {
                    let reference = "LicenseRef-" + sanitized(stated)
                    extracted[reference] = stated
                    declared = .string(reference)
                }
            } else {
                declared = "NOASSERTION"
            }
            var entry: [String: JSONValue] = [
                "SPDXID": .string(id), "name": text(package.name), "versionInfo": text(package.version), "downloadLocation": "NOASSERTION",
                "filesAnalyzed": false, "licenseConcluded": "NOASSERTION", "licenseDeclared": declared, "copyrightText": "NOASSERTION",
                "supplier": package.supplier.map { text(supplierField($0)) } ?? "NOASSERTION",
                "externalRefs": [["referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": text(package.purl)]],
                "comment": text(provenanceNote(package)),
            ]
            if let upstream = package.upstream { entry["sourceInfo"] = text("built from the source package \(upstream)") }
            packages.append(.object(entry))
            relationships.append(["spdxElementId": "SPDXRef-Image", "relationshipType": "CONTAINS", "relatedSpdxElement": .string(id)])
            guard files else { continue }
            // SPDX 2.3 requires a SHA-1 of each file: only the files whose database records one.
            for (index, file) in package.files.sorted(by: { utf8Precedes($0.path, $1.path) }).enumerated() {
                guard let checksum = file.checksum, checksum.hasPrefix("sha1:") else { continue }
                let fileID = id.replacingOccurrences(of: "SPDXRef-Package-", with: "SPDXRef-File-") + "-\(index)"
                fileEntries.append([
                    "SPDXID": .string(fileID), "fileName": text("/" + file.path),
                    "checksums": [["algorithm": "SHA1", "checksumValue": .string(String(checksum.dropFirst(5)))]],
                    "licenseConcluded": "NOASSERTION", "copyrightText": "NOASSERTION",
                ])
                relationships.append(["spdxElementId": .string(id), "relationshipType": "CONTAINS", "relatedSpdxElement": .string(fileID)])
            }
        }
        var document: [String: JSONValue] = [
            "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": text(subject.name + ":" + subject.version),
            "documentNamespace": .string("https://spdx.org/spdxdocs/imagegen-\(sanitized(subject.name))-\(uuid("spdx " + subject.imageID.description))"),
            "creationInfo": [
                "created": .string(subject.timestamp), "creators": [.string("Tool: imagegen-\(subject.toolVersion)")],
                "comment": "Packages from the image's package databases (dpkg, apk, Python distributions, Node packages); files no package owns are not listed.",
            ],
            "packages": .array(packages), "relationships": .array(relationships),
        ]
        if !fileEntries.isEmpty { document["files"] = .array(fileEntries) }
        if !extracted.isEmpty {
            document["hasExtractedLicensingInfos"] = .array(
                extracted.keys.sorted().map { reference in
                    [
                        "licenseId": .string(reference), "name": text(extracted[reference]!),
                        "extractedText": text("The package's metadata states the license as: \(extracted[reference]!)"),
                    ]
                })
        }
        return .object(document)
    }

    static func spdxID(_ package: InventoryPackage) -> String {
        "SPDXRef-Package-\(package.ecosystem.rawValue)-\(sanitized(package.name))-\(sha256Hex(Array(package.id.utf8)).prefix(12))"
    }

    /// Letters, digits, `.` and `-` (SPDX identifiers), the rest as `-`.
    static func sanitized(_ text: String) -> String {
        String(text.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") ? $0 : "-" }.prefix(64))
    }

    /// `Person: name (email)` or `Organization: …`: a team, project or company is an organization.
    static func supplierField(_ supplier: String) -> String {
        var name = supplier.trimmingCharacters(in: .whitespaces)
        var email: String?
        if let open = name.firstIndex(of: "<"), let close = name[open...].firstIndex(of: ">") {
            email = String(name[name.index(after: open)..<close])
            name = (String(name[..<open]) + String(name[name.index(after: close)...])).trimmingCharacters(in: .whitespaces)
        }
        if name.isEmpty { name = email ?? supplier }
        let organizationWords = ["team", "maintainers", "project", "developers", "group", "foundation", "inc", "ltd", "llc", "corporation", "community"]
        let lowered = name.lowercased()
        let kind = organizationWords.contains { lowered.contains($0) } ? "Organization" : "Person"
        return "\(kind): \(name)" + (email.map { " (\($0))" } ?? "")
    }

    // MARK: - CycloneDX 1.6

    static func cyclonedx(_ inventory: PackageInventory, subject: SBOMSubject, files: Bool) -> JSONValue {
        var components: [JSONValue] = []
        var references: [JSONValue] = []
        if let distro = inventory.distro {
            var os: [String: JSONValue] = ["type": "operating-system", "bom-ref": "os", "name": text(distro.id)]
            if let version = distro.versionID { os["version"] = text(version) }
            components.append(.object(os))
            references.append("os")
        }
        for package in inventory.packages {
            let reference = spdxID(package).replacingOccurrences(of: "SPDXRef-Package-", with: "")
            var component: [String: JSONValue] = [
                "type": "library", "bom-ref": .string(reference), "name": text(package.name), "version": text(package.version), "purl": text(package.purl),
                "properties": [
                    ["name": "imagegen:ecosystem", "value": .string(package.ecosystem.rawValue)],
                    ["name": "imagegen:layer", "value": .string(String(package.layer + 1))],
                    ["name": "imagegen:bytes", "value": .string(String(package.bytes))],
                    ["name": "imagegen:location", "value": text("/" + package.location)],
                ],
            ]
            if let supplier = package.supplier { component["supplier"] = ["name": text(supplier)] }
            if let stated = package.license {
                if let expression = Licenses.spdxExpression(stated) {
                    component["licenses"] =
                        Licenses.byLowercase[expression.lowercased()] != nil
                        ? [["license": ["id": .string(expression)]]] : [["expression": .string(expression)]]
                } else {
                    component["licenses"] = [["license": ["name": text(stated)]]]
                }
            }
            if files {
                let owned: [JSONValue] = package.files.sorted(by: { utf8Precedes($0.path, $1.path) }).map { file in
                    var entry: [String: JSONValue] = ["type": "file", "name": text("/" + file.path)]
                    if let checksum = file.checksum, let colon = checksum.firstIndex(of: ":") {
                        let algorithm = checksum[..<colon] == "sha1" ? "SHA-1" : checksum[..<colon] == "sha256" ? "SHA-256" : nil
                        if let algorithm { entry["hashes"] = [["alg": .string(algorithm), "content": .string(String(checksum[checksum.index(after: colon)...]))]] }
                    }
                    return .object(entry)
                }
                if !owned.isEmpty { component["components"] = .array(owned) }
            }
            components.append(.object(component))
            references.append(.string(reference))
        }
        var root: [String: JSONValue] = [
            "type": "container", "bom-ref": "image", "name": text(subject.name), "version": text(subject.version),
            "hashes": [["alg": "SHA-256", "content": .string(subject.imageID.hex)]],
        ]
        if let purl = subject.purl { root["purl"] = .string(purl) }
        if let supplier = subject.supplier { root["supplier"] = ["name": text(supplier)] }
        return [
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "serialNumber": .string("urn:uuid:" + uuid("cyclonedx " + subject.imageID.description)),
            "metadata": [
                "timestamp": .string(subject.timestamp),
                "tools": ["components": [["type": "application", "name": "imagegen", "version": .string(subject.toolVersion)]]],
                "component": .object(root),
            ],
            "components": .array(components),
            "dependencies": [["ref": "image", "dependsOn": .array(references)]],
        ]
    }
}
