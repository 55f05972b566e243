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

struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Tag every layer of the family with a semantic version (and push), only after verify passes.",
        discussion: """
            1.4.2 tags 1.4.2, 1.4, 1 and latest; 0.3.1 tags 0.3.1, 0.3 and latest (no bare 0); a \
            pre-release tags only itself. Build metadata becomes _ in the tag (1.4.2+b7 → 1.4.2_b7). \
            Floating tags only move forward; a released version never moves; with --push, what the \
            registry already holds decides (read through its API), so a fresh CI runner cannot move \
            latest back. The release labels \
            (version, revision, created) go on a label-only image derived from each built image. If a \
            tag or a push fails, every tag moved in the run is put back. Exit codes: 0 released, 1 \
            refused or failed, 2 bad input, 3 the engine is unreachable.
            """)

    @OptionGroup var options: RecipeOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var cache: CacheOptions

    @Option(help: "The version to release: X.Y.Z[-pre][+build].")
    var version: String?

    @Flag(name: .customLong("version-from-git"), help: "Take the version from the current commit's vX.Y.Z tag.")
    var versionFromGit = false

    @Flag(help: "Push the tags to the registry.")
    var push = false

    @Option(help: ArgumentHelp("Prefix repositories with a registry: HOST[:PORT][/NAMESPACE].", valueName: "REGISTRY"))
    var registry: String?

    @Flag(name: .customLong("dry-run"), help: "Print the tag plan and change nothing.")
    var dryRun = false

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @Option(name: .customLong("probe-timeout"), help: "Seconds each verify probe may run.")
    var probeTimeout = 30

    @Flag(
        name: .customLong("no-attestations"),
        help: "With --push, attach nothing to the pushed manifests (by default: an SPDX SBOM, the verify report and SLSA provenance, as OCI referrers).")
    var noAttestations = false

    func validate() throws {
        guard (version != nil) != versionFromGit else { throw ValidationError("give exactly one of --version X.Y.Z and --version-from-git") }
        if let version {
            do { _ = try SemVer(parsing: version) } catch { throw ValidationError("--version: \(error)") }
        }
        if let registry {
            let host = registry.split(separator: "/").first.map(String.init) ?? ""
            guard !host.isEmpty, (try? ImageReference(parsing: "\(registry.trimmingCharacters(in: CharacterSet(charactersIn: "/")))/x:1"))?.registry != nil else {
                throw ValidationError("--registry '\(registry)' must be HOST[:PORT][/NAMESPACE], e.g. 127.0.0.1:5000/team")
            }
        }
    }

    func run() async throws {
        let plan = try await options.loadPlan()
        let directory = (options.recipe as NSString).deletingLastPathComponent
        let semver: SemVer
        if let version {
            semver = try SemVer(parsing: version)
        } else {
            do {
                semver = try await GitInfo.versionFromTag(in: directory)
            } catch {
                throw CommandFailure("\(error)", code: .badInput)
            }
        }
        var releaseOptions = Releaser.Options(
            info: ReleaseInfo(
                version: semver, revision: await GitInfo.revision(in: directory), created: await GitInfo.creationTime(in: directory)))
        releaseOptions.push = push
        releaseOptions.registry = registry
        releaseOptions.dryRun = dryRun
        releaseOptions.probeTimeout = probeTimeout
        if push && !noAttestations {
            let source = plan.recipe.recipe.labels.first(where: { $0.key == ImageLabels.OCI.source })?.value
            releaseOptions.provenance = ReleaseProvenance.current(
                recipePath: options.recipe, revision: releaseOptions.info.revision, sourceRepository: source, startedOn: Timestamp.rfc3339(Date()))
        }
        if semver.build.isEmpty == false {
            Console.error("note: build metadata is not allowed in Docker tags; the tag is \(TagPlanner.exactTag(semver))")
        }
        let engine = try await engineOptions.connect()
        let native = try await engineOptions.connectPlatforms()
        try await engineOptions.checkEmulation(for: plan.platforms, native: native, engine: engine)
        let report: Releaser.Report
        do {
            releaseOptions.cache = try await cache.open(for: plan)
            let settings = releaseOptions
            report = try await withInterruptHandling {
                try await Releaser(engine: engine, plan: plan, options: settings, platformEngines: native, progress: { Console.error($0) }).run()
            }
        } catch {
            throw EngineFailure.wrap(error)
        }
        if let warning = await releaseOptions.cache?.takeWarning() { Console.warn(warning) }
        switch format {
        case .json: Console.out(ReleaseReport.json(report).pretty)
        case .text: Console.out(ReleaseReport.text(report))
        }
        if let failure = report.failure {
            if let verify = report.verify, !verify.passed {
                for layer in verify.layers {
                    for check in layer.checks where !check.passed { Console.error("  ✗ \(layer.displayName): \(check.name): \(check.message)") }
                }
            }
            throw CommandFailure("\(failure)", code: .failed)
        }
    }
}

