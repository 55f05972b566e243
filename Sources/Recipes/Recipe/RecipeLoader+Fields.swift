import Foundation
import Yams
import ContainerBasics
import ImageGenValues
import BuildContext

/// The keys of a layer with a structure of their own: labels, env, user, copy, context.
extension RecipeLoader {
    /// `labels:`, with the well-known OCI labels' values in the shape the annotations spec gives
    /// them (checked now, not only by verify after the build).
    static func readLabels(_ node: Node, reader: YAMLReader) -> [KeyValue] {
        let labels = reader.keyValues(node, what: "labels", validateKey: Names.labelKeyProblem)
        for label in labels {
            if let problem = ImageLabels.OCI.problem(label.key, label.value) { reader.diagnostics.error("labels: \(problem)", at: label.location) }
        }
        return labels
    }

    /// `env:`, refusing a literal value under a name that says secret: `ENV` is baked into the
    /// image (every layer, `docker inspect`), so the value belongs to run time.
    static func readEnv(_ node: Node, reader: YAMLReader) -> [KeyValue] {
        let env = reader.keyValues(node, what: "env", validateKey: Names.envKeyProblem)
        for variable in env where SecretNames.looksSecret(variable.key) && !variable.value.isEmpty {
            reader.diagnostics.error(
                "env \(variable.key): its name says it holds a secret, and ENV is baked into every image built on this layer "
                    + "(docker inspect shows it); leave it out of the recipe and supply it when the container runs: "
                    + "`docker run -e \(variable.key)` (from your environment), `--env-file FILE`, or a mounted secret file "
                    + "(e.g. \(variable.key)_FILE=/run/secrets/…)",
                at: variable.location)
        }
        return env
    }

    /// `platforms: [linux/amd64, linux/arm64]`: each once, in the order given.
    static func readPlatforms(_ node: Node, what: String, reader: YAMLReader) -> [Located<Platform>] {
        var platforms: [Located<Platform>] = []
        for item in reader.stringList(node, what: what) {
            do {
                let platform = try Platform(parsing: item.value)
                if platforms.contains(where: { $0.value == platform }) {
                    reader.diagnostics.error("\(what): \(platform) is listed twice", at: item.location)
                } else {
                    platforms.append(Located(platform, at: item.location))
                }
            } catch {
                reader.diagnostics.error("\(error)", at: item.location)
            }
        }
        if platforms.isEmpty, reader.stringList(node, what: what).isEmpty {
            reader.error("\(what) is empty: list at least one platform, or leave it out for the engine's own", node)
        }
        return platforms
    }

    /// `cache: {registry: REGISTRY[/NAMESPACE], mode: read|readwrite}`.
    static func readCache(_ node: Node, reader: YAMLReader) -> Located<RegistryCache>? {
        guard let pairs = reader.mapping(node, what: "cache", allowed: cacheKeys) else { return nil }
        var registry: Located<String>?
        var mode = RegistryCache.Mode.readwrite
        for (key, _, value) in pairs {
            switch key {
            case "registry": registry = reader.string(value, what: "cache.registry")
            case "mode":
                if let text = reader.string(value, what: "cache.mode") {
                    if let parsed = RegistryCache.Mode(rawValue: text.value) {
                        mode = parsed
                    } else {
                        reader.error("cache.mode '\(text.value)' must be read or readwrite", value)
                    }
                }
            default: break
            }
        }
        guard let registry else {
            if !pairs.contains(where: { $0.key == "registry" }) { reader.error("cache needs a 'registry' (e.g. registry: ghcr.io/team/imagegen-cache)", node) }
            return nil
        }
        do {
            return Located(try RegistryCache(parsing: registry.value, mode: mode), at: registry.location)
        } catch {
            reader.diagnostics.error("cache.registry: \(error)", at: registry.location)
            return nil
        }
    }

    static func readUser(_ node: Node, reader: YAMLReader, what: String = "user") -> UserSpec? {
        guard let pairs = reader.mapping(node, what: what, allowed: userKeys) else { return nil }
        var name: String?, uid: Int?, gid: Int?, home: String?, shell: String?, create = true
        for (key, _, value) in pairs {
            switch key {
            case "name":
                if let text = reader.string(value, what: "\(what).name") {
                    if text.value == "root" {
                        reader.error(
                            "\(what).name 'root': the account already exists (the build would fail at groupadd) and the image must run as a non-root user; pick another name, e.g. 'agent' (or, to run as root on purpose, leave user: out and give the layer policy: {allow-root: \"why\"})",
                            value)
                    } else if let problem = Names.userNameProblem(text.value) {
                        reader.error(problem, value)
                    } else {
                        name = text.value
                    }
                }
            case "uid":
                if let number = reader.int(value, what: "\(what).uid", range: 0...2_147_483_647) {
                    if number.value == 0 {
                        reader.error("\(what).uid 0 is root: the image must run as a non-root user", value)
                    } else {
                        uid = number.value
                    }
                }
            case "gid": gid = reader.int(value, what: "\(what).gid", range: 0...2_147_483_647)?.value
            case "home":
                if let text = reader.string(value, what: "\(what).home") {
                    if let problem = Names.imagePathProblem(text.value, what: "\(what).home") { reader.error(problem, value) } else { home = text.value }
                }
            case "shell": shell = reader.string(value, what: "\(what).shell")?.value
            case "create": create = reader.bool(value, what: "\(what).create") ?? true
            default: break
            }
        }
        if name == nil, !pairs.contains(where: { $0.key == "name" }) { reader.error("\(what) needs a 'name'", node) }
        if uid == nil, !pairs.contains(where: { $0.key == "uid" }) { reader.error("\(what) needs a 'uid' (e.g. uid: 1000)", node) }
        guard let name, let uid else { return nil }
        var user = UserSpec(name: name, uid: uid, gid: gid ?? uid, home: home ?? "/home/\(name)", shell: shell, location: reader.location(node))
        user.create = create
        return user
    }

