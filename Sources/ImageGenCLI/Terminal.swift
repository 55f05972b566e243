import ArgumentParser
import CSystemShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// What the terminal on stderr can show, as the docker CLI and buildx decide it: live updates on
/// a terminal unless `TERM=dumb`, colour unless `NO_COLOR` is set, and a width from
/// `COLUMNS`, else the terminal (`TIOCGWINSZ`), else 80.
struct TerminalInfo: Sendable, Equatable {
    var isTerminal: Bool
    var dumb: Bool
    var noColour: Bool

    static func current(fd: Int32 = STDERR_FILENO, environment: [String: String] = ProcessInfo.processInfo.environment) -> TerminalInfo {
        TerminalInfo(
            isTerminal: isatty(fd) == 1,
            dumb: environment["TERM"] == "dumb",
            noColour: !(environment["NO_COLOR"] ?? "").isEmpty)
    }

    /// Colour escapes are written only to a terminal that is not dumb, and never with NO_COLOR.
    var colour: Bool { isTerminal && !dumb && !noColour }

    /// The width rows must fit in, read anew each time (the terminal may have been resized).
    static func columns(fd: Int32 = STDERR_FILENO, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        if let text = environment["COLUMNS"], let columns = Int(text), columns > 0 { return columns }
        let measured = Int(imagegen_terminal_columns(fd))
        return measured > 0 ? measured : 80
    }
}

/// `--progress`: how build progress is shown.
enum ProgressChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// A live view on a terminal (unless TERM=dumb), plain lines otherwise.
    case auto
    /// The live view, even when stderr is not a terminal.
    case tty
    /// One log line per event, prefixed by layer.
    case plain
    /// One JSON event per line on stdout.
    case json

    func mode(format: OutputFormat, terminal: TerminalInfo) -> BuildProgress.Mode {
        if format == .json || self == .json { return .json }
        switch self {
        case .tty: return .terminal
        case .plain: return .plain
        case .auto, .json: return terminal.isTerminal && !terminal.dumb ? .terminal : .plain
        }
    }
}

/// Text as a terminal lays it out: columns per character, and cutting a row to fit.
enum TerminalText {
    /// Columns a scalar takes: 0 for controls and combining marks, 2 for East Asian wide and
    /// full-width characters and emoji, 1 otherwise (what `wcwidth` says in a UTF-8 locale).
    static func columns(of scalar: Unicode.Scalar) -> Int {
        let value = scalar.value
        if value < 0x20 || (0x7F..<0xA0).contains(value) { return 0 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        if value == 0x200B { return 0 }
        let wide: [ClosedRange<UInt32>] = [
            0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x2E80...0x303E, 0x3041...0x33FF,
            0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F,
            0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD,
        ]
        return wide.contains { $0.contains(value) } ? 2 : 1
    }

    static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + columns(of: $1) }
    }

    /// The text cut to at most `limit` columns, with "…" where it was cut.
    static func truncated(_ text: String, to limit: Int) -> String {
        guard limit > 0 else { return "" }
        guard columns(text) > limit else { return text }
        var result = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let width = columns(of: scalar)
            if used + width > limit - 1 { break }
            result.append(scalar)
            used += width
        }
        return String(result) + "…"
    }

    /// Control characters a build step may print (tabs, escapes, carriage returns) would move the
    /// cursor; in a row they become spaces or go.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        var output = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\t" { output.append(" ") } else if scalar.value >= 0x20, scalar.value != 0x7F { output.append(scalar) }
        }
        return String(output)
    }
}
