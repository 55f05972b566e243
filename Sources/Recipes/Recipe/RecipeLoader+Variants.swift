import Foundation
import Yams
import ContainerBasics
import ImageGenValues
import BuildContext

/// `tags:` templates and `variants:`, a matrix over args (as buildx bake's `matrix`): every
/// variant is the whole family read again with its args, its layers named `<layer>-<variant>`,
/// each with its own hashes, images and tags.
extension RecipeLoader {
    static let tagPlaceholders = ["version", "major", "minor", "patch", "variant"]

    /// Release tag templates: `{version}` (the exact tag), `{major}`, `{minor}`, `{patch}`,
    /// `{variant}`, `${ARG}`, and literal text (`v{version}`, `{version}-trixie`, `latest`).
    static func readTags(_ node: Node, what: String, reader: YAMLReader) -> [Located<String>] {
        let templates = reader.stringList(node, what: what)
        if templates.isEmpty, case .sequence = node { reader.error("\(what) is empty: list at least one tag template, e.g. [\"{version}\", latest]", node) }
        var seen = Set<String>()
        return templates.filter { template in
            if !seen.insert(template.value).inserted {
                reader.diagnostics.error("\(what): '\(template.value)' is listed twice", at: template.location)
                return false
            }
            // Placeholders are `{name}`; a `${NAME}` left (an undefined arg, already reported) is not one.
            var rest = Substring(template.value.replacingOccurrences(of: #"\$\{[^}]*\}"#, with: "", options: .regularExpression))
            while let open = rest.firstIndex(of: "{") {
                guard let close = rest[open...].firstIndex(of: "}") else {
                    reader.diagnostics.error("\(what): '\(template.value)' has an unclosed '{'", at: template.location)
                    return false
                }
                let name = String(rest[rest.index(after: open)..<close])
                guard tagPlaceholders.contains(name) else {
                    reader.diagnostics.error(
                        "\(what): '{\(name)}' in '\(template.value)' is not a placeholder; use {version}, {major}, {minor}, {patch} or {variant}\(didYouMean(name, among: tagPlaceholders))",
                        at: template.location)
                    return false
                }
                rest = rest[rest.index(after: close)...]
            }
            let sample = TagTemplate.expand(template.value, version: try! SemVer(parsing: "1.2.3"), variant: "v")
            if (try? Tag(parsing: sample)) == nil {
                reader.diagnostics.error(
                    "\(what): '\(template.value)' does not make a valid tag (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')", at: template.location)
                return false
            }
            return true
        }
    }

    /// `variants: {DEBIAN: [bookworm, trixie], NODE: ["20", "22"]}`: every combination, in the
    /// order written; each arg a declared one.
    static func readVariants(_ node: Node, args: [KeyValue], reader: YAMLReader) -> [Variant] {
        guard let pairs = reader.mapping(node, what: "variants") else { return [] }
        var axes: [(name: String, values: [Located<String>])] = []
        for (name, keyNode, list) in pairs {
            guard args.contains(where: { $0.key == name }) else {
                reader.error("variants: '\(name)' is not an arg; declare it under args: (its value there is the default)\(didYouMean(name, among: args.map(\.key)))", keyNode)
                continue
            }
            let values = reader.stringList(list, what: "variants.\(name)")
            if values.isEmpty {
                reader.error("variants.\(name) lists no value", list)
                continue
            }
            var seen = Set<String>()
            for value in values where !seen.insert(value.value).inserted {
                reader.diagnostics.error("variants.\(name): '\(value.value)' is listed twice", at: value.location)
            }
            axes.append((name, values))
        }
        guard !axes.isEmpty else { return [] }
        var variants: [Variant] = [Variant(name: "", args: [])]
        for axis in axes {
            variants = variants.flatMap { partial in
                axis.values.map { value in
                    Variant(
                        name: partial.name.isEmpty ? value.value : partial.name + "-" + value.value,
                        args: partial.args + [KeyValue(key: axis.name, value: value.value, location: value.location)])
                }
            }
        }
        for variant in variants {
            if let problem = Names.problem(withName: variant.name, kind: "variant name") {
                reader.error("variants: \(problem) (a variant is named by its values joined with '-')", node)
                return []
            }
        }
        return variants
    }

    /// The family once per variant: layers `<layer>-<variant>` on `<parent>-<variant>`, toolsets
    /// the same. `--arg NAME=VALUE` of a variant's arg keeps the variants with that value.
    static func expandVariants(
        _ recipe: Recipe, root: Node, text: String, path: String, overrides: [String: String], diagnostics: inout Diagnostics
    ) -> Recipe {
        var selected = recipe.variants
        for (name, value) in overrides where recipe.variants.first?.args.contains(where: { $0.key == name }) == true {
            selected = selected.filter { $0.args.contains { $0.key == name && $0.value == value } }
            if selected.isEmpty {
                diagnostics.error(
                    "--arg \(name)=\(value): no variant has that value (variants: \(recipe.variants.map(\.name).joined(separator: ", ")))",
                    at: SourceLocation(file: path, line: 0, column: 0))
                return recipe
            }
        }
        var expanded = recipe
        expanded.layers = []
        expanded.toolsets = []
        expanded.variants = selected
        let layerNames = Set(recipe.layers.map(\.name))
        let toolsetNames = Set(recipe.toolsets.map(\.name))
        for variant in selected {
            let reader = YAMLReader(file: path)
            reader.sourceLines = text.split(separator: "\n", omittingEmptySubsequences: false)
            var variantOverrides = overrides
            for arg in variant.args { variantOverrides[arg.key] = arg.value }
            guard let copy = readRecipe(root, reader: reader, path: path, overrides: variantOverrides) else { continue }
            diagnostics.append(contentsOf: reader.diagnostics)
            func renamed(_ name: String) -> String { name + "-" + variant.name }
            for var layer in copy.layers {
                layer.baseName = layer.name
                layer.name = renamed(layer.name)
                layer.variant = variant.name
                // The recipe's tags as this variant reads them (`${DEBIAN}` is its value).
                if layer.tags == nil { layer.tags = copy.tags }
                if let from = layer.from, layerNames.contains(from.value) { layer.from?.value = renamed(from.value) }
                layer.copy = layer.copy.map { renamedCopy($0, layers: layerNames, renamed) }
                layer.steps = layer.steps?.map { step in
                    guard case .copy(let copy) = step.kind else { return step }
                    var step = step
                    step.kind = .copy(renamedCopy(copy, layers: layerNames, renamed))
                    return step
                }
                layer.toolsets = layer.toolsets.map { toolsetNames.contains($0.value) ? Located(renamed($0.value), at: $0.location) : $0 }
                expanded.layers.append(layer)
            }
            for var toolset in copy.toolsets {
                toolset.name = renamed(toolset.name)
                expanded.toolsets.append(toolset)
            }
        }
        return expanded
    }

    private static func renamedCopy(_ copy: CopySpec, layers: Set<String>, _ renamed: (String) -> String) -> CopySpec {
        guard let from = copy.from, layers.contains(from.value) else { return copy }
        var copy = copy
        copy.from?.value = renamed(from.value)
        return copy
    }
}