enum ReleaseReport {
    static func text(_ report: Releaser.Report) -> String {
        let info = report.info
        var text = "\(report.dryRun ? "dry run: " : "")release \(report.recipe) \(info.version)"
        text += " (revision \(info.revision.map { String($0.prefix(shortHashLength)) } ?? "none"), created \(info.created))"
        if report.tags.isEmpty { return text + (report.failure.map { "\nnot released: \($0)" } ?? "") }
        var rows = [["LAYER", "TAG", "ACTION", "IMAGE", "NOTE"]]
        for tag in report.tags {
            var note = ""
            switch tag.action {
            case .keep(let reason): note = reason
            case .move(let from): note = "was \(from.short)"
            case .create: break
            }
            if tag.pushed { note += note.isEmpty ? "pushed" : ", pushed" }
            if let index = tag.index { note += ", index \(index.short)" }
            rows.append([tag.layer, tag.reference, tag.action.name, tag.image?.short ?? "(release image)", note])
        }
        text += "\n" + Table.render(rows, indent: "  ")
        if !report.restored.isEmpty { text += "\nrestored:\n" + report.restored.map { "  \($0)" }.joined(separator: "\n") }
        if !report.pushedBeforeFailure.isEmpty {
            text += "\npushed before the failure (a registry cannot be rolled back):\n" + report.pushedBeforeFailure.map { "  \($0)" }.joined(separator: "\n")
        }
        if !report.attestations.isEmpty { text += "\nattestations:\n" + report.attestations.map { "  \($0)" }.joined(separator: "\n") }
        let counts = ["created", "moved", "kept"].map { name in "\(report.tags.filter { $0.action.name == name }.count) \(name)" }.joined(separator: ", ")
        text += "\n\(report.tags.count) tags: \(counts)\(report.tags.contains(where: \.pushed) ? ", \(report.tags.filter(\.pushed).count) pushed" : "")"
        return text
    }

    static func json(_ report: Releaser.Report) -> JSONValue {
        [
            "recipe": .string(report.recipe),
            "version": .string(report.info.version.description),
            "revision": report.info.revision.map(JSONValue.string) ?? .null,
            "created": .string(report.info.created),
            "dryRun": .bool(report.dryRun),
            "succeeded": .bool(report.succeeded),
            "failure": report.failure.map(JSONValue.string) ?? .null,
            "tags": .array(
                report.tags.map { tag in
                    var note: JSONValue = .null
                    var previous: JSONValue = .null
                    switch tag.action {
                    case .keep(let reason): note = .string(reason)
                    case .move(let from): previous = .string(from.description)
                    case .create: break
                    }
                    return [
                        "layer": .string(tag.layer), "repository": .string(tag.repository.description), "tag": .string(tag.tag.value), "action": .string(tag.action.name),
                        "image": tag.image.map { .string($0.description) } ?? .null, "previous": previous, "note": note, "pushed": .bool(tag.pushed),
                        "index": tag.index.map { .string($0.description) } ?? .null,
                    ]
                }),
            "restored": .array(report.restored.map(JSONValue.string)),
            "pushedBeforeFailure": .array(report.pushedBeforeFailure.map(JSONValue.string)),
            "attestations": .array(report.attestations.map(JSONValue.string)),
        ]
    }
}
