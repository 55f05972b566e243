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
/// Everything that changes is one `Screen`, behind one lock taken once per entry point (an event,
/// a tick, a note) and never re-entered. On a terminal a task ticks twice a second: it redraws the
/// elapsed times and follows the terminal's width (a resize shows within half a second).
final class BuildProgress: Sendable {
    enum Mode: Sendable { case terminal, plain, json }

    private struct LayerState: Sendable {
        var state = "waiting"
        var tone = LiveView.Tone.muted
        var step = ""
        var started: Date?
        var finished: Double?
    }

    private struct Failure: Sendable {
        var layer: String
        var message: String
        var step: String?
        var lastLines: [String]
    }

    /// What the live view shows and has drawn.
    private struct Screen: Sendable {
        var order: [String] = []
        var layers: [String: LayerState] = [:]
        var view = LiveView()
        var width: Int
        var stopped = false
        var failures: [Failure] = []
        var ticker: Task<Void, Never>?
    }

    private let mode: Mode
    private let colour: Bool
    private let columns: @Sendable () -> Int
    private let write: @Sendable (String) -> Void
    private let screen: Locked<Screen>

    /// `columns` is asked on start and at each tick; `write` puts bytes on the terminal.
    init(
        mode: Mode, colour: Bool = false, columns: @escaping @Sendable () -> Int = { TerminalInfo.columns() },
        write: @escaping @Sendable (String) -> Void = { Console.writeError($0) }
    ) {
        self.mode = mode
        self.colour = colour
        self.columns = columns
        self.write = write
        self.screen = Locked(Screen(width: columns()))
        guard mode == .terminal else { return }
        let ticker = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: 500_000_000)
                self?.tick()
            }
        }
        screen.withLock { $0.ticker = ticker }
    }

    deinit {
        screen.value.ticker?.cancel()
    }

    func handle(_ event: BuildEvent) {
        switch mode {
        case .json: emitJSON(event)
        case .plain: emitPlain(event)
        case .terminal:
            screen.withLock { screen in
                if case .cacheWarning(let message) = event, !screen.stopped {
                    note("warning: " + message, on: &screen)
                    return
                }
                update(&screen, event)
                if !screen.stopped { draw(&screen) }
            }
        }
        if case .failed(let layer, let message, let step, let lastLines, _) = event {
            screen.withLock { $0.failures.append(Failure(layer: layer, message: message, step: step, lastLines: lastLines)) }
        }
    }

    /// Writes a line above the live rows (which are drawn again below it).
    func note(_ text: String) {
        let shown = screen.withLock { screen -> Bool in
            guard mode == .terminal, !screen.stopped else { return false }
            note(text, on: &screen)
            return true
        }
        if !shown { Console.error(text) }
    }

    private func note(_ text: String, on screen: inout Screen) {
        write(screen.view.clear(width: screen.width) + Console.redacted(text) + "\n")
        draw(&screen)
    }

    /// Stops live updates, leaving the last frame on screen and the cursor below it: called when
    /// the run ends, whether it succeeded, failed or was interrupted. Safe to call more than once.
    func stop() {
        screen.withLock { screen in
            screen.ticker?.cancel()
            screen.ticker = nil
            guard !screen.stopped else { return }
            if mode == .terminal { draw(&screen) }
            screen.view.release()
            screen.stopped = true
        }
    }

    /// Stops live updates and prints failures and the summary table.
    func finish(_ report: BuildReport) {
        stop()
        if mode == .json {
            Console.out(
                JSONValue.object([
                    "event": "summary", "succeeded": .bool(report.succeeded), "uploads": .int(Int64(report.uploads)), "builder": .string(report.builder),
                    "builderReason": .string(report.builderReason),
                    "layers": .array(
                        report.outcomes.map { outcome in
                            .object([
                                "layer": .string(outcome.displayName), "reference": .string(outcome.reference.description), "state": .string(outcome.state.rawValue),
                                "imageID": outcome.imageID.map { .string($0.description) } ?? .null, "size": outcome.size.map(JSONValue.int) ?? .null,
                                "seconds": .string(String(format: "%.1f", outcome.seconds)),
                            ])
                        }),
                ]).canonical)
            return
        }
        for failure in screen.value.failures {
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
        let inRegistry = report.outcomes.filter { $0.state == .inRegistry }.count
        let counts =
            "\(built) built, \(cached) cached, " + (pulled > 0 ? "\(pulled) pulled, " : "") + (inRegistry > 0 ? "\(inRegistry) in registry, " : "")
            + "\(report.outcomes.count - built - cached - pulled - inRegistry) not built"
        Console.out("\(counts); \(report.uploads) build context\(report.uploads == 1 ? "" : "s") uploaded (\(report.builder) builder: \(report.builderReason))")
    }

    // MARK: - Plain and JSON

    private func emitPlain(_ event: BuildEvent) {
        switch event {
        case .planned(let layers): Console.error("building \(layers.joined(separator: ", "))")
        case .baseResolved(let reference, let identity): Console.error("base \(reference) is \(identity)")
        case .started: break
        case .cached(let layer, let id): Console.error("[\(layer)] cached \(id.short)")
        case .pulled(let layer, let id, let from): Console.error("[\(layer)] pulled \(id.short) from \(from)")
        case .inRegistry(let layer, let id, let at): Console.error("[\(layer)] in registry \(id.short) at \(at)")
        case .pushed(let layer, let reference): Console.error("[\(layer)] pushed \(reference)")
        case .cacheWarning(let message): Console.warn(message)
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
        case .inRegistry(_, let id, let at): object["event"] = "inRegistry"; object["imageID"] = .string(id.description); object["at"] = .string(at)
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

    private func update(_ screen: inout Screen, _ event: BuildEvent) {
        let now = Date()
        func change(_ layer: String, _ body: (inout LayerState) -> Void) {
            var state = screen.layers[layer] ?? LayerState()
            body(&state)
            screen.layers[layer] = state
        }
        switch event {
        case .planned(let names):
            screen.order = names
            for name in names where screen.layers[name] == nil { screen.layers[name] = LayerState() }
        case .started(let layer):
            change(layer) {
                $0.state = "checking"; $0.tone = .active; $0.started = now
            }
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
        case .inRegistry(let layer, _, _):
            change(layer) { state in
                state.state = "in registry"; state.tone = .done
                state.finished = state.started.map { now.timeIntervalSince($0) } ?? 0
            }
        case .pushed(let layer, _):
            change(layer) { $0.state = "built, pushed" }
        case .uploading(let layer, let bytes):
            change(layer) {
                $0.state = "uploading \(ByteSize(bytes: bytes))"; $0.tone = .active
            }
        case .step(let layer, let index, let total, let instruction):
            change(layer) {
                $0.state = "step \(index)/\(total)"; $0.tone = .active; $0.step = instruction
            }
        case .built(let layer, _, let seconds):
            change(layer) {
                $0.state = "built"; $0.tone = .done; $0.step = ""; $0.finished = seconds
            }
        case .failed(let layer, _, _, _, let seconds):
            change(layer) {
                $0.state = "FAILED"; $0.tone = .failed; $0.finished = seconds
            }
        case .skipped(let layer, _):
            change(layer) {
                $0.state = "skipped"; $0.tone = .muted; $0.finished = 0
            }
        case .baseResolved, .output, .cacheWarning:
            break
        }
    }

    /// Twice a second: the elapsed times move, and the rows follow the terminal's width.
    private func tick() {
        let width = columns()
        screen.withLock { screen in
            guard !screen.stopped else { return }
            screen.width = width
            draw(&screen)
        }
    }

    private func draw(_ screen: inout Screen) {
        guard mode == .terminal, !screen.order.isEmpty else { return }
        let now = Date()
        let rows = screen.order.map { name -> LiveView.Row in
            let state = screen.layers[name] ?? LayerState()
            let seconds = state.finished ?? state.started.map { now.timeIntervalSince($0) }
            return LiveView.Row(name: name, state: state.state, tone: state.tone, seconds: seconds, detail: Console.redacted(state.step))
        }
        write(screen.view.frame(rows, width: screen.width, colour: colour))
    }
}
