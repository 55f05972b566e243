import ContainerBasics
import Foundation
import ImageGenValues
import LayerInspection

/// One side of a comparison: an image's layers (as indexed), its packages, and its checks when a
/// verify report of it is known.
public struct DiffSide: Sendable {
    public var reference: String
    public var inventory: PackageInventory
    /// The image's regular files changed since the point where the walk that made this side
    /// began to track them (the other side's walk began at the same point), by path in UTF-8
    /// order: all of them for a side made on its own.
    public var files: [FileChange]
    /// The bytes of the image's files, as verify's size counts them (every layer's).
    public var bytes: Int64
    /// Check name → passed and message, from a verify report of this image; nil when none is known.
    public var checks: [String: CheckOutcome]?

    public struct CheckOutcome: Sendable, Equatable {
        public var passed: Bool
        public var message: String

        public init(passed: Bool, message: String) {
            self.passed = passed
            self.message = message
        }
    }

    /// The side of an image whose layers (bottom first) are `blobs`.
    public init(reference: String, blobs: [LayerBlob], checks: [String: CheckOutcome]? = nil) {
        let chain = Array(blobs.indices)
        let snapshot = PackageInventory.snapshots(chains: [chain], layer: { blobs[$0] }, trackingFrom: 0)![chain]!
        self.init(reference: reference, snapshot: snapshot, checks: checks)
    }

    /// The side of an image as a walk up its layers left it.
    public init(reference: String, snapshot: PackageInventory.Snapshot, checks: [String: CheckOutcome]? = nil) {
        self.reference = reference
        self.inventory = snapshot.inventory
        self.files = snapshot.files
        self.bytes = snapshot.bytes
        self.checks = checks
    }
}

/// What changed between two images of one layer: size, packages, files and checks.
public struct ImageDiff: Sendable {
    public struct ChangedPackage: Sendable {
        public var old: InventoryPackage
        public var new: InventoryPackage
    }

    public struct ChangedCheck: Sendable, Equatable {
        public var name: String
        /// nil: the check did not run on that side.
        public var old: Bool?
        public var new: Bool?
        public var message: String
    }

    public var layer: String
    public var old: String
    public var new: String
    public var oldBytes: Int64
    public var newBytes: Int64
    public var added: [InventoryPackage] = []
    public var removed: [InventoryPackage] = []
    public var changed: [ChangedPackage] = []
    /// The largest files only the new image has, and only the old one (path, bytes).
    public var filesAdded: [(path: String, bytes: Int64)] = []
    public var filesRemoved: [(path: String, bytes: Int64)] = []
    public var filesAddedCount = 0
    public var filesRemovedCount = 0
    public var filesChangedCount = 0
    /// Checks whose result differs; nil when either side has no verify report.
    public var checks: [ChangedCheck]?

    public var isEmpty: Bool {
        oldBytes == newBytes && added.isEmpty && removed.isEmpty && changed.isEmpty && filesAddedCount == 0 && filesRemovedCount == 0
            && filesChangedCount == 0 && (checks?.isEmpty ?? true)
    }

    /// How many of the largest added and removed files are listed.
    public static let fileCount = 10

