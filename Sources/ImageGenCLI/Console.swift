import Foundation
import ImageGen
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

/// Where commands write: results to stdout, diagnostics and progress to stderr. Everything
/// passes the redactor first.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((redacted(text) + "\n").utf8))
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((redacted(text) + "\n").utf8))
    }

    /// A failure, on stderr, with the one `error:` prefix every failure gets.
    static func fail(_ text: String) { error("error: " + text) }

    /// A warning, on stderr, with its `warning:` prefix.
    static func warn(_ text: String) { error("warning: " + text) }

    /// Bytes for the terminal on stderr as they are (escapes included); the caller redacts text.
    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// The text with every secret the rules recognize replaced.
    static func redacted(_ text: String) -> String { Redactor.redact(text) }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Prints diagnostics in file order and, if there were any, a count; returns whether any was an error.
    @discardableResult
    static func report(_ diagnostics: Diagnostics) -> Bool {
        let sorted = diagnostics.sorted
        for diagnostic in sorted { error(diagnostic.description) }
        let errors = sorted.filter { $0.severity == .error }.count
        let warnings = sorted.filter { $0.severity == .warning }.count
        if !sorted.isEmpty { error("\(count(errors, "error")), \(count(warnings, "warning"))") }
        return errors > 0
    }

    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}

/// Formats rows as left-aligned columns.
enum Table {
    static func render(_ rows: [[String]], indent: String = "") -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        return rows.map { row in
            indent
                + row.enumerated().map { index, cell in
                    index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
