import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext

/// `imagegen import`: a family of Dockerfiles as one recipe. Each Dockerfile is a layer named
/// after its directory (`base-notebook/Dockerfile` → `base-notebook`); its instructions become
/// the layer's `steps:` in their order, comments kept above them. A `FROM` that names a sibling's
/// image (literally, or through an `ARG` default) becomes `from: <layer>`, and that sibling's
/// `image:` the repository it was named by; the stages before a Dockerfile's last become
/// internal layers (`release: false`) that `COPY --from` copies out of; the files a Dockerfile
/// copies stay where they are, referenced from the recipe. What a recipe cannot say (`ONBUILD`,
/// heredocs, `RUN --mount`, `ADD` of a URL or an archive, patterns in `COPY`) is an error at the
/// Dockerfile's line and column.
///
/// Dockerfiles that imagegen generated are read back too (their header, labels, build args and
/// `copy/` paths are imagegen's own): importing, generating and importing again gives the same
/// recipe.
public struct DockerfileImporter {
    public struct Options: Sendable {
        /// The recipe's name.
        public var recipe: String
        /// Where the recipe will be written: copy sources are made relative to it.
        public var recipeDirectory: String
        /// `layer → repository` for the layers' images (`--image LAYER=REPO`).
        public var images: [String: String] = [:]
        /// The recipe's `tags:` (`--tag TEMPLATE`).
        public var tags: [String] = []
        /// `variants:` (`--variant ARG=v1,v2`).
        public var variants: [(String, [String])] = []

        public init(recipe: String, recipeDirectory: String) {
            self.recipe = recipe
            self.recipeDirectory = recipeDirectory
        }
    }

    public struct Source: Sendable {
        public var path: String
        public var text: String
        public init(path: String, text: String) {
            self.path = path
            self.text = text
        }
    }

    let options: Options
    var diagnostics = Diagnostics()
    /// `ARG`s before the first `FROM` of every Dockerfile: the recipe's args.
    var globalArgs: [(name: String, value: String, location: SourceLocation)] = []
    var layerNames: [String] = []
    /// Repositories found to name a layer's image.
    var discoveredImages: [String: String] = [:]

    /// The recipe the Dockerfiles make, with every problem found (each at its file:line:col).
    public static func importFamily(_ sources: [Source], options: Options) -> (ImportedRecipe?, Diagnostics) {
        var importer = DockerfileImporter(options: options)
        let recipe = importer.run(sources)
        return (importer.diagnostics.hasErrors ? nil : recipe, importer.diagnostics)
    }

    init(options: Options) { self.options = options }

    /// A layer's name from its Dockerfile's path: the directory (`base/Dockerfile`), or the
    /// file's own suffix or prefix (`Dockerfile.base`, `base.Dockerfile`).
    static func layerName(of path: String) -> String {
        let file = String(path.lastPathComponent)
        if file.hasPrefix("Dockerfile.") { return String(file.dropFirst("Dockerfile.".count)) }
        if file.hasSuffix(".Dockerfile") { return String(file.dropLast(".Dockerfile".count)) }
        if file.hasSuffix(".dockerfile") { return String(file.dropLast(".dockerfile".count)) }
        let directory = (path as NSString).deletingLastPathComponent
        let name = (directory.isEmpty ? FileManager.default.currentDirectoryPath : RepoSource.realPath(directory) as String).lastPathComponent
        return String(name)
    }

    mutating func run(_ sources: [Source]) -> ImportedRecipe {
        var recipe = ImportedRecipe(name: options.recipe)
        recipe.tags = options.tags
        recipe.variants = options.variants
        let parsed = sources.map { (source: $0, parser: DockerfileParser(file: $0.path, text: $0.text)) }
        for (_, parser) in parsed { diagnostics.append(contentsOf: parser.diagnostics) }
        layerNames = sources.map { Self.layerName(of: $0.path) }
        for (index, name) in layerNames.enumerated() {
            if let problem = Names.problem(withName: name, kind: "layer name") {
                diagnostics.error("\(problem) (a layer is named after its Dockerfile's directory)", at: SourceLocation(file: sources[index].path, line: 0, column: 0))
            }
            if layerNames[..<index].contains(name) {
                diagnostics.error(
                    "a second Dockerfile for layer '\(name)' (its directory's name); each layer's Dockerfile is in a directory of its own",
                    at: SourceLocation(file: sources[index].path, line: 0, column: 0))
            }
        }
        // The recipe's args: ARGs before each file's first FROM.
        for (_, parser) in parsed {
            for instruction in parser.instructions.prefix(while: { $0.keyword != "FROM" }) where instruction.keyword == "ARG" {
                for (name, value) in argDeclarations(instruction, escape: parser.escape) {
                    if Self.isImagegenArg(name) { continue }
                    if let existing = globalArgs.first(where: { $0.name == name }) {
                        if let value, value != existing.value {
                            diagnostics.error(
                                "ARG \(name) defaults to '\(value)' here and to '\(existing.value)' at \(existing.location): one recipe arg has one default",
                                at: instruction.location)
                        }
                    } else if let value {
                        globalArgs.append((name, value, instruction.location))
                    }
                }
            }
        }
        var layers: [ImportedRecipe.Layer] = []
        for ((source, parser), name) in zip(parsed, layerNames) {
            layers += importDockerfile(source: source, parser: parser, layer: name)
        }
        // Images named by the children's FROM (and --image), unless a generated label said so.
        for index in layers.indices {
            if let image = options.images[layers[index].name] ?? discoveredImages[layers[index].name], layers[index].image == nil {
                layers[index].image = image
            }
            if layers[index].image == "\(options.recipe)-\(layers[index].name)" { layers[index].image = nil }
        }
        recipe.args = globalArgs.filter { arg in !layers.isEmpty && usedArg(arg.name, in: layers) }.map { ($0.name, $0.value) }
        recipe.layers = Self.buildOrder(layers)
        return recipe
    }

    /// `ARG A=1 B` → [(A, 1), (B, nil)].
    func argDeclarations(_ instruction: DockerfileParser.Parsed, escape: Character) -> [(String, String?)] {
        DockerfileParser.words(instruction.line(escape: escape), escape: escape).map { word in
            guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    static func isImagegenArg(_ name: String) -> Bool { name == ImageLabels.contentHashArg || name == ImageLabels.fromArg }

    func usedArg(_ name: String, in layers: [ImportedRecipe.Layer]) -> Bool {
        // `${NAME}` in a recipe is its arg; the builder's own are written `$${NAME}`.
        func uses(_ text: String) -> Bool { text.replacingOccurrences(of: "$${", with: "").contains("${\(name)}") }
        return layers.contains { layer in uses(layer.from) || layer.steps.contains { $0.value.strings.contains(where: uses) } }
    }

    /// Parents first; otherwise in the order the Dockerfiles were given.
    static func buildOrder(_ layers: [ImportedRecipe.Layer]) -> [ImportedRecipe.Layer] {
        var ordered: [ImportedRecipe.Layer] = []
        var remaining = layers
        while !remaining.isEmpty {
            let names = Set(remaining.map(\.name))
            guard
                let index = remaining.firstIndex(where: { layer in
                    !names.contains(layer.from)
                        && !layer.steps.contains { step in
                            if step.key == "copy", case .map(let entries) = step.value, let from = entries.first(where: { $0.key == "from" }), case .string(let name) = from.value {
                                return names.contains(name) && name != layer.name
                            }
                            return false
                        }
                })
            else {
                ordered += remaining
                break
            }
            ordered.append(remaining.remove(at: index))
        }
        return ordered
    }
}
