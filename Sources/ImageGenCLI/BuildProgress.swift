import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// Shows build events: on a terminal, one row per layer redrawn in place (state, step N/M,
/// elapsed; see ``LiveView``); in CI, plain log lines prefixed by layer; with JSON, one event per
/// line on stdout.
///
/// Every piece of mutable state is behind `lock`, taken once per entry point (an event, a
/// timer tick, a resize, a note) and never re-entered: the methods called with it held are the
/// `…Locked` ones, which read and write plain local copies.
final class BuildProgress: @unchecked Sendable {
    enum Mode: Sendable { case terminal, plain, json }

    private struct LayerState {
        var state = "waiting"
        var tone = LiveView.Tone.muted
        var step = ""
        var started: Date?
        var finished: Double?
    }

    private let mode: Mode
    private let colour: Bool
    private let columns: @Sendable () -> Int
    private let write: @Sendable (String) -> Void
    private let lock = NSLock()
    private var order: [String] = []
    private var layers: [String: LayerState] = [:]
    private var view = LiveView()
    private var width: Int
    private var stopped = false
    private var failures: [(layer: String, message: String, step: String?, lastLines: [String])] = []
    private var sources: [DispatchSourceProtocol] = []

    /// `columns` is asked on start and after each resize; `write` puts bytes on the terminal.
    init(mode: Mode, colour: Bool = false, columns: @escaping @Sendable () -> Int = { TerminalInfo.columns() },
         write: @escaping @Sendable (String) -> Void = { Console.writeError($0) }) {
        self.mode = mode
        self.colour = colour
        self.columns = columns
        self.write = write
        self.width = columns()
        guard mode == .terminal else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now() + 0.5, repeating: 0.5)
        timer.setEventHandler { [weak self] in self?.tick(resized: false) }
        let resize = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        resize.setEventHandler { [weak self] in self?.tick(resized: true) }
        sources = [timer, resize]
        for source in sources { source.resume() }
    }

    deinit {
        for source in sources { source.cancel() }
    }

    func handle(_ event: BuildEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch mode {
        case .json: emitJSON(event)
        case .plain: emitPlain(event)
        case .terminal:
            if case .cacheWarning(let message) = event, !stopped {
                noteLocked(message)
                return
            }
            updateLocked(event)
            if !stopped { drawLocked() }
        }
        if case .failed(let layer, let message, let step, let lastLines, _) = event {
            failures.append((layer, message, step, lastLines))
        }
    }

    /// Writes a line above the live rows (which are drawn again below it).
    func note(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        guard mode == .terminal, !stopped else {
            Console.error(text)
            return
        }
        noteLocked(text)
    }

    private func noteLocked(_ text: String) {
        write(view.clear(width: width) + Console.redacted(text) + "\n")
        drawLocked()
    }

    /// Stops live updates, leaving the last frame on screen and the cursor below it: called when
    /// the run ends, whether it succeeded, failed or was interrupted. Safe to call more than once.
    func stop() {
        for source in sources { source.cancel() }
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        if mode == .terminal { drawLocked() }
        view.release()
        stopped = true
    }

    /// Stops live updates and prints failures and the summary table.
    func finish(_ report: BuildReport) {
        stop()
        lock.lock()
        defer { lock.unlock() }
        if mode == .json {
            Console.out(JSONValue.object([
                "event": "summary", "succeeded": .bool(report.succeeded), "uploads": .int(Int64(report.uploads)), "builder": .string(report.builder),
                "layers": .array(report.outcomes.map { outcome in
                    .object([
                        "layer": .string(outcome.displayName), "reference": .string(outcome.reference.description), "state": .string(outcome.state.rawValue),
                        "imageID": outcome.imageID.map { .string($0.description) } ?? .null, "size": outcome.size.map(JSONValue.int) ?? .null,
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
                outcome.displayName, outcome.state.rawValue, outcome.reference.description,
                outcome.imageID?.short ?? "-",
                outcome.size.map { ByteSize(bytes: $0).description } ?? "-",
                String(format: "%.1fs", outcome.seconds),
            ])
        }
        Console.out(Table.render(rows))
        let built = report.outcomes.filter { $0.state == .built }.count
        let cached = report.outcomes.filter { $0.state == .cached }.count
        let pulled = report.outcomes.filter { $0.state == .pulled }.count
        let counts = "\(built) built, \(cached) cached, " + (pulled > 0 ? "\(pulled) pulled, " : "") + "\(report.outcomes.count - built - cached - pulled) not built"
        Console.out("\(counts); \(report.uploads) build context\(report.uploads == 1 ? "" : "s") uploaded (\(report.builder) builder)")
    }

    // MARK: - Plain and JSON

    private func emitPlain(_ event: BuildEvent) {
        switch event {
        case .planned(let layers): Console.error("building \(layers.joined(separator: ", "))")
        case .baseResolved(let reference, let identity): Console.error("base \(reference) is \(identity)")
        case .started: break
        case .cached(let layer, let id): Console.error("[\(layer)] cached \(id.short)")
        case .pulled(let layer, let id, let from): Console.error("[\(layer)] pulled \(id.short) from \(from)")
        case .pushed(let layer, let reference): Console.error("[\(layer)] pushed \(reference)")
        case .cacheWarning(let message): Console.error(message)
        case .uploading(let layer, let bytes): Console.error("[\(layer)] uploading build context (\(ByteSize(bytes: bytes)))")
        case .step(let layer, let index, let total, let instruction): Console.error("[\(layer)] step \(index)/\(total): \(instruction)")
        case .output(let layer, let line): Console.error("[\(layer)]   \(line)")
        case .built(let layer, let id, let seconds): Console.error("[\(layer)] built \(id.short) in \(String(format: "%.1f", seconds))s")
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
        case .cached(_, let id): object["event"] = "cached"; object["imageID"] = .string(id.description)
        case .pulled(_, let id, let from): object["event"] = "pulled"; object["imageID"] = .string(id.description); object["from"] = .string(from)
        case .pushed(_, let reference): object["event"] = "pushed"; object["reference"] = .string(reference)
        case .cacheWarning(let message): object["event"] = "cacheWarning"; object["message"] = .string(message)
        case .uploading(_, let bytes): object["event"] = "uploading"; object["bytes"] = .int(bytes)
        case .step(_, let index, let total, let instruction):
            object["event"] = "step"; object["step"] = .int(Int64(index)); object["steps"] = .int(Int64(total)); object["instruction"] = .string(instruction)
        case .output(_, let line): object["event"] = "output"; object["line"] = .string(line)
        case .built(_, let id, let seconds): object["event"] = "built"; object["imageID"] = .string(id.description); object["seconds"] = .string(String(format: "%.2f", seconds))
        case .failed(_, let message, let step, let lastLines, let seconds):
            object["event"] = "failed"; object["message"] = .string(message); object["step"] = step.map(JSONValue.string) ?? .null
            object["lastLines"] = .array(lastLines.map(JSONValue.string)); object["seconds"] = .string(String(format: "%.2f", seconds))
        case .skipped(_, let reason): object["event"] = "skipped"; object["reason"] = .string(reason)
        }
        Console.out(JSONValue.object(object).canonical)
    }

    // MARK: - Terminal

    private func updateLocked(_ event: BuildEvent) {
        let now = Date()
        func change(_ layer: String, _ body: (inout LayerState) -> Void) {
            var state = layers[layer] ?? LayerState()
            body(&state)
            layers[layer] = state
        }
        switch event {
        case .planned(let names):
            order = names
            for name in names where layers[name] == nil { layers[name] = LayerState() }
        case .started(let layer):
            change(layer) { $0.state = "checking"; $0.tone = .active; $0.started = now }
        case .cached(let layer, _):
            change(layer) { state in
                state.state = "cached"; state.tone = .done
                state.finished = state.started.map { now.timeIntervalSince($0) } ?? 0
            }
        case .pulled(let layer, _, _):
            change(layer) { state in
                state.state = "pulled"; state.tone = .done
                state.finished = state.started.map { now.timeIntervalSince($0) } ?? 0
            }
        case .pushed(let layer, _):
            change(layer) { $0.state = "built, pushed" }
        case .uploading(let layer, let bytes):
            change(layer) { $0.state = "uploading \(ByteSize(bytes: bytes))"; $0.tone = .active }
        case .step(let layer, let index, let total, let instruction):
            change(layer) { $0.state = "step \(index)/\(total)"; $0.tone = .active; $0.step = instruction }
        case .built(let layer, _, let seconds):
            change(layer) { $0.state = "built"; $0.tone = .done; $0.step = ""; $0.finished = seconds }
        case .failed(let layer, _, _, _, let seconds):
            change(layer) { $0.state = "FAILED"; $0.tone = .failed; $0.finished = seconds }
        case .skipped(let layer, _):
            change(layer) { $0.state = "skipped"; $0.tone = .muted; $0.finished = 0 }
        case .baseResolved, .output, .cacheWarning:
            break
        }
    }

    private func tick(resized: Bool) {
        let newWidth = resized ? columns() : nil
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        if let newWidth { width = newWidth }
        drawLocked()
    }

    private func drawLocked() {
        guard mode == .terminal, !order.isEmpty else { return }
        let now = Date()
        let rows = order.map { name -> LiveView.Row in
            let state = layers[name] ?? LayerState()
            let seconds = state.finished ?? state.started.map { now.timeIntervalSince($0) }
            return LiveView.Row(name: name, state: state.state, tone: state.tone, seconds: seconds, detail: Console.redacted(state.step))
        }
        write(view.frame(rows, width: width, colour: colour))
    }

}
