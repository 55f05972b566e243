import Foundation
import Yams
import ContainerBasics
import ImageGenValues
import BuildContext

/// `policy:` and its file rules.
extension RecipeLoader {
    static func readPolicy(_ node: Node, reader: YAMLReader) -> PolicySpec {
        var policy = PolicySpec()
        guard let pairs = reader.mapping(node, what: "policy", allowed: policyKeys) else { return policy }
        for (key, _, value) in pairs {
            switch key {
            case "max-size": policy.maxSize = reader.size(value, what: "policy.max-size")
            case "max-added": policy.maxAdded = reader.size(value, what: "policy.max-added")
            case "max-waste": policy.maxWaste = reader.size(value, what: "policy.max-waste")
            case "required-labels": policy.requiredLabels = reader.stringList(value, what: "policy.required-labels")
            case "probe-timeout": policy.probeTimeout = reader.int(value, what: "policy.probe-timeout (seconds)", range: 1...3600)
            case "secrets": policy.scanSecrets = reader.bool(value, what: "policy.secrets") ?? true
            case "allow-root":
                if let reason = reader.string(value, what: "policy.allow-root") {
                    if reason.value.trimmingCharacters(in: .whitespaces).count < 3 || ["true", "yes", "false", "no"].contains(reason.value.lowercased()) {
                        reader.error(
                            "policy.allow-root takes the reason the image runs as root (allow-root: \"a devcontainer base: VS Code connects as root\"); it goes into verify's report",
                            value)
                    } else {
                        policy.allowRoot = reason
                    }
                }
            case "files":
                guard let filePairs = reader.mapping(value, what: "policy.files", allowed: filePolicyKeys) else { continue }
                for (fileKey, _, list) in filePairs {
                    let rules = readFileRules(list, what: "policy.files.\(fileKey)", reader: reader)
                    if fileKey == "exists" { policy.files.exists = rules } else { policy.files.absent = rules }
                }
            default: break
            }
        }
        return policy
    }

    /// `[/path, {path: /other, mode: "0755", owner: "1000:1000"}]`
    static func readFileRules(_ node: Node, what: String, reader: YAMLReader) -> [FileRule] {
        guard case .sequence(let items) = node else {
            if node.null != nil { return [] }
            reader.error("\(what) must be a list, found \(YAMLReader.describe(node))", node)
            return []
        }
        return items.compactMap { item -> FileRule? in
            var rule: FileRule
            if case .mapping = item {
                guard let pairs = reader.mapping(item, what: "\(what) entry", allowed: ["path", "mode", "owner"]) else { return nil }
                guard let pathNode = pairs.first(where: { $0.key == "path" })?.value, let path = reader.string(pathNode, what: "\(what).path") else {
                    reader.error("\(what) entry needs 'path'", item)
                    return nil
                }
                rule = FileRule(path: path)
                if let modeNode = pairs.first(where: { $0.key == "mode" })?.value, let text = reader.string(modeNode, what: "\(what).mode") {
                    if let mode = UInt32(text.value, radix: 8), mode <= 0o7777 {
                        rule.mode = mode
                    } else {
                        reader.error("\(what).mode '\(text.value)' must be octal, like \"0755\"", modeNode)
                    }
                }
                if let ownerNode = pairs.first(where: { $0.key == "owner" })?.value, let text = reader.string(ownerNode, what: "\(what).owner") {
                    let parts = text.value.split(separator: ":", omittingEmptySubsequences: false)
                    if (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) {
                        rule.owner = text.value
                    } else {
                        reader.error("\(what).owner '\(text.value)' must be numeric, uid or uid:gid", ownerNode)
                    }
                }
            } else {
                guard let path = reader.string(item, what: "each entry of \(what)") else { return nil }
                rule = FileRule(path: path)
            }
            if !rule.path.value.hasPrefix("/") {
                reader.diagnostics.error("\(what): '\(rule.path.value)' must be an absolute path in the image", at: rule.path.location)
                return nil
            }
            return rule
        }
    }
}
