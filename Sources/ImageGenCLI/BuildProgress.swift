import Foundation
import ImageGen

/// Shows build events: on a terminal, one line per layer updated in place (state, step N/M,
/// elapsed); in CI, plain log lines prefixed by layer; with --format json, one JSON event per line.
final class BuildProgress: @unchecked Sendable {
    enum Mode { case terminal, plain, json }

    private struct LayerLine {
        var state = "waiting"
        var step = ""
        var started: Date?
        var finished: Double?
    }

    private let mode: Mode
    private let lock = NSLock()
    private var order: [String] = []
    private var lines: [String: LayerLine] = [:]
    private var drawn = 0
    private var failures: [(layer: String, message: String, step: String?, lastLines: [String])] = []
    private var timer: DispatchSourceTimer?

    init(mode: Mode) {
        self.mode = mode
        if mode == .terminal {
            let timer = DispatchSource.makeTimerSource(queue: .global())
            timer.schedule(deadline: .now() + 1, repeating: 1)
            timer.setEventHandler { [weak self] in self?.redraw() }
            timer.resume()
            self.timer = timer
        }
    }

    func handle(_ event: BuildEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch mode {
        case .json: emitJSON(event)
        case .plain: emitPlain(event)
        case .terminal:
            update(event)
            drawLocked()
        }
        if case .failed(let layer, let message, let step, let lastLines, _) = event {
            failures.append((layer, message, step, lastLines))
        }
    }

    /// Stops live updates and prints failures and the summary table.
    func finish(_ report: BuildReport) {
        timer?.cancel()
        lock.lock()
        defer { lock.unlock() }
        if mode == .terminal { drawLocked() }
        if mode == .json {
            Console.out(JSONValue.object([
                "event": "summary", "succeeded": .bool(report.succeeded), "uploads": .int(Int64(report.uploads)), "builder": .string(report.builder),
                "layers": .array(report.outcomes.map { outcome in
                    .object([
                        "layer": .string(outcome.layer), "reference": .string(outcome.reference), "state": .string(outcome.state.rawValue),
                        "imageID": outcome.imageID.map(JSONValue.string) ?? .null, "size": outcome.size.map(JSONValue.int) ?? .null,
                        "seconds": .string(String(format: "%.1f", outcome.seconds)),
                    ])
                }),
            ]).canonical)
            return
        }
        for failure in failures {
            var text = "\nerror: layer '\(failure.layer)' failed"
            if let step = failure.step { text += " at: \(step)" }
            if !failure.lastLines.isEmpty {
                text += "\n  last output:\n" + failure.lastLines.map { "    | \($0)" }.joined(separator: "\n")
            }
            text += "\n  \(failure.message)"
            Console.error(text)
        }
        var rows = [["LAYER", "STATE", "IMAGE", "IMAGE ID", "SIZE", "TIME"]]
        for outcome in report.outcomes {
            rows.append([
                outcome.layer, outcome.state.rawValue, outcome.reference,
                outcome.imageID.map { String($0.replacingOccurrences(of: "sha256:", with: "").prefix(12)) } ?? "-",
                outcome.size.map { ByteSize(bytes: $0).description } ?? "-",
                String(format: "%.1fs", outcome.seconds),
            ])
        }
        Console.out(Table.render(rows))
        let built = report.outcomes.filter { $0.state == .built }.count
        let cached = report.outcomes.filter { $0.state == .cached }.count
        Console.out("\(built) built, \(cached) cached, \(report.outcomes.count - built - cached) not built; \(report.uploads) build context\(report.uploads == 1 ? "" : "s") uploaded (\(report.builder) builder)")
    }

    // MARK: - Plain and JSON

    private func emitPlain(_ event: BuildEvent) {
        switch event {
        case .planned(let layers): Console.error("building \(layers.joined(separator: ", "))")
        case .baseResolved(let reference, let identity): Console.error("base \(reference) is \(identity)")
        case .started: break
        case .cached(let layer, let id): Console.error("[\(layer)] cached \(short(id))")
        case .uploading(let layer, let bytes): Console.error("[\(layer)] uploading build context (\(ByteSize(bytes: bytes)))")
        case .step(let layer, let index, let total, let instruction): Console.error("[\(layer)] step \(index)/\(total): \(instruction)")
        case .output(let layer, let line): Console.error("[\(layer)]   \(line)")
        case .built(let layer, let id, let seconds): Console.error("[\(layer)] built \(short(id)) in \(String(format: "%.1f", seconds))s")
        case .failed(let layer, let message, _, _, _): Console.error("[\(layer)] FAILED: \(message)")
        case .skipped(let layer, let reason): Console.error("[\(layer)] skipped: \(reason)")
        }
    }

