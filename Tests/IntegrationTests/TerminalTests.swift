import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
import Testing
@testable import ImageGenCLI

/// Every command as a user runs it in a terminal: on a real pseudo-terminal, at several widths,
/// against the real engine. Before, `build` aborted with "Fatal access conflict" on every
/// terminal, and nothing noticed, because no test gave imagegen a terminal.
@Suite("commands on a terminal", .serialized)
struct TerminalTests {
    static let longStep = "echo start && sleep 1 && echo " + String(repeating: "a-long-output-word ", count: 20)

    static func recipe(_ name: String, run: String) -> String {
        EngineFixture.recipe(name, base: "    run: [\"\(run)\"]\n    probes: [\"echo probe-ok\"]\n")
    }

    /// Runs imagegen on a terminal in `scratch`, with its own cache directory.
    static func onTerminal(
        _ arguments: [String], in scratch: Scratch, columns: Int, environment: [String: String] = [:],
        actions: [(marker: String, action: PseudoTerminal.Action)] = []
    ) throws -> PseudoTerminal.Result {
        try PseudoTerminal.run(
            imagegenExecutable, arguments, directory: scratch.path, columns: columns,
            environment: ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")].merging(environment) { _, new in new },
            actions: actions)
    }

    static func expectClean(
        _ result: PseudoTerminal.Result, status: Int32, columns: Int, contains text: String,
        sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) {
        let plain = TerminalScreen.plain(result.output)
        #expect(result.status == status, "exit \(result.status), expected \(status):\n\(plain)", sourceLocation: sourceLocation)
        #expect(plain.contains(text), "no '\(text)' in:\n\(plain)", sourceLocation: sourceLocation)
        for word in ["Fatal", "crashed", "Simultaneous accesses"] {
            #expect(!plain.contains(word), "'\(word)' in:\n\(plain)", sourceLocation: sourceLocation)
        }
        for row in TerminalScreen.liveRows(result.output) {
            #expect(
                TerminalText.columns(row) < columns, "a live row of \(TerminalText.columns(row)) columns on \(columns): \(row)",
                sourceLocation: sourceLocation)
        }
    }

    @Test("build (cold with long RUN lines, cached, failing), validate, generate, plan, verify, release", arguments: [80, 200])
    func everyCommand(columns: Int) async throws {
        try await withRecipeFixture("tty\(columns)") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", Self.recipe(name, run: Self.longStep))

            let cold = try Self.onTerminal(["build", "recipe.yaml"], in: scratch, columns: columns)
            Self.expectClean(cold, status: 0, columns: columns, contains: "1 built, 0 cached")
            #expect(!TerminalScreen.liveRows(cold.output).isEmpty, "no live view on a terminal")
            #expect(cold.output.contains("\u{1B}[32m"), "no colour on a terminal")
            // The rows shown and the moves up agree: each redraw goes up exactly what was drawn.
            #expect(TerminalScreen.upMoves(cold.output).allSatisfy { $0 == 1 })

            let cached = try Self.onTerminal(["build", "recipe.yaml"], in: scratch, columns: columns)
            Self.expectClean(cached, status: 0, columns: columns, contains: "0 built, 1 cached")

            Self.expectClean(try Self.onTerminal(["validate", "recipe.yaml"], in: scratch, columns: columns), status: 0, columns: columns, contains: "ok (1 layer")
            Self.expectClean(
                try Self.onTerminal(["generate", "recipe.yaml", "--out", "gen"], in: scratch, columns: columns), status: 0, columns: columns,
                contains: "wrote gen/\(name)")
            Self.expectClean(try Self.onTerminal(["plan", "recipe.yaml"], in: scratch, columns: columns), status: 0, columns: columns, contains: "built")
            let verify = try Self.onTerminal(["verify", "recipe.yaml"], in: scratch, columns: columns)
            Self.expectClean(verify, status: 0, columns: columns, contains: "passed")
            #expect(verify.output.contains("\u{1B}[32m✓"))
            Self.expectClean(
                try Self.onTerminal(["release", "recipe.yaml", "--version", "1.0.0", "--dry-run"], in: scratch, columns: columns),
                status: 0, columns: columns, contains: "dry run")

            scratch.write("recipe.yaml", Self.recipe(name, run: "echo failing-now && exit 3"))
            let failing = try Self.onTerminal(["build", "recipe.yaml"], in: scratch, columns: columns)
            Self.expectClean(failing, status: 1, columns: columns, contains: "error: layer 'base' failed")
            #expect(TerminalScreen.plain(failing.output).contains("failing-now"))
        }
    }

    @Test("a resize mid-build: rows follow the new width")
    func resize() async throws {
        try await withRecipeFixture("ttyresize") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", Self.recipe(name, run: "echo resize-now && sleep 3 && echo " + String(repeating: "x", count: 300)))
            let result = try Self.onTerminal(["build", "recipe.yaml"], in: scratch, columns: 200, actions: [("resize-now", .resize(columns: 50))])
            Self.expectClean(result, status: 0, columns: 200, contains: "1 built")
            // After the resize, which the timer redraws within half a second, every row fits 50 columns.
            let after = result.output.components(separatedBy: "step 4/").dropFirst().joined()
            let rows = TerminalScreen.liveRows(after)
            #expect(!rows.isEmpty)
            for row in rows { #expect(TerminalText.columns(row) < 50, "\(row)") }
        }
    }

    @Test("NO_COLOR drops colour, TERM=dumb and --progress plain drop the live view, --progress tty forces it")
    func conventions() async throws {
        try await withRecipeFixture("ttyconv") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", Self.recipe(name, run: "echo conventions"))
            _ = try imagegen(["build", "recipe.yaml"], in: scratch)

            let noColour = try Self.onTerminal(["build", "recipe.yaml"], in: scratch, columns: 100, environment: ["NO_COLOR": "1"])
            Self.expectClean(noColour, status: 0, columns: 100, contains: "1 cached")
            #expect(!TerminalScreen.liveRows(noColour.output).isEmpty)
            #expect(!noColour.output.contains("\u{1B}[3"), "colour despite NO_COLOR")
            let noColourVerify = try Self.onTerminal(["verify", "recipe.yaml"], in: scratch, columns: 100, environment: ["NO_COLOR": "1"])
            #expect(!noColourVerify.output.contains("\u{1B}["))

            for (environment, arguments) in [(["TERM": "dumb"], [String]()), ([:], ["--progress", "plain"])] {
                let plain = try Self.onTerminal(["build", "recipe.yaml"] + arguments, in: scratch, columns: 100, environment: environment)
                Self.expectClean(plain, status: 0, columns: 100, contains: "[base] cached")
                #expect(!plain.output.contains("\u{1B}["), "escapes with \(environment) \(arguments)")
            }
            let forced = try imagegen(["build", "recipe.yaml", "--progress", "tty"], in: scratch)
            #expect(forced.status == 0)
            #expect(forced.stderr.contains("\u{1B}[2K"))
            let json = try Self.onTerminal(["build", "recipe.yaml", "--progress", "json"], in: scratch, columns: 100)
            Self.expectClean(json, status: 0, columns: 100, contains: "\"event\":\"summary\"")
        }
    }

    @Test("Ctrl-C on a terminal: exit 130, the note above the last frame, the cursor on a fresh line")
    func interrupt() async throws {
        try await withRecipeFixture("ttyint") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", Self.recipe(name, run: "echo interrupt-me && sleep 60"))
            let result = try Self.onTerminal(["build", "recipe.yaml"], in: scratch, columns: 120, actions: [("interrupt-me", .type("\u{03}"))])
            Self.expectClean(result, status: 130, columns: 120, contains: "interrupted: stopping")
            let plain = TerminalScreen.plain(result.output)
            #expect(plain.unicodeScalars.last == "\n", "the output does not end on a fresh line: \(plain.suffix(200))")
            #expect(!result.output.contains("\u{1B}[?25l") || result.output.contains("\u{1B}[?25h"))
        }
    }
}
