import Foundation
import Yams
import ContainerBasics
import ImageGenValues
import BuildContext

/// `steps:`, a layer's instructions in the order written, and the keys of the simple form that
/// are Dockerfile instructions of their own (`expose`, `volumes`, `stopsignal`, `shell`).
extension RecipeLoader {
    static let stepKeys = [
        "run", "copy", "env", "workdir", "user", "packages", "shell", "arg", "expose", "volume", "stopsignal", "label", "healthcheck", "cmd", "entrypoint",
    ]
    /// What a step is called elsewhere (a Dockerfile's instruction, compose's keys).
    static let stepHints = ["volumes": "volume", "labels": "label", "ports": "expose", "add": "copy", "from": "a layer's from:", "maintainer": "label"]

    static func readSteps(_ node: Node, reader: YAMLReader) -> [LayerStep] {
        guard case .sequence(let items) = node else {
            reader.error(
                "steps must be a list of steps, each one key: run, copy, env, workdir, user, packages, shell, arg, expose, volume, stopsignal, label, healthcheck, cmd or entrypoint; found \(YAMLReader.describe(node))",
                node)
            return []
        }
        var steps: [LayerStep] = []
        for item in items {
            let saved = reader.keyHints
            reader.keyHints = stepHints
            defer { reader.keyHints = saved }
            guard let pairs = reader.mapping(item, what: "a step", allowed: stepKeys) else { continue }
            guard pairs.count == 1, let (key, _, value) = pairs.first else {
                if pairs.count > 1 {
                    reader.error("a step has one key (\(pairs.map(\.key).joined(separator: ", ")) here): write each as its own '- key: value' entry, in the order they run", item)
                }
                continue
            }
            reader.keyHints = saved
            guard let kind = readStep(key, value, reader: reader) else { continue }
            steps.append(LayerStep(kind, comments: reader.comments(above: item), at: reader.location(item)))
        }
        if steps.isEmpty, !items.isEmpty { return [] }
        if items.isEmpty { reader.error("steps is empty: list at least one step, or leave it out", node) }
        return steps
    }

