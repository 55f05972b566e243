import Foundation
import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// Follows a build's messages for one layer: which step runs, the output lines worth showing,
/// the last lines (for a failure report), the image ID, and the error, for either builder.
struct StepTracker {
    let layer: String
    var currentStep: String?
    var imageID: ImageID?
    var error: String?
    private(set) var lastLines: [String] = []
    private var partial = ""
    private var seenVertexes: Set<String> = []
    private var vertexNames: [String: String] = [:]
    /// What a step prints can hold a secret (a RUN that echoes a token): redacted before it is
    /// kept or shown.
    private var redactor = LineRedactor()
    static let keptLines = 20
    /// How the classic builder's own messages begin.
    static let builderPrefixes = ["Step ", " ---> ", "Removing intermediate container", "Successfully built", "Successfully tagged"]

    init(layer: String) { self.layer = layer }

    mutating func handle(_ message: BuildMessage, emit: (BuildEvent) -> Void) {
        switch message {
        case .output(let text):
            // Output that ended without a newline is a line of its own once the builder speaks.
            if !partial.isEmpty, Self.builderPrefixes.contains(where: { Self.plain(text).hasPrefix($0) }) {
                classicLine(Self.plain(partial), emit: emit)
                partial = ""
            }
            partial += text
            while let newline = partial.firstIndex(of: "\n") {
                let line = Self.plain(String(partial[..<newline]))
                partial = String(partial[partial.index(after: newline)...])
                classicLine(line, emit: emit)
            }
        case .status:
            break
        case .imageID(let id):
            imageID = try? ImageID(parsing: id)
        case .error(let text, _):
            error = Redactor.redact(Self.stepFailure(text))
        case .trace(let status):
            for vertex in status.vertexes {
                vertexNames[vertex.digest] = vertex.name
                if vertex.started, seenVertexes.insert(vertex.digest).inserted, let (index, total, instruction) = Self.buildKitStep(vertex.name) {
                    currentStep = instruction
                    emit(.step(layer: layer, index: index, total: total, instruction: instruction))
                }
                if !vertex.error.isEmpty, let name = vertexNames[vertex.digest] {
                    currentStep = Self.buildKitStep(name)?.2 ?? name
                }
            }
            for log in status.logs {
                for line in String(decoding: log.message, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: true) {
                    remember(Self.plain(String(line)), emit: emit)
                }
            }
        }
    }

    mutating func finish(emit: (BuildEvent) -> Void) {
        if !partial.isEmpty { classicLine(Self.plain(partial), emit: emit) }
        partial = ""
    }

    private mutating func classicLine(_ line: String, emit: (BuildEvent) -> Void) {
        if line.hasPrefix("Step "), let (index, total, instruction) = Self.classicStep(line) {
            currentStep = instruction
            emit(.step(layer: layer, index: index, total: total, instruction: instruction))
            return
        }
        // The classic builder's own chatter is not the user's output.
        if line.trimmingCharacters(in: .whitespaces).isEmpty || Self.builderPrefixes.contains(where: line.hasPrefix) { return }
        remember(line, emit: emit)
    }

    private mutating func remember(_ line: String, emit: (BuildEvent) -> Void) {
        let line = redactor.redact(line)
        lastLines.append(line)
        if lastLines.count > Self.keptLines { lastLines.removeFirst(lastLines.count - Self.keptLines) }
        emit(.output(layer: layer, line: line))
    }

    /// The text without terminal escapes (the classic builder colours RUN's stderr) or carriage returns.
    static func plain(_ text: String) -> String {
        guard text.contains("\u{1B}") || text.contains("\r") else { return text }
        var output = ""
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                // CSI: ESC [ parameters… final byte in @…~
                if iterator.next() == "[" {
                    while let next = iterator.next(), !(0x40...0x7E).contains(next.value) {}
                }
                continue
            }
            if scalar != "\r" { output.unicodeScalars.append(scalar) }
        }
        return output
    }

    /// `Step 3/9 : RUN apt-get update`
    static func classicStep(_ line: String) -> (Int, Int, String)? {
        let body = line.dropFirst("Step ".count)
        guard let separator = body.range(of: " : ") else { return nil }
        let counts = body[..<separator.lowerBound].split(separator: "/")
        guard counts.count == 2, let index = Int(counts[0]), let total = Int(counts[1]) else { return nil }
        return (index, total, collapsingSpaces(String(body[separator.upperBound...])))
    }

    /// The classic builder joins continued lines with their indentation; one space reads better.
    static func collapsingSpaces(_ text: String) -> String {
        text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }

    /// `[ 3/9] RUN apt-get update` (BuildKit pads the index).
    static func buildKitStep(_ name: String) -> (Int, Int, String)? {
        guard name.hasPrefix("["), let close = name.firstIndex(of: "]") else { return nil }
        let counts = name[name.index(after: name.startIndex)..<close].split(separator: "/")
        guard counts.count == 2, let index = Int(counts[0].trimmingCharacters(in: .whitespaces)), let total = Int(counts[1])
        else { return nil }
        return (index, total, name[name.index(after: close)...].trimmingCharacters(in: .whitespaces))
    }

    /// A failed `RUN` as each builder words it — classic: `The command '/bin/sh -c …' returned a
    /// non-zero code: 3`; BuildKit 0.8: `executor failed running [/bin/sh -c …]: exit code: 3`;
    /// later BuildKit: `process "/bin/sh -c …" did not complete successfully: exit code: 3` — said
    /// one way, whichever built (the step itself is reported beside it); other errors as they are.
    static func stepFailure(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let patterns = [
            #"^The command '.*' returned a non-zero code: (\d+)$"#, #"^executor failed running \[.*\]: exit code: (\d+)$"#,
            #"^process ".*" did not complete successfully: exit code: (\d+)$"#,
        ]
        for pattern in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
                let match = expression.firstMatch(in: trimmed, range: NSRange(trimmed.startIndex..., in: trimmed)),
                let range = Range(match.range(at: 1), in: trimmed)
            else { continue }
            return "the step exited with code \(trimmed[range])"
        }
        return text
    }
}