    static func readCopies(_ node: Node, reader: YAMLReader) -> [CopySpec] {
        guard case .sequence(let items) = node else {
            reader.error("copy must be a list of {src, dest}, found \(YAMLReader.describe(node))", node)
            return []
        }
        return items.compactMap { readCopy($0, what: "copy entry", reader: reader) }
    }

    /// `{src: PATH | [PATH…], dest, owner: user|root, chown: U:G, mode: "0755", from: IMAGE|LAYER}`.
    /// In a step, a relative `dest` is the builder's: relative to the `WORKDIR` at that point.
    static func readCopy(_ item: Node, what: String, reader: YAMLReader, relativeDestination: Bool = false) -> CopySpec? {
        guard let pairs = reader.mapping(item, what: what, allowed: copyKeys) else { return nil }
        var sources: [Located<String>] = [], destination: Located<String>?, ownedByUser = false
        var chown: Located<String>?, mode: Located<String>?, from: Located<String>?
        for (key, _, value) in pairs {
            switch key {
            case "src":
                if case .sequence = value {
                    sources = reader.stringList(value, what: "copy.src")
                    if sources.isEmpty { reader.error("copy.src is an empty list", value) }
                } else if let source = reader.string(value, what: "copy.src") {
                    sources = [source]
                }
            case "dest":
                destination = reader.string(value, what: "copy.dest")
                if let dest = destination, !(relativeDestination && !dest.value.isEmpty && !dest.value.hasPrefix("/")),
                    let problem = Names.imagePathProblem(dest.value, what: "copy.dest")
                {
                    reader.error(problem, value)
                    destination = nil
                }
            case "owner":
                if let owner = reader.string(value, what: "copy.owner") {
                    switch owner.value {
                    case "user": ownedByUser = true
                    case "root": ownedByUser = false
                    default: reader.error("copy.owner must be 'user' or 'root', found '\(owner.value)' (for other owners, chown: \"uid:gid\")", value)
                    }
                }
            case "chown":
                if let text = reader.string(value, what: "copy.chown") {
                    let parts = text.value.split(separator: ":", omittingEmptySubsequences: false)
                    if (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || "_-.$".contains($0) } }) {
                        chown = text
                    } else {
                        reader.error("copy.chown '\(text.value)' must be USER[:GROUP], names or numbers", value)
                    }
                }
            case "mode":
                if let text = reader.string(value, what: "copy.mode") {
                    if text.value.count <= 4, let bits = UInt32(text.value, radix: 8), bits <= 0o7777 {
                        mode = text
                    } else {
                        reader.error("copy.mode '\(text.value)' must be octal permission bits, like \"0755\" (quoted: YAML reads 0755 as a number)", value)
                    }
                }
            case "from": from = reader.string(value, what: "copy.from")
            default: break
            }
        }
        if pairs.contains(where: { $0.key == "owner" }), chown != nil { reader.error("copy takes 'owner' or 'chown', not both", item) }
        if sources.isEmpty, !pairs.contains(where: { $0.key == "src" }) { reader.error("\(what) needs 'src'", item) }
        if destination == nil, !pairs.contains(where: { $0.key == "dest" }) { reader.error("\(what) needs 'dest'", item) }
        guard !sources.isEmpty, let destination else { return nil }
        if sources.count > 1, !destination.value.hasSuffix("/") {
            reader.diagnostics.error("copy.dest '\(destination.value)' must end with '/' when several sources are copied into it", at: destination.location)
        }
        if from == nil {
            for source in sources where source.value.contains("*") || source.value.contains("?") {
                reader.diagnostics.error("copy.src '\(source.value)': a pattern is not a path; name the file or its directory", at: source.location)
            }
        }
        var copy = CopySpec(sources: sources, destination: destination, ownedByUser: ownedByUser)
        copy.chown = chown
        copy.mode = mode
        copy.from = from
        return copy
    }

    static func readContext(_ node: Node, reader: YAMLReader) -> ContextSpec? {
        guard let pairs = reader.mapping(node, what: "context", allowed: contextKeys) else { return nil }
        var directory: Located<String>?, destination: Located<String>?, manifest: Located<String>?, package: Located<String>?
        for (key, _, value) in pairs {
            switch key {
            case "dir": directory = reader.string(value, what: "context.dir")
            case "package": package = reader.string(value, what: "context.package")
            case "dest":
                destination = reader.string(value, what: "context.dest")
                if let dest = destination, let problem = Names.imagePathProblem(dest.value, what: "context.dest") {
                    reader.error(problem, value)
                    destination = nil
                }
            case "manifest": manifest = reader.string(value, what: "context.manifest")
            default: break
            }
        }
        let named = pairs.filter { $0.key == "dir" || $0.key == "package" }
        if named.isEmpty { reader.error("context needs 'dir' (a directory next to the recipe) or 'package' (a .context file)", node) }
        if named.count == 2 { reader.error("context takes 'dir' or 'package', not both", node) }
        guard named.count == 1, let source = directory ?? package else { return nil }
        let at = reader.location(node)
        var spec = ContextSpec(
            directory: source,
            destination: destination ?? Located("/workspace/context", at: at),
            manifest: manifest ?? Located("manifest.yaml", at: source.location))
        spec.isPackage = package != nil
        return spec
    }
}