    static func readStep(_ key: String, _ value: Node, reader: YAMLReader) -> StepKind? {
        switch key {
        case "run":
            if case .sequence = value {
                let arguments = reader.stringList(value, what: "run (exec form)").map(\.value)
                return arguments.isEmpty ? nil : .runExec(arguments)
            }
            guard let text = reader.string(value, what: "run") else { return nil }
            let lines = text.value.split(separator: "\n", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !lines.isEmpty else {
                reader.error("run is empty", value)
                return nil
            }
            // Each line is a continuation line of one RUN: the shell joins them with spaces.
            return .run(lines.joined(separator: "\n"))
        case "copy":
            return readCopy(value, what: "copy", reader: reader, relativeDestination: true).map(StepKind.copy)
        case "env":
            let env = readEnv(value, reader: reader)
            return env.isEmpty ? nil : .env(env)
        case "workdir":
            guard let path = reader.string(value, what: "workdir") else { return nil }
            if let problem = Names.imagePathProblem(path.value, what: "workdir"), !path.value.hasPrefix("$") { reader.error(problem, value) }
            return .workdir(path.value)
        case "user":
            if case .mapping = value { return readUser(value, reader: reader, what: "user").map(StepKind.account) }
            guard let user = reader.string(value, what: "user") else { return nil }
            if user.value.isEmpty || user.value.contains(" ") { reader.error("user '\(user.value)' must be USER[:GROUP], a name or a number", value) }
            return .user(user.value)
        case "packages":
            let packages = reader.stringList(value, what: "packages")
            return packages.isEmpty ? nil : .packages(packages)
        case "shell":
            return readExecForm(value, what: "shell", reader: reader).map(StepKind.shell)
        case "arg":
            if case .mapping = value {
                let pairs = reader.keyValues(value, what: "arg", validateKey: { Names.isValidName(Substring($0)) ? nil : "arg name '\($0)' must be letters, digits and _" })
                guard pairs.count == 1, let pair = pairs.first else {
                    if pairs.count > 1 { reader.error("an arg step declares one arg ({NAME: default}); write one step per arg", value) }
                    return nil
                }
                return .arg(name: pair.key, value: pair.value)
            }
            guard let name = reader.string(value, what: "arg") else { return nil }
            guard Names.isValidName(Substring(name.value)) else {
                reader.error("arg name '\(name.value)' must be letters, digits and _ (with a default: arg: {NAME: value})", value)
                return nil
            }
            return .arg(name: name.value, value: nil)
        case "expose":
            let ports = readPorts(value, reader: reader)
            return ports.isEmpty ? nil : .expose(ports.map(\.value))
        case "volume":
            let paths = readVolumes(value, reader: reader)
            return paths.isEmpty ? nil : .volume(paths.map(\.value))
        case "stopsignal":
            return readStopSignal(value, reader: reader).map { .stopsignal($0.value) }
        case "label":
            let labels = readLabels(value, reader: reader)
            return labels.isEmpty ? nil : .label(labels)
        case "healthcheck":
            return readHealthcheck(value, reader: reader).map(StepKind.healthcheck)
        case "cmd", "entrypoint":
            let command: CommandSpec?
            if case .sequence = value {
                command = readExecForm(value, what: key, reader: reader).map(CommandSpec.exec)
            } else {
                command = reader.string(value, what: key).map { CommandSpec.shell($0.value) }
            }
            guard let command else { return nil }
            return key == "cmd" ? .cmd(command) : .entrypoint(command)
        default:
            return nil
        }
    }

    // MARK: - Metadata instructions

    /// `expose: [8080, 8443/tcp, 53/udp, 9000-9010]`.
    static func readPorts(_ node: Node, reader: YAMLReader) -> [Located<String>] {
        let items: [Located<String>]
        if case .sequence = node { items = reader.stringList(node, what: "expose") } else { items = reader.string(node, what: "expose").map { [$0] } ?? [] }
        return items.filter { port in
            let parts = port.value.split(separator: "/", omittingEmptySubsequences: false)
            let range = parts[0].split(separator: "-", omittingEmptySubsequences: false)
            let valid =
                (1...2).contains(parts.count) && (parts.count == 1 || ["tcp", "udp", "sctp"].contains(parts[1]))
                && (1...2).contains(range.count) && range.allSatisfy { Int($0).map { (1...65535).contains($0) } ?? false }
            if !valid { reader.diagnostics.error("expose: '\(port.value)' must be a port (1-65535) or a range, optionally /tcp, /udp or /sctp", at: port.location) }
            return valid
        }
    }

    /// `volumes: [/data]`: absolute paths.
    static func readVolumes(_ node: Node, reader: YAMLReader) -> [Located<String>] {
        let items: [Located<String>]
        if case .sequence = node { items = reader.stringList(node, what: "volumes") } else { items = reader.string(node, what: "volumes").map { [$0] } ?? [] }
        return items.filter { path in
            guard let problem = Names.imagePathProblem(path.value, what: "volumes") else { return true }
            reader.diagnostics.error(problem, at: path.location)
            return false
        }
    }

    /// `stopsignal: SIGTERM` (or `TERM`, `15`).
    static func readStopSignal(_ node: Node, reader: YAMLReader) -> Located<String>? {
        guard let signal = reader.string(node, what: "stopsignal") else { return nil }
        let text = signal.value
        let valid =
            (Int(text).map { (1...64).contains($0) } ?? false)
            || (text.allSatisfy { $0.isUppercase || $0.isNumber || $0 == "+" || $0 == "-" } && text.first?.isLetter == true)
        if !valid { reader.error("stopsignal '\(text)' must be a signal's name (SIGTERM, SIGINT…) or number", node) }
        return valid ? signal : nil
    }
}
