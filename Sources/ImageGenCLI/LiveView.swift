import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
/// The live part of a terminal's build progress: one row per layer, redrawn in place.
///
/// A pure value: ``frame(_:width:colour:)`` returns the bytes that replace the previous frame
/// with the new one, so a test can check every frame without a terminal. Each row is cut to fit
/// the width (one column is kept free, so no terminal wraps it), so a frame of N rows takes N
/// lines and the next frame moves up exactly N. If the terminal got narrower since, and reflowed
/// the old rows onto several lines each (tmux, most terminal emulators), the move up counts
/// those lines instead.
struct LiveView: Sendable {
    enum Tone: Sendable { case plain, active, done, failed, muted }

    struct Row: Sendable, Equatable {
        var name: String
        var state: String
        var tone: Tone
        var seconds: Double?
        var detail: String

        init(name: String, state: String, tone: Tone, seconds: Double? = nil, detail: String = "") {
            self.name = name
            self.state = state
            self.tone = tone
            self.seconds = seconds
            self.detail = detail
        }
    }

    /// The columns each row of the last frame took, in order.
    private(set) var drawnColumns: [Int] = []

    /// The number of rows the last frame drew.
    var drawnRows: Int { drawnColumns.count }

    /// The escapes and rows that replace the previous frame with `rows` on a terminal `width`
    /// columns wide.
    mutating func frame(_ rows: [Row], width: Int, colour: Bool) -> String {
        var text = moveToTop(width: width)
        let limit = max(1, width - 1)
        let nameWidth = rows.map { TerminalText.columns($0.name) }.max() ?? 0
        var columns: [Int] = []
        for row in rows {
            let (line, used) = Self.render(row, nameWidth: nameWidth, limit: limit, colour: colour)
            text += "\u{1B}[2K" + line + "\n"
            columns.append(used)
        }
        // Anything below the new frame (a taller old one, or reflowed lines) goes.
        text += "\u{1B}[J"
        drawnColumns = columns
        return text
    }

    /// Erases the last frame and leaves the cursor where it began, so other text can be written
    /// there; the next frame starts from scratch.
    mutating func clear(width: Int) -> String {
        guard !drawnColumns.isEmpty else { return "" }
        let text = moveToTop(width: width) + "\u{1B}[J"
        drawnColumns = []
        return text
    }

    /// Forgets the last frame without erasing it: it stays on screen as the final state.
    mutating func release() { drawnColumns = [] }

    /// Lines the last frame takes now: one per row, or more where a narrower terminal reflowed it.
    func linesDrawn(width: Int) -> Int {
        let width = max(1, width)
        return drawnColumns.reduce(0) { $0 + max(1, ($1 + width - 1) / width) }
    }

    private func moveToTop(width: Int) -> String {
        let lines = linesDrawn(width: width)
        return lines > 0 ? "\r\u{1B}[\(lines)A" : "\r"
    }

    // MARK: - Rows

    /// `name  state  1.2s  detail`, cut to `limit` columns, with the state coloured.
    static func render(_ row: Row, nameWidth: Int, limit: Int, colour: Bool) -> (String, Int) {
        var parts: [(text: String, tone: Tone)] = [
            (row.name + String(repeating: " ", count: max(0, nameWidth - TerminalText.columns(row.name))), .plain),
            ("  " + row.state, row.tone),
        ]
        if let seconds = row.seconds { parts.append(("  " + String(format: "%.1fs", seconds), .muted)) }
        let detail = TerminalText.printable(row.detail)
        if !detail.isEmpty { parts.append(("  " + detail, .plain)) }

        var line = ""
        var used = 0
        for part in parts {
            let remaining = limit - used
            guard remaining > 0 else { break }
            let text = TerminalText.truncated(part.text, to: remaining)
            used += TerminalText.columns(text)
            line += colour ? paint(text, part.tone) : text
        }
        return (line, used)
    }

    static func paint(_ text: String, _ tone: Tone) -> String {
        let code: String
        switch tone {
        case .plain: return text
        case .active: code = "33"
        case .done: code = "32"
        case .failed: code = "31;1"
        case .muted: code = "2"
        }
        return "\u{1B}[\(code)m" + text + "\u{1B}[0m"
    }
}
