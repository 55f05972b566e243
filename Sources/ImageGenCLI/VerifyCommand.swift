import ArgumentParser
import DockerEngine
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the built images against the recipe's policies: size, user, secrets, labels, probes, files, waste.",
        discussion: """
            Every check of every layer runs, and the report lists them all. Exit codes: 0 every check \
            passed, 1 a check failed (or none ran), 2 a bad recipe or policy, 3 the engine is unreachable.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, junit }

    @OptionGroup var options: RecipeOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var cache: CacheOptions

    @Option(name: .customLong("layer"), help: "Verify this layer (repeatable); all layers by default.")
    var layers: [String] = []

    @Option(help: "Report format: text, json or junit.")
    var format: Format = .text

    @Option(help: ArgumentHelp("Write the report to FILE instead of stdout (the summary still goes to stderr).", valueName: "FILE"))
    var output: String?

    @Option(name: .customLong("probe-timeout"), help: "Seconds each probe may run, unless the layer's policy says.")
    var probeTimeout = 30

    @Option(
        name: .customLong("layers-from"),
        help: "Read layers not yet indexed: auto (the engine's storage where readable, else by a helper container, else the engine's export), storage, helper, or export.")
    var layersFrom: Verifier.LayersFrom = .auto

    @Flag(help: "Run every check here, even for images whose passing result the cache registry keeps (--cache); the results are kept as ever.")
    var recheck = false

    func run() async throws {
        let plan = try await options.loadPlan()
        for layer in layers where plan.layer(named: layer) == nil {
            throw CommandFailure("unknown layer '\(layer)'; the recipe has \(plan.layers.map(\.name).joined(separator: ", "))", code: .badInput)
        }
        var verifyOptions = Verifier.Options()
        verifyOptions.layers = layers
        verifyOptions.probeTimeout = probeTimeout
        verifyOptions.layersFrom = layersFrom
        verifyOptions.reuseResults = !recheck
        verifyOptions.notes = { Console.error($0) }
        let engine = try await engineOptions.connect()
        let native = try await engineOptions.connectPlatforms()
        try await engineOptions.checkEmulation(for: plan.platforms, native: native, engine: engine)
        var report = VerifyReport(recipe: plan.name, layers: [])
        do {
            // Each platform on its engine; a recipe without platforms is one run, as ever.
            for (platform, platformPlan) in plan.perPlatform {
                let platformEngine = platform.flatMap { native[$0] } ?? engine
                // With a cache, results it keeps for the same image, rules and policy are reused,
                // and only what is verified here is pulled (see VerifyResults).
                verifyOptions.sharedIndex = try await cache.open(for: platformPlan)
                let settings = verifyOptions
                let part = try await withInterruptHandling { try await Verifier(engine: platformEngine, plan: platformPlan, options: settings).run() }
                report.layers += part.layers
            }
            let order = Dictionary(uniqueKeysWithValues: plan.layers.enumerated().map { ($1.displayName, $0) })
            report.layers.sort { (order[$0.displayName] ?? 0) < (order[$1.displayName] ?? 0) }
        } catch let error as Verifier.StorageUnavailable {
            throw CommandFailure("\(error)", code: .badInput)
        } catch {
            throw EngineFailure.wrap(error)
        }
        let text: String
        switch format {
        case .text: text = ReportFormats.text(report, colour: output == nil && TerminalInfo.current(fd: STDOUT_FILENO).colour)
        case .json: text = ReportFormats.json(report).pretty
        case .junit: text = ReportFormats.junit(report)
        }
        if let output {
            do {
                try AtomicFile.write(Array(Redactor.redact(text).utf8), to: output, createDirectories: true)
            } catch {
                throw CommandFailure("\(error)", code: .failed)
            }
            Console.error(ReportFormats.summary(report) + " (report: \(output))")
        } else {
            Console.out(text)
            if format != .text { Console.error(ReportFormats.summary(report)) }
        }
        if !report.passed { throw ExitCode.failed }
    }
}

extension Verifier.LayersFrom: ExpressibleByArgument {}
