/// Package URLs (purl, github.com/package-url/purl-spec), the identifier SBOM consumers match
/// vulnerabilities by: `pkg:deb/debian/jq@1.7.1-3?arch=amd64&distro=debian-13`,
/// `pkg:apk/alpine/busybox@1.36.1-r29?arch=x86_64&distro=alpine-3.20`, `pkg:pypi/rich@13.9.4`,
/// `pkg:npm/%40types/node@20.11.0`.
public enum PackageURL {
    public static func make(_ package: InventoryPackage, distro: (id: String, versionID: String?)?) -> String {
        var qualifiers: [(String, String)] = []
        let type: String
        var namespace: String?
        var name = package.name
        switch package.ecosystem {
        case .deb, .apk:
            type = package.ecosystem.rawValue
            let fallback = package.ecosystem == .deb ? "debian" : "alpine"
            let distroID = distro?.id ?? fallback
            namespace = distroID
            if let architecture = package.architecture { qualifiers.append(("arch", architecture)) }
            if let versionID = distro?.versionID { qualifiers.append(("distro", "\(distroID)-\(versionID)")) }
            if let upstream = package.upstream { qualifiers.append(("upstream", upstream)) }
        case .pypi:
            type = "pypi"
            // PEP 503 normalization: lower case, runs of -, _ and . as one -.
            var normalized = ""
            for character in package.name.lowercased() {
                if character == "_" || character == "." || character == "-" {
                    if normalized.last != "-" { normalized.append("-") }
                } else {
                    normalized.append(character)
                }
            }
            name = normalized
        case .npm:
            type = "npm"
            if package.name.hasPrefix("@"), let slash = package.name.firstIndex(of: "/") {
                namespace = String(package.name[..<slash])
                name = String(package.name[package.name.index(after: slash)...])
            }
        }
        var purl = "pkg:\(type)/"
        if let namespace { purl += encode(namespace) + "/" }
        purl += encode(name) + "@" + encode(package.version)
        if !qualifiers.isEmpty {
            purl += "?" + qualifiers.sorted { $0.0 < $1.0 }.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
        }
        return purl
    }

    /// Percent-encodes all but letters, digits and `.-_~` (the purl spec's rule for names,
    /// versions and qualifier values).
    static func encode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "~"):
                result.append(Character(UnicodeScalar(byte)))
            default:
                let digits = Array("0123456789ABCDEF")
                result += "%" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
            }
        }
        return result
    }
}
