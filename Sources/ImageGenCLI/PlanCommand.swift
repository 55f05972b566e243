import ArgumentParser
import DockerEngine
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the layers in build order with their image names, content hashes and parents.",
        discussion: "With --explain, compare each layer's inputs with those recorded under generated/ and say exactly what changed.")

    @OptionGroup var options: RecipeOptions

    @Option(help: "Output format.")
    var format: OutputFormat = .text

    @Flag(help: "Say what changed since generated/ was written, layer by layer.")
    var explain = false

    @Option(name: .long, help: "Where generated files are recorded (for --explain).")
    var generated = "generated"

    @Flag(help: "Do not ask the Docker engine which layers are built and what the base images are.")
    var offline = false

    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var cache: CacheOptions

    func run() async throws {
        let plan = try await options.loadPlan()
        let explanations = explain ? PlanExplainer.explain(plan, generatedDirectory: generated) : []
        var engine: EngineView = .offline
        if !offline {
            do {
                let connection = try await DockerEngine.connect(endpoint: try engineOptions.endpoint())
                let session = try await cache.open(for: plan)
                engine = .checked(try await EngineState.check(plan, engine: connection, cache: session))
                if let warning = await session?.takeWarning() { Console.warn(warning) }
            } catch let error as DockerEngineError {
                engine = .unreachable(error.description)
            }
        }
        switch format {
        case .json:
            Console.out(PlanReport.json(plan, explanations: explanations, engine: engine).pretty)
        case .text:
            Console.out(PlanReport.text(plan, explanations: explanations, engine: engine))
        }
    }
}

/// What `plan` learned from the engine, if anything.
enum EngineView {
    case offline
    case unreachable(String)
    case checked(EngineState)
}

enum PlanReport {
    static func parentDescription(_ layer: LayerPlan) -> String {
        switch layer.layer.parent {
        case .layer(let name): name
        case .image(let reference): reference.description
        }
    }

    static func baseLines(_ plan: BuildPlan, engine: EngineView) -> [String] {
        let roots = Set(plan.layers.map { PlatformBases.key($0.layer.rootImage, $0.platform) }).sorted()
        return roots.map { reference in
            switch engine {
            case .offline:
                return "base \(reference): unresolved (--offline)"
            case .unreachable(let reason):
                return "base \(reference): unresolved, no engine to ask (\(reason))"
            case .checked(let status):
                switch status.bases[reference] {
                case .resolved(let identity)?: return "base \(reference): \(identity)"
                case .missing(let message)?: return "base \(reference): missing: \(message)"
                case nil: return "base \(reference): unresolved"
                }
            }
        }
    }

    static func text(_ plan: BuildPlan, explanations: [PlanExplainer.Explanation], engine: EngineView = .offline) -> String {
        var rows = [["LAYER", "IMAGE", "CONTENT HASH", "FROM"]]
        if plan.isMultiPlatform { rows[0].insert("PLATFORM", at: 1) }
        if case .checked = engine { rows[0].append("STATUS") }
        for layer in plan.layers {
            var row = [layer.name, layer.reference.description, layer.contentHash.hex, parentDescription(layer)]
            if let platform = layer.platform { row.insert(platform.description, at: 1) }
            if case .checked(let status) = engine { row.append(status.describe(layer.key)) }
            rows.append(row)
        }
        let count =
            plan.isMultiPlatform
            ? "\(Console.count(plan.layerNames.count, "layer")) for \(plan.platforms.map(\.description).joined(separator: ", "))"
            : Console.count(plan.layers.count, "layer")
        var text = "\(plan.name): \(count) in build order\n" + Table.render(rows, indent: "  ")
        text += "\n" + baseLines(plan, engine: engine).joined(separator: "\n")
        if !explanations.isEmpty {
            text += "\n"
            for explanation in explanations {
                if explanation.unchanged {
                    text += "\n\(explanation.layer): unchanged"
                } else {
                    text += "\n\(explanation.layer): changed"
                    for change in explanation.changes { text += "\n  - \(change)" }
                }
            }
        }
        return text
    }

    static func json(_ plan: BuildPlan, explanations: [PlanExplainer.Explanation], engine: EngineView = .offline) -> JSONValue {
        let byLayer = Dictionary(explanations.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        var bases: [JSONValue] = []
        for reference in Set(plan.layers.map { PlatformBases.key($0.layer.rootImage, $0.platform) }).sorted() {
            var base: [String: JSONValue] = ["reference": .string(reference), "identity": .null, "resolved": false]
            switch engine {
            case .offline: base["reason"] = "offline"
            case .unreachable(let reason): base["reason"] = .string(reason)
            case .checked(let status):
                switch status.bases[reference] {
                case .resolved(let identity)?: base["identity"] = .string(identity); base["resolved"] = true
                case .missing(let message)?: base["reason"] = .string(message)
                case nil: break
                }
            }
            bases.append(.object(base))
        }
        return [
            "recipe": .string(plan.name),
            "bases": .array(bases),
            "layers": .array(
                plan.layers.map { layer in
                    var object: [String: JSONValue] = [
                        "name": .string(layer.name),
                        "image": .string(layer.imageName.description),
                        "tag": .string(layer.tag.value),
                        "reference": .string(layer.reference.description),
                        "contentHash": .string(layer.contentHash.hex),
                        "from": .string(layer.from),
                    ]
                    if let platform = layer.platform { object["platform"] = .string(platform.description) }
                    switch layer.layer.parent {
                    case .layer(let name): object["parent"] = ["layer": .string(name)]
                    case .image(let reference): object["parent"] = ["image": .string(reference.description)]
                    }
                    if case .checked(let status) = engine { object["status"] = .string(status.describe(layer.key)) }
                    if let explanation = byLayer[layer.displayName] {
                        object["changed"] = .bool(!explanation.unchanged)
                        object["changes"] = .array(explanation.changes.map(JSONValue.string))
                    }
                    return .object(object)
                }),
        ]
    }
}
