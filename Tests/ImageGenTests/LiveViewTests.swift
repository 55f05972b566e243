import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
@testable import ImageGenCLI

/// Frames written by a terminal-mode ``BuildProgress``, captured instead of sent to a terminal.
private final class FrameLog: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [String] = []
    private var width: Int

    init(width: Int) { self.width = width }

    func record(_ frame: String) {
        lock.lock()
        frames.append(frame)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return frames
    }

    var columns: Int {
        lock.lock()
        defer { lock.unlock() }
        return width
    }
}

@Suite("Live build progress on a terminal")
struct LiveViewTests {
    /// A build of three layers with long steps, a cached layer, a failure and a skip.
    static let events: [BuildEvent] = {
        let long = "RUN " + String(repeating: "apt-get install --no-install-recommends some-package-name ", count: 8)
        var events: [BuildEvent] = [.planned(layers: ["base", "developer-tools", "sandbox", "context"])]
        events.append(.started(layer: "base"))
        events.append(.cached(layer: "base", imageID: try! ImageID(sha256: String(repeating: "a", count: 64))))
        events.append(.started(layer: "developer-tools"))
        events.append(.uploading(layer: "developer-tools", bytes: 12_345_678))
        for index in 1...9 {
            events.append(.step(layer: "developer-tools", index: index, total: 9, instruction: index.isMultiple(of: 2) ? long : "ENV 日本語=テキスト\tTAB"))
            events.append(.output(layer: "developer-tools", line: "output \(index)"))
        }
        events.append(.built(layer: "developer-tools", imageID: try! ImageID(sha256: String(repeating: "b", count: 64)), seconds: 12.3))
        events.append(.started(layer: "sandbox"))
        events.append(.step(layer: "sandbox", index: 1, total: 3, instruction: long))
        events.append(.failed(layer: "sandbox", message: "exit 1", step: long, lastLines: ["boom"], seconds: 1.5))
        events.append(.skipped(layer: "context", reason: "layer 'sandbox' it is built on did not build"))
        return events
    }()

    @Test("every row fits the width and each redraw moves up exactly the rows the last frame drew", arguments: [20, 40, 80, 120, 200])
    func framesFit(width: Int) {
        let log = FrameLog(width: width)
        let progress = BuildProgress(mode: .terminal, colour: true, columns: { log.columns }, write: log.record)
        for event in Self.events { progress.handle(event) }
        progress.stop()
        let frames = log.all
        #expect(frames.count >= Self.events.count - 9)  // output events draw nothing new
        var previousRows = 0
        for (index, frame) in frames.enumerated() {
            let rows = TerminalScreen.liveRows(frame)
            #expect(rows.count == 4, "frame \(index) has \(rows.count) rows")
            for row in rows {
                #expect(TerminalText.columns(row) <= width - 1, "frame \(index): row of \(TerminalText.columns(row)) columns at width \(width): \(row)")
                #expect(!row.contains("\t"))
            }
            let moves = TerminalScreen.upMoves(frame)
            if previousRows == 0 {
                #expect(moves.isEmpty, "the first frame moves up \(moves)")
            } else {
                #expect(moves == [previousRows], "frame \(index) moves up \(moves), the last frame drew \(previousRows)")
            }
            previousRows = rows.count
        }
        let last = TerminalScreen.liveRows(frames.last ?? "")
        guard width >= 40 else { return }
        #expect(
            last.map { $0.split(separator: " ").prefix(2).joined(separator: " ") }
                == ["base cached", "developer-tools built", "sandbox FAILED", "context skipped"])
    }

    @Test("after the terminal narrows, the move up counts the lines the old rows were reflowed onto")
    func narrowing() {
        var view = LiveView()
        let rows = [LiveView.Row(name: "base", state: "step 1/2", tone: .active, detail: String(repeating: "x", count: 300))]
        let first = view.frame(rows, width: 100, colour: false)
        #expect(TerminalScreen.upMoves(first).isEmpty)
        #expect(view.drawnColumns == [99])
        // 99 columns on a 40-column terminal that reflows: 3 lines.
        let second = view.frame(rows, width: 40, colour: false)
        #expect(TerminalScreen.upMoves(second) == [3])
        #expect(TerminalScreen.liveRows(second).allSatisfy { TerminalText.columns($0) <= 39 })
        // Wider again: the 39-column row took one line.
        let third = view.frame(rows, width: 200, colour: false)
        #expect(TerminalScreen.upMoves(third) == [1])
    }

    @Test("a note is written above the live rows, which are drawn again below it")
    func noteAbove() {
        let log = FrameLog(width: 80)
        let progress = BuildProgress(mode: .terminal, columns: { log.columns }, write: log.record)
        progress.handle(.planned(layers: ["base", "developer"]))
        progress.note("interrupted: stopping")
        progress.stop()
        let frames = log.all
        guard let index = frames.firstIndex(where: { $0.contains("interrupted") }), index + 1 < frames.count else {
            Issue.record("no note, or nothing drawn after it: \(frames)")
            return
        }
        // Up over the two rows and erase them, the note; then both rows again, from there.
        #expect(TerminalScreen.upMoves(frames[index]) == [2])
        #expect(TerminalScreen.plain(frames[index]).hasSuffix("interrupted: stopping\n"))
        #expect(TerminalScreen.upMoves(frames[index + 1]).isEmpty)
        #expect(TerminalScreen.liveRows(frames[index + 1]).count == 2)
    }

    @Test("display widths: wide characters take two columns, controls and combining marks none")
    func widths() {
        #expect(TerminalText.columns("abc") == 3)
        #expect(TerminalText.columns("日本") == 4)
        #expect(TerminalText.columns("e\u{301}") == 1)
        #expect(TerminalText.columns("🙂") == 2)
        #expect(TerminalText.truncated("日本語テキスト", to: 5) == "日本…")
        #expect(TerminalText.columns(TerminalText.truncated(String(repeating: "界", count: 50), to: 11)) <= 11)
    }

    @Test("progress modes as the docker CLI picks them")
    func modes() {
        let tty = TerminalInfo(isTerminal: true, dumb: false, noColour: false)
        let dumb = TerminalInfo(isTerminal: true, dumb: true, noColour: false)
        let pipe = TerminalInfo(isTerminal: false, dumb: false, noColour: false)
        #expect(ProgressChoice.auto.mode(format: .text, terminal: tty) == .terminal)
        #expect(ProgressChoice.auto.mode(format: .text, terminal: dumb) == .plain)
        #expect(ProgressChoice.auto.mode(format: .text, terminal: pipe) == .plain)
        #expect(ProgressChoice.tty.mode(format: .text, terminal: pipe) == .terminal)
        #expect(ProgressChoice.plain.mode(format: .text, terminal: tty) == .plain)
        #expect(ProgressChoice.auto.mode(format: .json, terminal: tty) == .json)
        #expect(ProgressChoice.json.mode(format: .text, terminal: tty) == .json)
        #expect(!TerminalInfo(isTerminal: true, dumb: false, noColour: true).colour)
        #expect(!dumb.colour)
        #expect(tty.colour)
        #expect(TerminalInfo.columns(fd: -1, environment: ["COLUMNS": "132"]) == 132)
        #expect(TerminalInfo.columns(fd: -1, environment: [:]) == 80)
    }
}
