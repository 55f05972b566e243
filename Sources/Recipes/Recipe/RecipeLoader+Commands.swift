import Foundation
import Yams
import ContainerBasics
import ImageGenValues
import BuildContext

/// Commands: run steps, probes, healthchecks, exec forms.
extension RecipeLoader {
    // MARK: - Commands

    /// `run:` steps: one shell command each, written into a `RUN` line. A trailing newline from a
    /// `|` block is dropped; an inner newline is refused because the classic builder has no heredocs.
    static func readRunSteps(_ node: Node, reader: YAMLReader) -> [Located<String>] {
        readSingleLines(node, what: "run", reader: reader)
    }

    static func readSingleLines(_ node: Node, what: String, reader: YAMLReader) -> [Located<String>] {
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
    static func readProbes(_ node: Node, reader: YAMLReader) -> [ProbeSpec] {
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
    static func readHealthcheck(_ node: Node, reader: YAMLReader) -> HealthcheckSpec? {
        guard let pairs = reader.mapping(node, what: "healthcheck", allowed: healthcheckKeys) else { return nil }
        var spec = HealthcheckSpec(command: [], location: reader.location(node))
        for (key, _, value) in pairs {
            switch key {
            case "command":
                if case .sequence = value {
                    spec.command = readExecForm(value, what: "healthcheck.command", reader: reader) ?? []
                } else if let shell = reader.string(value, what: "healthcheck.command") {
                    spec.shellCommand = shell.value
                }
            case "retries": spec.retries = reader.int(value, what: "healthcheck.retries", range: 0...100)?.value
            case "none": spec.none = reader.bool(value, what: "healthcheck.none") ?? false
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
        if spec.none {
            if pairs.count > 1 { reader.error("healthcheck none: true takes no other key", node) }
            return spec
        }
        if !pairs.contains(where: { $0.key == "command" }) {
            reader.error("healthcheck needs a 'command' (exec form, e.g. [\"curl\", \"-f\", \"http://localhost:4096/\"]), or none: true", node)
        }
        return spec.command.isEmpty && spec.shellCommand == nil ? nil : spec
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

    static func readExecForm(_ node: Node, what: String, reader: YAMLReader) -> [String]? {
        guard case .sequence = node else {
            reader.error("\(what) must be a list (exec form), e.g. [\"/bin/bash\", \"-l\"]", node)
            return nil
        }
        let items = reader.stringList(node, what: what).map(\.value)
        if items.isEmpty { reader.error("\(what) must not be empty", node) }
        return items
    }
}