    private func emitJSON(_ event: BuildEvent) {
        var object: [String: JSONValue] = ["time": .string(ISO8601DateFormatter().string(from: Date()))]
        if let layer = event.layer { object["layer"] = .string(layer) }
        switch event {
        case .planned(let layers): object["event"] = "planned"; object["layers"] = .array(layers.map(JSONValue.string))
        case .baseResolved(let reference, let identity): object["event"] = "base"; object["reference"] = .string(reference); object["identity"] = .string(identity)
        case .started: object["event"] = "started"
        case .cached(_, let id): object["event"] = "cached"; object["imageID"] = .string(id)
        case .uploading(_, let bytes): object["event"] = "uploading"; object["bytes"] = .int(bytes)
        case .step(_, let index, let total, let instruction):
            object["event"] = "step"; object["step"] = .int(Int64(index)); object["steps"] = .int(Int64(total)); object["instruction"] = .string(instruction)
        case .output(_, let line): object["event"] = "output"; object["line"] = .string(line)
        case .built(_, let id, let seconds): object["event"] = "built"; object["imageID"] = .string(id); object["seconds"] = .string(String(format: "%.2f", seconds))
        case .failed(_, let message, let step, let lastLines, let seconds):
            object["event"] = "failed"; object["message"] = .string(message); object["step"] = step.map(JSONValue.string) ?? .null
            object["lastLines"] = .array(lastLines.map(JSONValue.string)); object["seconds"] = .string(String(format: "%.2f", seconds))
        case .skipped(_, let reason): object["event"] = "skipped"; object["reason"] = .string(reason)
        }
        Console.out(JSONValue.object(object).canonical)
    }

    // MARK: - Terminal

    private func update(_ event: BuildEvent) {
        switch event {
        case .planned(let layers):
            order = layers
            for layer in layers { lines[layer] = LayerLine() }
        case .started(let layer): lines[layer]?.state = "checking"; lines[layer]?.started = Date()
        case .cached(let layer, _): lines[layer]?.state = "cached"; lines[layer]?.finished = elapsed(layer)
        case .uploading(let layer, let bytes): lines[layer]?.state = "uploading \(ByteSize(bytes: bytes))"
        case .step(let layer, let index, let total, let instruction):
            lines[layer]?.state = "step \(index)/\(total)"
            lines[layer]?.step = instruction
        case .built(let layer, _, let seconds): lines[layer]?.state = "built"; lines[layer]?.step = ""; lines[layer]?.finished = seconds
        case .failed(let layer, _, _, _, let seconds): lines[layer]?.state = "FAILED"; lines[layer]?.finished = seconds
        case .skipped(let layer, _): lines[layer]?.state = "skipped"; lines[layer]?.finished = 0
        case .baseResolved, .output: break
        }
    }

    private func elapsed(_ layer: String) -> Double {
        lines[layer]?.started.map { Date().timeIntervalSince($0) } ?? 0
    }

    private func redraw() {
        lock.lock()
        drawLocked()
        lock.unlock()
    }

    private func drawLocked() {
        guard mode == .terminal, !order.isEmpty else { return }
        let width = order.map(\.count).max() ?? 0
        var text = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        for layer in order {
            let line = lines[layer] ?? LayerLine()
            let time = line.finished ?? line.started.map { Date().timeIntervalSince($0) }
            var row = layer.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + line.state
            if let time { row += String(format: "  %.1fs", time) }
            if !line.step.isEmpty { row += "  " + line.step }
            text += "\u{1B}[2K" + String(row.prefix(160)) + "\n"
        }
        drawn = order.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func short(_ id: String) -> String { String(id.replacingOccurrences(of: "sha256:", with: "").prefix(12)) }
}
