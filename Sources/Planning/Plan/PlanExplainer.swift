import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes

/// Answers "why did my cache miss?": compares a layer's current hash inputs with the ones
/// recorded in `generated/<recipe>/<layer>/inputs.json` and names each difference.
public enum PlanExplainer {
    public struct Explanation: Sendable {
        public var layer: String
        public var unchanged: Bool
        /// One line per difference, most telling first.
        public var changes: [String]
    }

    public static func explain(_ plan: BuildPlan, generatedDirectory: String) -> [Explanation] {
        plan.layers.map { layer in
            let directory = RecipeResolver.join(generatedDirectory, "\(plan.name)/\(layer.name)")
            let recordedDockerfile = FileManager.default.contents(atPath: directory + "/Dockerfile").map { String(decoding: $0, as: UTF8.self) }
            guard let data = FileManager.default.contents(atPath: directory + "/inputs.json") else {
                return Explanation(layer: layer.displayName, unchanged: false, changes: ["new layer: nothing recorded in \(directory)/inputs.json"])
            }
            guard let file = try? JSONValue(parsing: data) else {
                return Explanation(layer: layer.displayName, unchanged: false, changes: ["\(directory)/inputs.json cannot be read; run imagegen generate"])
            }
            // A multi-platform layer's inputs.json holds one document per platform.
            let document = layer.platform.map { file["platforms"]?[$0.description] } ?? file
            guard let document, let recorded = document["inputs"] else {
                if let platform = layer.platform, file["platforms"]?[platform.description] == nil {
                    return Explanation(layer: layer.displayName, unchanged: false, changes: ["new platform: nothing recorded for \(platform) in \(directory)/inputs.json"])
                }
                return Explanation(layer: layer.displayName, unchanged: false, changes: ["\(directory)/inputs.json cannot be read; run imagegen generate"])
            }
            if document["contentHash"]?.stringValue == layer.contentHash.hex {
                return Explanation(layer: layer.displayName, unchanged: true, changes: [])
            }
            return Explanation(
                layer: layer.displayName, unchanged: false,
                changes: compare(recorded: recorded, current: layer.inputs, recordedDockerfile: recordedDockerfile, currentDockerfile: layer.dockerfile))
        }
    }

