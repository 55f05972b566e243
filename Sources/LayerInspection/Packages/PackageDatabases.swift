import ContainerBasics
import Foundation

/// Parsers of the package databases an image holds. Each reads what its tool writes and ignores
/// what it does not know; none fails (a database it cannot read yields fewer packages).
enum PackageDatabases {
    // MARK: - Debian

    /// dpkg's status file (or one `status.d/` file): every package whose status says installed.
    static func dpkgStatus(_ text: String) -> [PackageRecord.DpkgPackage] {
        var packages: [PackageRecord.DpkgPackage] = []
        for stanza in stanzas(text) {
            guard let name = stanza["Package"], let version = stanza["Version"] else { continue }
            // "install ok installed", "hold ok installed"; distroless' status.d files may have none.
            if let status = stanza["Status"], !status.hasSuffix(" installed") { continue }
            var source: String?, sourceVersion: String?
            if let field = stanza["Source"] {
                let parts = field.split(separator: " ", maxSplits: 1)
                source = parts.first.map(String.init)
                if parts.count > 1 { sourceVersion = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "() ")) }
            }
            packages.append(
                PackageRecord.DpkgPackage(
                    name: name, version: version, architecture: stanza["Architecture"] ?? "all", source: source, sourceVersion: sourceVersion,
                    installedKiB: stanza["Installed-Size"].flatMap { Int64($0) }, maintainer: stanza["Maintainer"]))
        }
        return packages
    }

    /// A `.list` file: absolute paths, one a line, `/.` first. Returned without the leading `/`.
    static func dpkgList(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line in
            let path = line.drop { $0 == "/" }
            return path.isEmpty || path == "." ? nil : String(path)
        }
    }

    /// The licenses of a machine-readable `copyright` file (DEP-5): the `Files: *` paragraph's,
    /// else each paragraph's in order. Nothing for a free-form file.
    static func copyrightLicenses(_ text: String) -> [String] {
        let paragraphs = stanzas(text)
        guard let header = paragraphs.first, header["Format"]?.contains("copyright-format") == true else { return [] }
        func license(_ paragraph: [String: String]) -> String? {
            paragraph["License"].flatMap { $0.split(separator: "\n").first }.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let all = paragraphs.first(where: { $0["Files"]?.split(whereSeparator: \.isWhitespace).contains("*") == true }), let found = license(all) {
            return [found]
        }
        var found: [String] = []
        for paragraph in paragraphs where paragraph["Files"] != nil {
            if let value = license(paragraph), !found.contains(value) { found.append(value) }
        }
        return found
    }

    /// RFC 822-style paragraphs (dpkg, DEP-5, Python's metadata): field → value, continuation
    /// lines joined with a newline.
    static func stanzas(_ text: String, stopAtFirst: Bool = false) -> [[String: String]] {
        var result: [[String: String]] = []
        var current: [String: String] = [:]
        var lastKey: String?
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.last == "\r" ? rawLine.dropLast() : rawLine
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
                if !current.isEmpty {
                    result.append(current)
                    if stopAtFirst { return result }
                }
                current = [:]
                lastKey = nil
                continue
            }
            if line.first == " " || line.first == "\t" {
                if let lastKey { current[lastKey, default: ""] += "\n" + line.trimmingCharacters(in: .whitespaces) }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            // A repeated field (Python's Classifier) keeps every value, a line each.
            if let existing = current[key] { current[key] = existing + "\n" + value } else { current[key] = value }
            lastKey = key
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    // MARK: - Alpine

    /// apk's installed database: `P:` name, `V:` version, `A:` arch, `L:` license, `o:` origin,
    /// `F:` a directory and `R:` its files, each with its `Z:` checksum (`Q1` + base64 SHA-1).
    static func apkInstalled(_ text: String) -> [PackageRecord.ApkPackage] {
        var packages: [PackageRecord.ApkPackage] = []
        var current: PackageRecord.ApkPackage?
        var directory = ""
        func flush() {
            if let package = current, !package.name.isEmpty, !package.version.isEmpty { packages.append(package) }
            current = nil
            directory = ""
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty {
                flush()
                continue
            }
            guard line.count >= 2, line[line.index(after: line.startIndex)] == ":" else { continue }
            let value = String(line.dropFirst(2))
            if current == nil { current = PackageRecord.ApkPackage(name: "", version: "", files: []) }
            switch line.first {
            case "P": current?.name = value
            case "V": current?.version = value
            case "A": current?.architecture = value
            case "L": current?.license = value
            case "o": current?.origin = value
            case "m": current?.maintainer = value
            case "F": directory = value
            case "R": current?.files.append(PackageRecord.RecordedFile(path: directory.isEmpty ? value : directory + "/" + value))
            case "Z":
                if value.hasPrefix("Q1"), let hex = base64Hex(String(value.dropFirst(2))), let last = current?.files.indices.last {
                    current?.files[last].checksum = "sha1:" + hex
                }
            default: break
            }
        }
        flush()
        return packages
    }

    // MARK: - Python

    /// A distribution's `METADATA` (or an egg's `PKG-INFO`): name, version, and the license it
    /// states (`License-Expression`, a one-line `License`, else its license classifier).
    static func pythonMetadata(_ text: String) -> (name: String, version: String, license: String?, author: String?)? {
        // Field names are case-insensitive (core metadata follows RFC 822): "Author-Email" is "Author-email".
        guard let first = stanzas(text, stopAtFirst: true).first else { return nil }
        var headers: [String: String] = [:]
        for (key, value) in first {
            let canonical = [
                "name", "version", "license-expression", "license", "classifier", "author", "author-email", "maintainer", "maintainer-email",
                "home-page", "project-url",
            ]
            .first { $0 == key.lowercased() }
            if let canonical { headers[canonical.capitalizedFirst] = value }
        }
        guard let name = headers["Name"], let version = headers["Version"] else { return nil }
        var license: String?
        if let expression = headers["License-expression"], !expression.isEmpty {
            license = expression
        } else if let stated = headers["License"], !stated.contains("\n"), !stated.isEmpty, stated.count <= 100, stated.uppercased() != "UNKNOWN" {
            license = stated
        } else if let classifiers = headers["Classifier"] {
            let names = classifiers.split(separator: "\n").filter { $0.hasPrefix("License :: ") }.compactMap { $0.components(separatedBy: " :: ").last }
            if !names.isEmpty { license = names.joined(separator: " OR ") }
        }
        // Author, else maintainer; a name with its address ("Jane Doe <jane@example.org>") as written.
        let author = ["Author", "Author-email", "Maintainer", "Maintainer-email"].lazy.compactMap { headers[$0] }
            .first { !$0.isEmpty && $0.uppercased() != "UNKNOWN" && !$0.contains("\n") }
        // Nobody named: the owner of its source repository, as its project URLs give it.
        let urls = (headers["Home-page"].map { [$0] } ?? []) + (headers["Project-url"]?.split(separator: "\n").compactMap { $0.split(separator: ",").last.map(String.init) } ?? [])
        return (name, version, license, author ?? urls.lazy.compactMap(repositoryOwner).first)
    }

    /// A distribution's `RECORD` (CSV: path, `sha256=<urlsafe base64>`, size).
    static func pythonRecord(_ text: String) -> [PackageRecord.RecordedFile] {
        text.split(separator: "\n").compactMap { line in
            let fields = csvFields(line)
            guard let path = fields.first, !path.isEmpty else { return nil }
            var checksum: String?
            if fields.count > 1, let equals = fields[1].firstIndex(of: "=") {
                let algorithm = fields[1][..<equals]
                let encoded = fields[1][fields[1].index(after: equals)...]
                if let hex = base64Hex(String(encoded), urlSafe: true) { checksum = "\(algorithm):\(hex)" }
            }
            return PackageRecord.RecordedFile(path: path, checksum: checksum)
        }
    }

    static func csvFields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var index = line.startIndex
        while index < line.endIndex {
            let character = line[index]
            if quoted {
                if character == "\"" {
                    let next = line.index(after: index)
                    if next < line.endIndex, line[next] == "\"" {
                        field.append("\"")
                        index = next
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(character)
                }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(field)
                field = ""
            } else if character != "\r" {
                field.append(character)
            }
            index = line.index(after: index)
        }
        fields.append(field)
        return fields
    }

    // MARK: - Node

    /// A package's `package.json`: name, version, and its `license` (or old-style `licenses`).
    static func packageJSON(_ bytes: [UInt8]) -> (name: String, version: String, license: String?, author: String?)? {
        // Foundation's parser: package.json files hold any JSON (fractions, exponents) that
        // imagegen's canonical JSON does not need.
        guard let document = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any], let name = document["name"] as? String,
            !name.isEmpty, let version = document["version"] as? String, !version.isEmpty
        else { return nil }
        func type(_ value: Any?) -> String? { (value as? String) ?? ((value as? [String: Any])?["type"] as? String) }
        var license = type(document["license"])
        if license == nil, let list = document["licenses"] as? [Any] {
            let names = list.compactMap { type($0) }
            if !names.isEmpty { license = names.count == 1 ? names[0] : "(" + names.joined(separator: " OR ") + ")" }
        }
        // `author` ("Name <email> (url)" or {name, email}), else the first maintainer or contributor.
        func person(_ value: Any?) -> String? {
            if let text = value as? String, !text.isEmpty { return text }
            guard let object = value as? [String: Any], let name = object["name"] as? String, !name.isEmpty else { return nil }
            return (object["email"] as? String).map { "\(name) <\($0)>" } ?? name
        }
        let author =
            person(document["author"]) ?? person((document["maintainers"] as? [Any])?.first) ?? person((document["contributors"] as? [Any])?.first)
        let repository = (document["repository"] as? String) ?? ((document["repository"] as? [String: Any])?["url"] as? String)
        let urls = [repository, document["homepage"] as? String].compactMap { $0 }
        return (name, version, license, author ?? urls.lazy.compactMap(repositoryOwner).first)
    }

    // MARK: -

    /// `github.com/owner` for a URL of a repository on a forge (`https://github.com/owner/repo`,
    /// `git+https://…`, `git@github.com:owner/repo.git`, npm's `github:owner/repo`); nil otherwise.
    static func repositoryOwner(_ url: String) -> String? {
        var text = url.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("github:") { text = "github.com/" + text.dropFirst(7) }
        for prefix in ["git+", "https://", "http://", "ssh://", "git://", "git@", "www."] where text.hasPrefix(prefix) { text = String(text.dropFirst(prefix.count)) }
        text = text.replacingOccurrences(of: ":", with: "/")
        let parts = text.split(separator: "/")
        guard parts.count >= 2, ["github.com", "gitlab.com", "codeberg.org", "bitbucket.org"].contains(parts[0].lowercased()) else { return nil }
        return "\(parts[0].lowercased())/\(parts[1])"
    }

    /// Hex of base64 (standard or URL-safe, padding optional); nil when it is not base64.
    static func base64Hex(_ text: String, urlSafe: Bool = false) -> String? {
        var standard = urlSafe ? text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") : text
        while standard.count % 4 != 0 { standard += "=" }
        guard let data = Data(base64Encoded: standard), !data.isEmpty else { return nil }
        return data.hexString
    }
}

extension String {
    /// `license-expression` → `License-expression`.
    fileprivate var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
