import ContainerBasics

/// How a ``PackageRecord`` is kept in a layer index: one key naming the kind, compact arrays for
/// what repeats.
extension PackageRecord {
    var json: JSONValue {
        func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        func files(_ list: [RecordedFile]) -> JSONValue { .array(list.map { .array([.string($0.path), optional($0.checksum)]) }) }
        switch self {
        case .dpkgStatus(let packages):
            return [
                "dpkg": .array(
                    packages.map { package in
                        .array([
                            .string(package.name), .string(package.version), .string(package.architecture), optional(package.source),
                            optional(package.sourceVersion), package.installedKiB.map(JSONValue.int) ?? .null, optional(package.maintainer),
                        ])
                    })
            ]
        case .dpkgFiles(let package, let paths):
            return ["dpkgFiles": ["package": .string(package), "paths": .array(paths.map(JSONValue.string))]]
        case .debCopyright(let package, let licenses):
            return ["copyright": ["package": .string(package), "licenses": .array(licenses.map(JSONValue.string))]]
        case .apkInstalled(let packages):
            return [
                "apk": .array(
                    packages.map { package in
                        [
                            "name": .string(package.name), "version": .string(package.version), "arch": optional(package.architecture),
                            "license": optional(package.license), "origin": optional(package.origin), "maintainer": optional(package.maintainer),
                            "files": files(package.files),
                        ]
                    })
            ]
        case .pythonMetadata(let name, let version, let license, let author):
            return ["python": ["name": .string(name), "version": .string(version), "license": optional(license), "author": optional(author)]]
        case .pythonRecord(let list):
            return ["record": files(list)]
        case .nodePackage(let name, let version, let license, let author):
            return ["node": ["name": .string(name), "version": .string(version), "license": optional(license), "author": optional(author)]]
        case .link(let target):
            return ["link": .string(target)]
        }
    }

    init?(json: JSONValue) {
        func files(_ value: JSONValue?) -> [RecordedFile]? {
            value?.arrayValue?.compactMap { entry in
                guard let fields = entry.arrayValue, fields.count == 2, let path = fields[0].stringValue else { return nil }
                return RecordedFile(path: path, checksum: fields[1].stringValue)
            }
        }
        if let list = json["dpkg"]?.arrayValue {
            self = .dpkgStatus(
                list.compactMap { entry in
                    guard let fields = entry.arrayValue, fields.count == 7, let name = fields[0].stringValue, let version = fields[1].stringValue,
                        let architecture = fields[2].stringValue
                    else { return nil }
                    return DpkgPackage(
                        name: name, version: version, architecture: architecture, source: fields[3].stringValue, sourceVersion: fields[4].stringValue,
                        installedKiB: fields[5].intValue, maintainer: fields[6].stringValue)
                })
        } else if let value = json["dpkgFiles"], let package = value["package"]?.stringValue, let paths = value["paths"]?.arrayValue {
            self = .dpkgFiles(package: package, paths: paths.compactMap(\.stringValue))
        } else if let value = json["copyright"], let package = value["package"]?.stringValue, let licenses = value["licenses"]?.arrayValue {
            self = .debCopyright(package: package, licenses: licenses.compactMap(\.stringValue))
        } else if let list = json["apk"]?.arrayValue {
            self = .apkInstalled(
                list.compactMap { entry in
                    guard let name = entry["name"]?.stringValue, let version = entry["version"]?.stringValue else { return nil }
                    return ApkPackage(
                        name: name, version: version, architecture: entry["arch"]?.stringValue, license: entry["license"]?.stringValue,
                        origin: entry["origin"]?.stringValue, maintainer: entry["maintainer"]?.stringValue, files: files(entry["files"]) ?? [])
                })
        } else if let value = json["python"], let name = value["name"]?.stringValue, let version = value["version"]?.stringValue {
            self = .pythonMetadata(name: name, version: version, license: value["license"]?.stringValue, author: value["author"]?.stringValue)
        } else if let list = files(json["record"]) {
            self = .pythonRecord(list)
        } else if let value = json["node"], let name = value["name"]?.stringValue, let version = value["version"]?.stringValue {
            self = .nodePackage(name: name, version: version, license: value["license"]?.stringValue, author: value["author"]?.stringValue)
        } else if let target = json["link"]?.stringValue {
            self = .link(target: target)
        } else {
            return nil
        }
    }
}