    static func compare(recorded: JSONValue, current: JSONValue, recordedDockerfile: String?, currentDockerfile: String) -> [String] {
        var changes: [String] = []
        if recorded["format"] != current["format"] {
            changes.append("imagegen's input format changed (\(recorded["format"]?.stringValue ?? "?") → \(current["format"]?.stringValue ?? "?")): every layer rebuilds once")
        }
        // Parent or base image.
        let oldParent = recorded["parent"], newParent = current["parent"]
        if oldParent != newParent {
            let oldName = oldParent?["layer"]?.stringValue, newName = newParent?["layer"]?.stringValue
            if let oldName, let newName, oldName == newName {
                changes.append("parent layer '\(newName)' changed (content hash \(short(oldParent?["contentHash"])) → \(short(newParent?["contentHash"])))")
            } else {
                changes.append("parent changed: \(describeParent(recorded)) → \(describeParent(current))")
            }
        } else if recorded["base"] != current["base"] {
            changes.append("base image changed: \(describeParent(recorded)) → \(describeParent(current))")
        }
        // Args.
        let oldArgs = recorded["args"]?.objectValue ?? [:], newArgs = current["args"]?.objectValue ?? [:]
        for name in Set(oldArgs.keys).union(newArgs.keys).sorted() where oldArgs[name] != newArgs[name] {
            switch (oldArgs[name]?.stringValue, newArgs[name]?.stringValue) {
            case (nil, let value?): changes.append("arg \(name) is now used (= \"\(value)\")")
            case (_?, nil): changes.append("arg \(name) is no longer used")
            case (let old?, let new?): changes.append("arg \(name) changed: \"\(old)\" → \"\(new)\"")
            default: break
            }
        }
        // Pinned repositories: their commits say more than the files that changed with them.
        func repos(_ inputs: JSONValue) -> [String: String] {
            var result: [String: String] = [:]
            for repo in inputs["repos"]?.arrayValue ?? [] {
                if let path = repo["path"]?.stringValue { result[path] = repo["commit"]?.stringValue ?? "" }
            }
            return result
        }
        let oldRepos = repos(recorded), newRepos = repos(current)
        for path in Set(oldRepos.keys).union(newRepos.keys).sorted() where oldRepos[path] != newRepos[path] {
            switch (oldRepos[path], newRepos[path]) {
            case (nil, let commit?): changes.append("repo \(path) added at \(commit.prefix(shortHashLength))")
            case (_?, nil): changes.append("repo \(path) removed")
            case (let old?, let new?): changes.append("repo \(path): \(old.prefix(shortHashLength)) → \(new.prefix(shortHashLength))")
            default: break
            }
        }
        // Files.
        func byPath(_ inputs: JSONValue) -> [String: JSONValue] {
            var result: [String: JSONValue] = [:]
            for file in inputs["files"]?.arrayValue ?? [] {
                if let path = file["path"]?.stringValue { result[path] = file }
            }
            return result
        }
        let oldFiles = byPath(recorded), newFiles = byPath(current)
        for path in Set(oldFiles.keys).union(newFiles.keys).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            switch (oldFiles[path], newFiles[path]) {
            case (nil, _?): changes.append("file added: \(path)")
            case (_?, nil): changes.append("file removed: \(path)")
            case (let old?, let new?) where old != new:
                if old["type"] != new["type"] {
                    changes.append("\(path) changed from a \(old["type"]?.stringValue ?? "?") to a \(new["type"]?.stringValue ?? "?")")
                    continue
                }
                if old["sha256"] != new["sha256"] {
                    let sizes = old["size"] == new["size"] ? "same size" : "\(old["size"]?.intValue ?? 0) → \(new["size"]?.intValue ?? 0) bytes"
                    changes.append("content of \(path) changed (sha256 \(short(old["sha256"])) → \(short(new["sha256"])), \(sizes))")
                }
                if old["mode"] != new["mode"] {
                    changes.append("mode of \(path) changed: \(old["mode"]?.stringValue ?? "?") → \(new["mode"]?.stringValue ?? "?")")
                }
                if old["target"] != new["target"] {
                    changes.append("symlink \(path) now points to '\(new["target"]?.stringValue ?? "")' (was '\(old["target"]?.stringValue ?? "")')")
                }
            default: break
            }
        }
        // The Dockerfile, line by line. Lines that only follow the parent's new tag (FROM and the
        // base-name label) are already explained by the parent's change, so they are left out.
        if recorded["dockerfile"] != current["dockerfile"] {
            if var recordedDockerfile {
                if let oldHash = oldParent?["contentHash"]?.stringValue, let newHash = newParent?["contentHash"]?.stringValue {
                    recordedDockerfile = recordedDockerfile.replacingOccurrences(
                        of: ":" + oldHash.prefix(shortHashLength), with: ":" + newHash.prefix(shortHashLength))
                }
                changes += LineDiff.describe(old: recordedDockerfile, new: currentDockerfile).map { "Dockerfile \($0)" }
            } else {
                changes.append("the Dockerfile changed (the recorded one is missing, so no line diff)")
            }
        }
        if changes.isEmpty { changes.append("inputs differ from the recorded ones; run imagegen generate to record them") }
        return changes
    }

    private static func short(_ value: JSONValue?) -> String { String((value?.stringValue ?? "none").prefix(shortHashLength)) }

    private static func describeParent(_ inputs: JSONValue) -> String {
        if let layer = inputs["parent"]?["layer"]?.stringValue { return "layer '\(layer)'" }
        if let reference = inputs["base"]?["reference"]?.stringValue { return "image \(reference)" }
        return "nothing"
    }
}

/// A minimal line diff (longest common subsequence) for Dockerfiles, which are short.
enum LineDiff {
    static func describe(old: String, new: String) -> [String] {
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard a.count * b.count <= 4_000_000 else { return ["changed (too long to diff)"] }
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var result: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                i += 1; j += 1
            } else if i < a.count, j == b.count || lcs[i + 1][j] >= lcs[i][j + 1] {
                result.append("line \(i + 1) removed: \(a[i])")
                i += 1
            } else {
                result.append("line \(j + 1) added: \(b[j])")
                j += 1
            }
        }
        return result
    }
}
