import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// Runs a layer's probe commands in one container of its image, as the image's user, network
/// off, each under a timeout; the container is removed afterwards.
enum ProbeRunner {
    struct Outcome: Sendable {
        var command: String
        var exitCode: Int?
        /// The first line of the output (a version, usually) and the last lines (for a failure).
        var firstLine: String?
        var output: [String]
        var timedOut: Bool
        /// Every line it printed (for `expect`), at most the first 1,000.
        var lines: [String] = []

        var fullOutput: String { lines.joined(separator: "\n") }
    }

    static func run(image: String, probes: [String], timeoutSeconds: Int, engine: DockerEngine) async throws -> [Outcome] {
        guard !probes.isEmpty else { return [] }
        let marker = "@@imagegen-probe-\(UInt64.random(in: 0...UInt64.max))"
        let script = Self.script(probes, marker: marker, timeoutSeconds: timeoutSeconds)
        let spec = ContainerSpec(
            image: image, cmd: [script], entrypoint: ["/bin/sh", "-c"], labels: [ImageLabels.probe: "1"], networkDisabled: true,
            hostConfig: .init(networkMode: "none"))
        let id = try await engine.createContainer(spec)
        var exited = true
        do {
            try await engine.startContainer(id)
            do {
                _ = try await engine.waitContainer(id, timeoutSeconds: Int64(probes.count * timeoutSeconds + 30))
            } catch DockerEngineError.timeout {
                exited = false
                try? await engine.killContainer(id)
            }
            let (stdout, _) = try await engine.logs(id)
            try? await engine.removeContainer(id)
            return parse(String(decoding: stdout, as: UTF8.self), probes: probes, marker: marker, finished: exited)
        } catch {
            try? await engine.removeContainer(id)
            throw error
        }
    }

    /// A shell script that runs each probe with its output merged and a marker line around it.
    static func script(_ probes: [String], marker: String, timeoutSeconds: Int) -> String {
        var lines = [
            "if command -v timeout >/dev/null 2>&1; then T=\"timeout -s KILL \(timeoutSeconds)\"; else T=\"\"; fi"
        ]
        for (index, probe) in probes.enumerated() {
            let quoted = "'" + probe.replacingOccurrences(of: "'", with: "'\\''") + "'"
            lines.append("echo \(marker) \(index) start")
            lines.append("$T /bin/sh -c \(quoted) </dev/null 2>&1")
            // The status first: the newline that separates the output would reset $?.
            lines.append("status=$?; echo; echo \(marker) \(index) exit $status")
        }
        return lines.joined(separator: "\n")
    }

    static func parse(_ log: String, probes: [String], marker: String, finished: Bool) -> [Outcome] {
        var outputs = [[String]](repeating: [], count: probes.count)
        var exits = [Int?](repeating: nil, count: probes.count)
        var current: Int?
        for line in log.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(marker + " ") {
                let fields = line.split(separator: " ")
                guard fields.count >= 3, let index = Int(fields[1]), index < probes.count else { continue }
                if fields[2] == "start" {
                    current = index
                } else if fields[2] == "exit", fields.count >= 4 {
                    exits[index] = Int(fields[3])
                    current = nil
                }
                continue
            }
            if let current { outputs[current].append(String(line)) }
        }
        return probes.indices.map { index in
            var output = outputs[index]
            while output.last?.isEmpty == true { output.removeLast() }
            let code = exits[index]
            // 137 is SIGKILL from `timeout -s KILL`; no exit line means the container was stopped.
            let timedOut = code == 137 || (code == nil && !finished)
            return Outcome(
                command: probes[index], exitCode: code, firstLine: output.first { !$0.isEmpty },
                output: Array(output.suffix(20)), timedOut: timedOut, lines: Array(output.prefix(1000)))
        }
    }
}
