import Foundation
import Yams

/// Reads a recipe file into a ``Recipe``, collecting every syntax, key and type mistake.
///
/// Loading checks the shape of the file only; names, the layer graph and files on disk are
/// checked by ``RecipeResolver``.
public enum RecipeLoader {
    static let rootKeys = ["recipe", "version", "description", "labels", "args", "layers", "toolsets"]
    static let layerKeys = [
        "from", "description", "distro", "packages", "pip", "npm", "user", "workdir", "env", "copy", "run", "toolsets",
        "probes", "context", "labels", "cmd", "entrypoint", "healthcheck", "policy",
    ]
    static let probeKeys = ["run", "expect"]
    static let healthcheckKeys = ["command", "interval", "timeout", "start-period", "retries"]
    static let userKeys = ["name", "uid", "gid", "home", "shell"]
    static let copyKeys = ["src", "dest", "owner"]
    static let contextKeys = ["dir", "package", "dest", "manifest"]
    static let policyKeys = ["max-size", "max-added", "max-waste", "required-labels", "files", "probe-timeout", "secrets"]
    static let filePolicyKeys = ["exists", "absent"]
    static let toolsetKeys = ["packages", "pip", "npm", "run", "probes", "env"]

    /// Loads the recipe at `path`. `overrides` replace declared args (`--arg NAME=VALUE`).
    public static func load(path: String, overrides: [String: String] = [:]) -> (Recipe?, Diagnostics) {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            var diagnostics = Diagnostics()
            diagnostics.error("cannot read recipe: \(FileSystemError.describe(error))", at: SourceLocation(file: path, line: 0, column: 0))
            return (nil, diagnostics)
        }
        return load(data: data, path: path, overrides: overrides)
    }

    public static func load(data: Data, path: String, overrides: [String: String] = [:]) -> (Recipe?, Diagnostics) {
        let reader = YAMLReader(file: path)
        guard let text = String(data: data, encoding: .utf8) else {
            reader.diagnostics.error("recipe is not valid UTF-8 text", at: SourceLocation(file: path, line: 1, column: 1))
            return (nil, reader.diagnostics)
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                reader.diagnostics.error("recipe is empty", at: SourceLocation(file: path, line: 1, column: 1))
                return (nil, reader.diagnostics)
            }
            root = node
        } catch {
            reader.diagnostics.append(YAMLSyntaxError.diagnostic(for: error, in: text, file: path))
            return (nil, reader.diagnostics)
        }
        let recipe = readRecipe(root, reader: reader, path: path, overrides: overrides)
        return (recipe, reader.diagnostics)
    }

    // MARK: - Root

    private static func readRecipe(_ root: Node, reader: YAMLReader, path: String, overrides: [String: String]) -> Recipe? {
        guard let pairs = reader.mapping(root, what: "the recipe", allowed: rootKeys) else { return nil }
        let value = { (key: String) in pairs.first { $0.key == key } }
        let directory = (path as NSString).deletingLastPathComponent

        // Args first: every other string may refer to them.
        var args: [KeyValue] = []
        if let node = value("args")?.value {
            // Args are literal: `${` in an arg's value is not substituted.
            args = reader.keyValues(node, what: "args", interpolate: false) { key in
                Interpolation.isValidName(Substring(key)) ? nil : "arg name '\(key)' must be letters, digits and _, not starting with a digit"
            }
        }
        let declared = Set(args.map(\.key))
        for (name, override) in overrides.sorted(by: { $0.key < $1.key }) {
            for finding in SecretScanner.scan(override) {
                reader.diagnostics.error(
                    "--arg \(name): secret refused: \(finding.summary) [\(finding.rule)] (value not shown); args are baked into the image's history and generated/",
                    at: SourceLocation(file: path, line: 0, column: 0))
            }
            if let index = args.firstIndex(where: { $0.key == name }) {
                args[index].value = override
            } else {
                reader.diagnostics.error(
                    "--arg \(name): the recipe declares no arg '\(name)'\(didYouMean(name, among: declared))",
                    at: SourceLocation(file: path, line: 0, column: 0))
            }
        }
        reader.args = Dictionary(args.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })

        var name = ""
        var nameLocation = SourceLocation(file: path, line: 1, column: 1)
        if let node = value("recipe")?.value {
            if let text = reader.string(node, what: "recipe", interpolate: false) {
                name = text.value
                nameLocation = text.location
                if let problem = Names.problem(withName: name, kind: "recipe name") { reader.error(problem, node) }
            }
        } else {
            reader.error("missing required key 'recipe' (the family's name, e.g. recipe: my-sandbox)", root)
        }

        var recipe = Recipe(path: path, directory: directory.isEmpty ? "." : directory, name: name, nameLocation: nameLocation)
        recipe.args = args
        if let node = value("version")?.value, let text = reader.string(node, what: "version") {
            do {
                recipe.version = Located(try SemVer(parsing: text.value), at: text.location)
            } catch {
                reader.error("\(error)", node)
            }
        }
        if let node = value("description")?.value { recipe.description = reader.string(node, what: "description")?.value }
        if let node = value("labels")?.value {
            recipe.labels = readLabels(node, reader: reader)
        }
        if let node = value("toolsets")?.value, node.null == nil, let toolsetPairs = reader.mapping(node, what: "toolsets") {
            for (toolsetName, keyNode, body) in toolsetPairs {
                if let problem = Names.problem(withName: toolsetName, kind: "toolset name") { reader.error(problem, keyNode) }
                recipe.toolsets.append(readToolset(toolsetName, keyNode: keyNode, body: body, reader: reader))
            }
        }
        if let (_, _, node) = value("layers") {
            if let layerPairs = reader.mapping(node, what: "layers") {
                for (layerName, keyNode, body) in layerPairs {
                    if let problem = Names.problem(withName: layerName, kind: "layer name") { reader.error(problem, keyNode) }
                    recipe.layers.append(readLayer(layerName, keyNode: keyNode, body: body, reader: reader))
                }
                if layerPairs.isEmpty { reader.error("'layers' is empty: a recipe needs at least one layer", node) }
            }
        } else {
            reader.error("missing required key 'layers'", root)
        }
        return recipe
    }

    // MARK: - Toolsets

    private static func readToolset(_ name: String, keyNode: Node, body: Node, reader: YAMLReader) -> ToolsetSpec {
        var toolset = ToolsetSpec(name: name, location: reader.location(keyNode))
        reader.usedArgs = []
        guard let pairs = reader.mapping(body, what: "toolset '\(name)'", allowed: toolsetKeys) else { return toolset }
        for (key, _, node) in pairs {
            switch key {
            case "packages": toolset.packages = reader.stringList(node, what: "packages")
            case "pip": toolset.pip = reader.stringList(node, what: "pip")
            case "npm": toolset.npm = reader.stringList(node, what: "npm")
            case "run": toolset.run = readRunSteps(node, reader: reader)
            case "probes": toolset.probes = readProbes(node, reader: reader)
            case "env": toolset.env = readEnv(node, reader: reader)
            default: break
            }
        }
        toolset.usedArgs = reader.usedArgs
        return toolset
    }

    // MARK: - Layers

    private static func readLayer(_ name: String, keyNode: Node, body: Node, reader: YAMLReader) -> LayerSpec {
        var layer = LayerSpec(name: name, location: reader.location(keyNode))
        reader.usedArgs = []
        guard let pairs = reader.mapping(body, what: "layer '\(name)'", allowed: layerKeys) else { return layer }
        for (key, _, node) in pairs {
            switch key {
            case "from": layer.from = reader.string(node, what: "from")
            case "description": layer.description = reader.string(node, what: "description")?.value
            case "distro":
                if let text = reader.string(node, what: "distro") {
                    if let distro = Distro(rawValue: text.value) {
                        layer.distro = Located(distro, at: text.location)
                    } else {
                        reader.error("unknown distro '\(text.value)': expected one of debian, alpine, busybox\(didYouMean(text.value, among: Distro.allCases.map(\.rawValue)))", node)
                    }
                }
            case "packages": layer.packages = reader.stringList(node, what: "packages")
            case "pip": layer.pip = reader.stringList(node, what: "pip")
            case "npm": layer.npm = reader.stringList(node, what: "npm")
            case "user": layer.user = readUser(node, reader: reader)
            case "workdir":
                if let dir = reader.string(node, what: "workdir") {
                    if let problem = Names.imagePathProblem(dir.value, what: "workdir") { reader.error(problem, node) }
                    layer.workdir = dir
                }
            case "env": layer.env = readEnv(node, reader: reader)
            case "copy": layer.copy = readCopies(node, reader: reader)
            case "run": layer.run = readRunSteps(node, reader: reader)
            case "toolsets": layer.toolsets = reader.stringList(node, what: "toolsets")
            case "probes": layer.probes = readProbes(node, reader: reader)
            case "context": layer.context = readContext(node, reader: reader)
            case "labels": layer.labels = readLabels(node, reader: reader)
            case "cmd": layer.cmd = readExecForm(node, what: "cmd", reader: reader)
            case "entrypoint": layer.entrypoint = readExecForm(node, what: "entrypoint", reader: reader)
            case "healthcheck": layer.healthcheck = readHealthcheck(node, reader: reader)
            case "policy": layer.policy = readPolicy(node, reader: reader)
            default: break
            }
        }
        if layer.from == nil {
            reader.error("layer '\(name)' has no 'from': name an image (debian:bookworm-slim) or another layer", keyNode)
        }
        layer.usedArgs = reader.usedArgs
        return layer
    }

    /// `labels:`, with the well-known OCI labels' values in the shape the annotations spec gives
    /// them (checked now, not only by verify after the build).
    private static func readLabels(_ node: Node, reader: YAMLReader) -> [KeyValue] {
        let labels = reader.keyValues(node, what: "labels", validateKey: Names.labelKeyProblem)
        for label in labels {
            if let problem = OCILabels.problem(label.key, label.value) { reader.diagnostics.error("labels: \(problem)", at: label.location) }
        }
        return labels
    }

    /// `env:`, refusing a literal value under a name that says secret: `ENV` is baked into the
    /// image (every layer, `docker inspect`), so the value belongs to run time.
    private static func readEnv(_ node: Node, reader: YAMLReader) -> [KeyValue] {
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

    private static func readUser(_ node: Node, reader: YAMLReader) -> UserSpec? {
        guard let pairs = reader.mapping(node, what: "user", allowed: userKeys) else { return nil }
        var name: String?, uid: Int?, gid: Int?, home: String?, shell: String?
        for (key, _, value) in pairs {
            switch key {
            case "name":
                if let text = reader.string(value, what: "user.name") {
                    if text.value == "root" {
                        reader.error("user.name 'root': the account already exists (the build would fail at groupadd) and the image must run as a non-root user; pick another name, e.g. 'agent'", value)
                    } else if let problem = Names.userNameProblem(text.value) {
                        reader.error(problem, value)
                    } else {
                        name = text.value
                    }
                }
            case "uid":
                if let number = reader.int(value, what: "user.uid", range: 0...2_147_483_647) {
                    if number.value == 0 {
                        reader.error("user.uid 0 is root: the image must run as a non-root user", value)
                    } else {
                        uid = number.value
                    }
                }
            case "gid": gid = reader.int(value, what: "user.gid", range: 0...2_147_483_647)?.value
            case "home":
                if let text = reader.string(value, what: "user.home") {
                    if let problem = Names.imagePathProblem(text.value, what: "user.home") { reader.error(problem, value) } else { home = text.value }
                }
            case "shell": shell = reader.string(value, what: "user.shell")?.value
            default: break
            }
        }
        if name == nil, !pairs.contains(where: { $0.key == "name" }) { reader.error("user needs a 'name'", node) }
        if uid == nil, !pairs.contains(where: { $0.key == "uid" }) { reader.error("user needs a 'uid' (e.g. uid: 1000)", node) }
        guard let name, let uid else { return nil }
        return UserSpec(name: name, uid: uid, gid: gid ?? uid, home: home ?? "/home/\(name)", shell: shell, location: reader.location(node))
    }

    private static func readCopies(_ node: Node, reader: YAMLReader) -> [CopySpec] {
        guard case .sequence(let items) = node else {
            reader.error("copy must be a list of {src, dest}, found \(YAMLReader.describe(node))", node)
            return []
        }
        return items.compactMap { item -> CopySpec? in
            guard let pairs = reader.mapping(item, what: "copy entry", allowed: copyKeys) else { return nil }
            var source: Located<String>?, destination: Located<String>?, ownedByUser = false
            for (key, _, value) in pairs {
                switch key {
                case "src": source = reader.string(value, what: "copy.src")
                case "dest":
                    destination = reader.string(value, what: "copy.dest")
                    if let dest = destination, let problem = Names.imagePathProblem(dest.value, what: "copy.dest") {
                        reader.error(problem, value)
                        destination = nil
                    }
                case "owner":
                    if let owner = reader.string(value, what: "copy.owner") {
                        switch owner.value {
                        case "user": ownedByUser = true
                        case "root": ownedByUser = false
                        default: reader.error("copy.owner must be 'user' or 'root', found '\(owner.value)'", value)
                        }
                    }
                default: break
                }
            }
            if source == nil, !pairs.contains(where: { $0.key == "src" }) { reader.error("copy entry needs 'src'", item) }
            if destination == nil, !pairs.contains(where: { $0.key == "dest" }) { reader.error("copy entry needs 'dest'", item) }
            guard let source, let destination else { return nil }
            return CopySpec(source: source, destination: destination, ownedByUser: ownedByUser)
        }
    }

    private static func readContext(_ node: Node, reader: YAMLReader) -> ContextSpec? {
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

    private static func readPolicy(_ node: Node, reader: YAMLReader) -> PolicySpec {
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
    private static func readFileRules(_ node: Node, what: String, reader: YAMLReader) -> [FileRule] {
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
                    if let mode = UInt32(text.value, radix: 8), mode <= 0o7777 { rule.mode = mode } else { reader.error("\(what).mode '\(text.value)' must be octal, like \"0755\"", modeNode) }
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

    // MARK: - Commands

    /// `run:` steps: one shell command each, written into a `RUN` line. A trailing newline from a
    /// `|` block is dropped; an inner newline is refused because the classic builder has no heredocs.
    private static func readRunSteps(_ node: Node, reader: YAMLReader) -> [Located<String>] {
        readSingleLines(node, what: "run", reader: reader)
    }

    private static func readSingleLines(_ node: Node, what: String, reader: YAMLReader) -> [Located<String>] {
        reader.stringList(node, what: what).compactMap { step in
            var step = step
            step.value = step.value.trimmingWhitespace()
            if step.value.isEmpty {
                reader.diagnostics.error("\(what) entry is empty", at: step.location)
                return nil
            }
            if step.value.contains("\n") {
                reader.diagnostics.error("\(what) entry spans several lines; join commands with && or ; (or use a folded '>' block)", at: step.location)
                return nil
            }
            return step
        }
    }

    /// `probes:` entries: a command, or `{run: command, expect: regular expression}`.
    private static func readProbes(_ node: Node, reader: YAMLReader) -> [ProbeSpec] {
        guard case .sequence(let items) = node else {
            if node.null != nil { return [] }
            reader.error("probes must be a list of commands or {run, expect}, found \(YAMLReader.describe(node))", node)
            return []
        }
        return items.compactMap { item -> ProbeSpec? in
            guard case .mapping = item else {
                return readSingleLines(.sequence(Node.Sequence([item])), what: "probes", reader: reader).first.map { ProbeSpec(command: $0) }
            }
            guard let pairs = reader.mapping(item, what: "probe", allowed: probeKeys) else { return nil }
            guard let runNode = pairs.first(where: { $0.key == "run" })?.value else {
                reader.error("a probe needs 'run' (the command)", item)
                return nil
            }
            guard let command = readSingleLines(.sequence(Node.Sequence([runNode])), what: "probe run", reader: reader).first else { return nil }
            var probe = ProbeSpec(command: command)
            if let expectNode = pairs.first(where: { $0.key == "expect" })?.value, let expect = reader.string(expectNode, what: "probe expect") {
                do {
                    _ = try NSRegularExpression(pattern: expect.value)
                    probe.expect = expect
                } catch {
                    reader.error("probe expect '\(expect.value)' is not a valid regular expression", expectNode)
                }
            }
            return probe
        }
    }

    /// `healthcheck: {command: [...], interval: 30s, timeout: 5s, start-period: 10s, retries: 3}`.
    private static func readHealthcheck(_ node: Node, reader: YAMLReader) -> HealthcheckSpec? {
        guard let pairs = reader.mapping(node, what: "healthcheck", allowed: healthcheckKeys) else { return nil }
        var spec = HealthcheckSpec(command: [], location: reader.location(node))
        for (key, _, value) in pairs {
            switch key {
            case "command": spec.command = readExecForm(value, what: "healthcheck.command", reader: reader) ?? []
            case "retries": spec.retries = reader.int(value, what: "healthcheck.retries", range: 0...100)?.value
            default:
                guard let text = reader.string(value, what: "healthcheck.\(key)") else { continue }
                if !Self.isDuration(text.value) {
                    reader.error("healthcheck.\(key) '\(text.value)' must be a duration such as 30s, 1m30s or 500ms", value)
                    continue
                }
                switch key {
                case "interval": spec.interval = text.value
                case "timeout": spec.timeout = text.value
                default: spec.startPeriod = text.value
                }
            }
        }
        if !pairs.contains(where: { $0.key == "command" }) { reader.error("healthcheck needs a 'command' (exec form, e.g. [\"curl\", \"-f\", \"http://localhost:4096/\"])", node) }
        return spec.command.isEmpty ? nil : spec
    }

    /// A Docker duration: numbers with units ns, us, ms, s, m, h (`1m30s`).
    static func isDuration(_ text: String) -> Bool {
        var rest = Substring(text)
        guard !rest.isEmpty else { return false }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty else { return false }
            rest = rest.dropFirst(digits.count)
            let unit = rest.prefix { $0.isASCII && $0.isLetter }
            guard ["ns", "us", "ms", "s", "m", "h"].contains(String(unit)) else { return false }
            rest = rest.dropFirst(unit.count)
        }
        return true
    }

    private static func readExecForm(_ node: Node, what: String, reader: YAMLReader) -> [String]? {
        guard case .sequence = node else {
            reader.error("\(what) must be a list (exec form), e.g. [\"/bin/bash\", \"-l\"]", node)
            return nil
        }
        let items = reader.stringList(node, what: what).map(\.value)
        if items.isEmpty { reader.error("\(what) must not be empty", node) }
        return items
    }
}
