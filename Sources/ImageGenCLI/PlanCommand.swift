import ArgumentParser
import ImageGen

struct PlanCommand: ParsableCommand {
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

    func run() throws {
        let plan = try options.loadPlan()
        let explanations = explain ? PlanExplainer.explain(plan, generatedDirectory: generated) : []
        switch format {
        case .json:
            Console.out(PlanReport.json(plan, explanations: explanations).pretty)
        case .text:
            Console.out(PlanReport.text(plan, explanations: explanations))
        }
    }
}

enum PlanReport {
    static func parentDescription(_ layer: LayerPlan) -> String {
        switch layer.layer.parent {
        case .layer(let name): name
        case .image(let reference): reference.description
        }
    }

    static func text(_ plan: BuildPlan, explanations: [PlanExplainer.Explanation]) -> String {
        var rows = [["LAYER", "IMAGE", "CONTENT HASH", "FROM"]]
        for layer in plan.layers {
            rows.append([layer.name, layer.reference, layer.contentHash, parentDescription(layer)])
        }
        var text = "\(plan.name): \(Console.count(plan.layers.count, "layer")) in build order\n" + Table.render(rows, indent: "  ")
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

    static func json(_ plan: BuildPlan, explanations: [PlanExplainer.Explanation]) -> JSONValue {
        let byLayer = Dictionary(explanations.map { ($0.layer, $0) }, uniquingKeysWith: { first, _ in first })
        return [
            "recipe": .string(plan.name),
            "layers": .array(plan.layers.map { layer in
                var object: [String: JSONValue] = [
                    "name": .string(layer.name),
                    "image": .string(layer.imageName),
                    "tag": .string(layer.tag),
                    "reference": .string(layer.reference),
                    "contentHash": .string(layer.contentHash),
                    "from": .string(layer.from),
                ]
                switch layer.layer.parent {
                case .layer(let name): object["parent"] = ["layer": .string(name)]
                case .image(let reference): object["parent"] = ["image": .string(reference.description)]
                }
                if let explanation = byLayer[layer.name] {
                    object["changed"] = .bool(!explanation.unchanged)
                    object["changes"] = .array(explanation.changes.map(JSONValue.string))
                }
                return .object(object)
            }),
        ]
    }
}