    public static func compare(layer: String, old: DiffSide, new: DiffSide) -> ImageDiff {
        var diff = ImageDiff(layer: layer, old: old.reference, new: new.reference, oldBytes: old.bytes, newBytes: new.bytes)
        let before = Dictionary(old.inventory.packages.map { (identity($0), $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(new.inventory.packages.map { (identity($0), $0) }, uniquingKeysWith: { first, _ in first })
        for (key, package) in after {
            if let previous = before[key] {
                if previous.version != package.version { diff.changed.append(ChangedPackage(old: previous, new: package)) }
            } else {
                diff.added.append(package)
            }
        }
        for (key, package) in before where after[key] == nil { diff.removed.append(package) }
        let order: (InventoryPackage, InventoryPackage) -> Bool = { ($0.ecosystem, $0.name, $0.location) < ($1.ecosystem, $1.name, $1.location) }
        diff.added.sort(by: order)
        diff.removed.sort(by: order)
        diff.changed.sort { order($0.new, $1.new) }

        // Both lists are sorted by path: one pass through them side by side. A path one side
        // changed and the other did not is, on the other, what it was where both walks began.
        var added: [(path: String, bytes: Int64)] = [], removed: [(path: String, bytes: Int64)] = []
        var oldIndex = old.files.startIndex, newIndex = new.files.startIndex
        while oldIndex < old.files.endIndex || newIndex < new.files.endIndex {
            let left = oldIndex < old.files.endIndex ? old.files[oldIndex] : nil
            let right = newIndex < new.files.endIndex ? new.files[newIndex] : nil
            let path: String, was: Int64?, now: Int64?
            if let left, let right, left.path == right.path {
                (path, was, now) = (left.path, left.after, right.after)
                oldIndex += 1
                newIndex += 1
            } else if let right, left.map({ utf8Precedes(right.path, $0.path) }) ?? true {
                (path, was, now) = (right.path, right.before, right.after)
                newIndex += 1
            } else if let left {
                (path, was, now) = (left.path, left.after, left.before)
                oldIndex += 1
            } else {
                break
            }
            switch (was, now) {
            case (nil, let size?): added.append((path, size))
            case (let size?, nil): removed.append((path, size))
            case (let before?, let after?) where before != after: diff.filesChangedCount += 1
            default: break
            }
        }
        diff.filesAddedCount = added.count
        diff.filesRemovedCount = removed.count
        let largest: ((path: String, bytes: Int64), (path: String, bytes: Int64)) -> Bool = { ($0.bytes, $1.path) > ($1.bytes, $0.path) }
        diff.filesAdded = Array(added.sorted(by: largest).prefix(fileCount))
        diff.filesRemoved = Array(removed.sorted(by: largest).prefix(fileCount))

        if let oldChecks = old.checks, let newChecks = new.checks {
            var changes: [ChangedCheck] = []
            for name in Set(oldChecks.keys).union(newChecks.keys).sorted() {
                let was = oldChecks[name], now = newChecks[name]
                guard was?.passed != now?.passed else { continue }
                changes.append(ChangedCheck(name: name, old: was?.passed, new: now?.passed, message: now?.message ?? was?.message ?? ""))
            }
            diff.checks = changes
        }
        return diff
    }

    /// What makes two packages the same one across images: an OS package by name (and
    /// architecture), a Python distribution by name in its directory, a Node package by directory.
    static func identity(_ package: InventoryPackage) -> String {
        switch package.ecosystem {
        case .deb, .apk: "\(package.ecosystem.rawValue)/\(package.name)/\(package.architecture ?? "")"
        case .pypi:
            "pypi/\(package.name.lowercased())/\((package.location as NSString).deletingLastPathComponent)"
        case .npm: "npm/\(package.location)"
        }
    }
}

/// `imagegen diff` reports: text for a terminal, JSON, and Markdown for a pull request comment
/// or a job summary. Every string passes the redactor.
public enum DiffReport {
    public static let jsonSchema = "imagegen.diff/1"

    static func signed(_ bytes: Int64) -> String { (bytes >= 0 ? "+" : "−") + ByteSize(bytes: abs(bytes)).description }

    static func package(_ package: InventoryPackage) -> String { "\(package.name) \(package.version) (\(package.ecosystem.rawValue))" }

    public static func text(_ diffs: [ImageDiff], old: String, new: String) -> String {
        var lines = ["imagegen diff \(old) → \(new)"]
        for diff in diffs {
            lines.append("")
            lines.append("\(diff.layer): \(ByteSize(bytes: diff.oldBytes)) → \(ByteSize(bytes: diff.newBytes)) (\(signed(diff.newBytes - diff.oldBytes)))")
            lines.append("  \(diff.old) → \(diff.new)")
            if diff.isEmpty {
                lines.append("  no change")
                continue
            }
            lines.append(contentsOf: capped(diff.added.map { "  + \(Self.package($0))" }))
            lines.append(contentsOf: capped(diff.removed.map { "  - \(Self.package($0))" }))
            lines.append(contentsOf: capped(diff.changed.map { "  ~ \($0.new.name) \($0.old.version) → \($0.new.version) (\($0.new.ecosystem.rawValue))" }))
            lines.append("  files: \(diff.filesAddedCount) added, \(diff.filesRemovedCount) removed, \(diff.filesChangedCount) changed in size")
            for file in diff.filesAdded { lines.append("    + \(ByteSize(bytes: file.bytes))  /\(file.path)") }
            for file in diff.filesRemoved { lines.append("    - \(ByteSize(bytes: file.bytes))  /\(file.path)") }
            lines.append(contentsOf: checkLines(diff, prefix: "  "))
        }
        return Redactor.redact(lines.joined(separator: "\n"))
    }

    /// How many packages a list shows before `… and N more` (JSON lists them all).
    public static let listed = 50

    static func capped(_ lines: [String]) -> [String] {
        lines.count <= listed ? lines : Array(lines.prefix(listed)) + ["    … and \(lines.count - listed) more (--format json lists them all)"]
    }

    static func names(_ items: [String]) -> String {
        items.count <= listed ? items.joined(separator: ", ") : items.prefix(listed).joined(separator: ", ") + " … and \(items.count - listed) more"
    }

    static func checkLines(_ diff: ImageDiff, prefix: String) -> [String] {
        guard let checks = diff.checks else { return ["\(prefix)checks: not compared (no verify report of one side)"] }
        if checks.isEmpty { return ["\(prefix)checks: the same results"] }
        func state(_ passed: Bool?) -> String { passed.map { $0 ? "passed" : "FAILED" } ?? "absent" }
        return checks.map { "\(prefix)check \($0.name): \(state($0.old)) → \(state($0.new)) — \($0.message)" }
    }

    public static func markdown(_ diffs: [ImageDiff], old: String, new: String) -> String {
        var lines = ["### imagegen diff `\(old)` → `\(new)`", "", "| layer | size | packages | files |", "|---|---|---|---|"]
        for diff in diffs {
            let packages = "+\(diff.added.count) −\(diff.removed.count) ~\(diff.changed.count)"
            let files = "+\(diff.filesAddedCount) −\(diff.filesRemovedCount)"
            lines.append(
                "| `\(diff.layer)` | \(ByteSize(bytes: diff.oldBytes)) → \(ByteSize(bytes: diff.newBytes)) (\(signed(diff.newBytes - diff.oldBytes))) | \(packages) | \(files) |")
        }
        for diff in diffs where !diff.isEmpty {
            lines.append("")
            lines.append("<details><summary><code>\(diff.layer)</code></summary>")
            lines.append("")
            if !diff.changed.isEmpty {
                lines.append("Changed: " + names(diff.changed.map { "`\($0.new.name)` \($0.old.version) → \($0.new.version)" }))
                lines.append("")
            }
            if !diff.added.isEmpty {
                lines.append("Added: " + names(diff.added.map { "`\($0.name)` \($0.version)" }))
                lines.append("")
            }
            if !diff.removed.isEmpty {
                lines.append("Removed: " + names(diff.removed.map { "`\($0.name)` \($0.version)" }))
                lines.append("")
            }
            if !diff.filesAdded.isEmpty || !diff.filesRemoved.isEmpty {
                lines.append("| file | bytes |")
                lines.append("|---|---|")
                for file in diff.filesAdded { lines.append("| + `/\(file.path)` | \(ByteSize(bytes: file.bytes)) |") }
                for file in diff.filesRemoved { lines.append("| − `/\(file.path)` | \(ByteSize(bytes: file.bytes)) |") }
                lines.append("")
            }
            lines.append(contentsOf: checkLines(diff, prefix: "- "))
            lines.append("")
            lines.append("</details>")
        }
        return Redactor.redact(lines.joined(separator: "\n")) + "\n"
    }

    public static func json(_ diffs: [ImageDiff], old: String, new: String) -> JSONValue {
        func package(_ package: InventoryPackage) -> JSONValue {
            [
                "name": .string(Redactor.redact(package.name)), "version": .string(Redactor.redact(package.version)),
                "ecosystem": .string(package.ecosystem.rawValue), "purl": .string(Redactor.redact(package.purl)), "bytes": .int(package.bytes),
            ]
        }
        func files(_ list: [(path: String, bytes: Int64)]) -> JSONValue {
            .array(list.map { ["path": .string(Redactor.redact("/" + $0.path)), "bytes": .int($0.bytes)] })
        }
        return [
            "schema": .string(jsonSchema), "old": .string(old), "new": .string(new),
            "layers": .array(
                diffs.map { diff in
                    [
                        "layer": .string(diff.layer), "oldImage": .string(diff.old), "newImage": .string(diff.new), "oldBytes": .int(diff.oldBytes),
                        "newBytes": .int(diff.newBytes),
                        "packages": [
                            "added": .array(diff.added.map(package)), "removed": .array(diff.removed.map(package)),
                            "changed": .array(
                                diff.changed.map { change in
                                    [
                                        "name": .string(Redactor.redact(change.new.name)), "ecosystem": .string(change.new.ecosystem.rawValue),
                                        "oldVersion": .string(Redactor.redact(change.old.version)), "newVersion": .string(Redactor.redact(change.new.version)),
                                    ]
                                }),
                        ],
                        "files": [
                            "added": .int(Int64(diff.filesAddedCount)), "removed": .int(Int64(diff.filesRemovedCount)),
                            "changedInSize": .int(Int64(diff.filesChangedCount)), "largestAdded": files(diff.filesAdded),
                            "largestRemoved": files(diff.filesRemoved),
                        ],
                        "checks": diff.checks.map { checks in
                            .array(
                                checks.map { check in
                                    [
                                        "name": .string(check.name), "old": check.old.map(JSONValue.bool) ?? .null, "new": check.new.map(JSONValue.bool) ?? .null,
                                        "message": .string(Redactor.redact(check.message)),
                                    ]
                                })
                        } ?? .null,
                    ]
                }),
        ]
    }
}
