import Foundation
import Yams
import ContainerBasics
import ImageGenValues
import BuildContext

/// Reads a recipe file into a ``Recipe``, collecting every syntax, key and type mistake.
///
/// Loading checks the shape of the file only; names, the layer graph and files on disk are
/// checked by ``RecipeResolver``.
public enum RecipeLoader {
    static let rootKeys = ["recipe", "version", "description", "labels", "args", "platforms", "cache", "tags", "variants", "layers", "toolsets"]
    static let cacheKeys = ["registry", "mode"]
    static let layerKeys = [
        "from", "description", "distro", "image", "tags", "release", "packages", "pip", "npm", "user", "workdir", "env", "copy", "run", "steps",
        "toolsets", "probes", "context", "labels", "expose", "volumes", "stopsignal", "shell", "cmd", "entrypoint", "healthcheck", "policy", "platforms",
    ]
    /// The layer keys that are instructions in the simple form's fixed order; a layer with
    /// `steps:` writes them as steps instead.
    static let simpleInstructionKeys = [
        "packages", "pip", "npm", "workdir", "env", "copy", "run", "toolsets", "expose", "volumes", "stopsignal", "shell", "cmd", "entrypoint", "healthcheck",
    ]
    static let probeKeys = ["run", "expect"]
    static let healthcheckKeys = ["command", "interval", "timeout", "start-period", "retries", "none"]
    static let userKeys = ["name", "uid", "gid", "home", "shell", "create"]
    static let copyKeys = ["src", "dest", "owner", "chown", "mode", "from"]
    static let contextKeys = ["dir", "package", "dest", "manifest"]
    static let policyKeys = ["max-size", "max-added", "max-waste", "required-labels", "files", "probe-timeout", "secrets", "allow-root"]
    /// Unknown layer keys that other tools use, and what to write here instead.
    static let layerKeyHints = [
        "ports": "expose", "volume": "volumes", "stop_signal": "stopsignal", "stop-signal": "stopsignal", "add": "copy", "arg": "steps (- arg: {NAME: value}) or the recipe's args",
        "args": "the recipe's args (at the top), or steps (- arg: {NAME: value})", "maintainer": "labels", "label": "labels", "command": "cmd",
        "working_dir": "workdir", "working-dir": "workdir", "environment": "env", "image_name": "image", "name": "image", "tag": "tags",
        "internal": "release (release: false)", "onbuild": "nothing: ONBUILD has no equivalent", "instructions": "steps",
    ]
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
        reader.sourceLines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let (composed, findings) = YAMLComposer.compose(text, file: path)
        for finding in findings { reader.diagnostics.append(finding) }
        guard let root = composed else {
            if findings.isEmpty { reader.diagnostics.error("recipe is empty", at: SourceLocation(file: path, line: 1, column: 1)) }
            return (nil, reader.diagnostics)
        }
        guard var recipe = readRecipe(root, reader: reader, path: path, overrides: overrides) else { return (nil, reader.diagnostics) }
        var diagnostics = reader.diagnostics
        if recipe.hasVariants {
            recipe = expandVariants(recipe, root: root, text: text, path: path, overrides: overrides, diagnostics: &diagnostics)
        }
        return (recipe, diagnostics)
    }

    // MARK: - Root

    static func readRecipe(_ root: Node, reader: YAMLReader, path: String, overrides: [String: String]) -> Recipe? {
        guard let pairs = reader.mapping(root, what: "the recipe", allowed: rootKeys) else { return nil }
        let value = { (key: String) in pairs.first { $0.key == key } }
        let directory = (path as NSString).deletingLastPathComponent

        // Args first: every other string may refer to them.
        var args: [KeyValue] = []
        if let node = value("args")?.value {
            // Args are literal: `${` in an arg's value is not substituted.
            args = reader.keyValues(node, what: "args", interpolate: false) { key in
                Names.isValidName(Substring(key)) ? nil : "arg name '\(key)' must be letters, digits and _, not starting with a digit"
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
        if let node = value("version")?.value, let text = reader.string(node, what: "version", interpolate: false) {
            if text.value.contains("${") {
                reader.error("version takes no args: an arg here would silently make a pre-release (1.0.0-${X}); put a variant's name in tags: (\"{version}-${X}\") instead", node)
            } else {
                do {
                    recipe.version = Located(try SemVer(parsing: text.value), at: text.location)
                } catch {
                    reader.error("\(error)", node)
                }
            }
        }
        if let node = value("description")?.value { recipe.description = reader.string(node, what: "description")?.value }
        if let node = value("labels")?.value {
            recipe.labels = readLabels(node, reader: reader)
        }
        if let node = value("cache")?.value { recipe.cache = readCache(node, reader: reader) }
        if let node = value("platforms")?.value { recipe.platforms = readPlatforms(node, what: "platforms", reader: reader) }
        if let node = value("tags")?.value { recipe.tags = readTags(node, what: "tags", reader: reader) }
        if let node = value("variants")?.value { recipe.variants = readVariants(node, args: args, reader: reader) }
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

    static func readToolset(_ name: String, keyNode: Node, body: Node, reader: YAMLReader) -> ToolsetSpec {
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

    static func readLayer(_ name: String, keyNode: Node, body: Node, reader: YAMLReader) -> LayerSpec {
        var layer = LayerSpec(name: name, location: reader.location(keyNode))
        layer.comments = reader.comments(above: keyNode)
        reader.usedArgs = []
        reader.keyHints = layerKeyHints
        let mapping = reader.mapping(body, what: "layer '\(name)'", allowed: layerKeys)
        reader.keyHints = [:]
        guard let pairs = mapping else { return layer }
        for (key, keyNode, node) in pairs {
            if simpleInstructionKeys.contains(key) { layer.instructionKeys.append(Located(key, at: reader.location(keyNode))) }
            switch key {
            case "from":
                layer.from = reader.string(node, what: "from")
                if case .scalar(let scalar) = node, scalar.string.contains("${"), !scalar.string.contains("$${") { layer.fromTemplate = scalar.string }
            case "image":
                if let image = reader.string(node, what: "image") {
                    do {
                        let reference = try ImageReference(parsing: image.value)
                        if reference.tag != nil || reference.digest != nil {
                            reader.error("image '\(image.value)' names a repository, without a tag or digest (tags come from tags: and the release's version)", node)
                        } else {
                            layer.image = image
                        }
                    } catch {
                        reader.error("image '\(image.value)' is not a repository name: \(error)", node)
                    }
                }
            case "tags": layer.tags = readTags(node, what: "layer '\(name)' tags", reader: reader)
            case "release": layer.release = reader.bool(node, what: "release") ?? true
            case "steps": layer.steps = readSteps(node, reader: reader)
            case "expose": layer.expose = readPorts(node, reader: reader)
            case "volumes": layer.volumes = readVolumes(node, reader: reader)
            case "stopsignal": layer.stopsignal = readStopSignal(node, reader: reader)
            case "shell": layer.shell = readExecForm(node, what: "shell", reader: reader)
            case "description": layer.description = reader.string(node, what: "description")?.value
            case "distro":
                if let text = reader.string(node, what: "distro") {
                    if let distro = Distro(rawValue: text.value) {
                        layer.distro = Located(distro, at: text.location)
                    } else {
                        reader.error(
                            "unknown distro '\(text.value)': expected one of debian, alpine, busybox\(didYouMean(text.value, among: Distro.allCases.map(\.rawValue)))", node)
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
            case "platforms": layer.platforms = readPlatforms(node, what: "layer '\(name)' platforms", reader: reader)
            default: break
            }
        }
        if layer.from == nil {
            reader.error("layer '\(name)' has no 'from': name an image (debian:bookworm-slim) or another layer", keyNode)
        }
        if layer.steps != nil {
            for key in layer.instructionKeys {
                let step = ["volumes": "volume", "toolsets": "packages", "pip": "run", "npm": "run"][key.value] ?? key.value
                reader.diagnostics.error(
                    "layer '\(name)' has steps:, so '\(key.value)' belongs among them where it runs (- \(step): …); steps and the simple form's fixed order do not mix",
                    at: key.location)
            }
        }
        layer.usedArgs = reader.usedArgs
        return layer
    }

}
