import ArgumentParser
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `imagegen import`: a family of Dockerfiles as a recipe.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn a family of Dockerfiles into a recipe: each Dockerfile a layer named after its directory, its instructions as steps.",
        discussion: """
            A FROM naming another Dockerfile's image (its repository's last part is the \
            directory's name, or --image says so) becomes from: that layer; stages before a file's \
            last become internal layers (release: false); files the Dockerfiles COPY are referenced \
            where they are (the recipe must be written in a directory that holds them); comments \
            stay above their steps. What a recipe cannot say (ONBUILD, heredocs, RUN --mount, ADD \
            of a URL or an archive, COPY patterns) is an error at its Dockerfile:line:col. Then \
            `imagegen generate` of the recipe writes the same instructions in the same order. \
            Exit codes: 0 imported (and the recipe validates), 1 imported but validate finds \
            problems (listed), 2 the Dockerfiles cannot be imported.
            """)

    @Argument(help: "Dockerfiles (or directories holding one), parents and children in any order.")
    var dockerfiles: [String]

    @Option(help: "The recipe's name (default: the directory holding the Dockerfiles' directories).")
    var recipe: String?

    @Option(help: "Write the recipe here (never over an existing file unless --force); default: standard output.")
    var out: String?

    @Flag(help: "Overwrite --out.")
    var force = false

    @Option(name: .customLong("image"), help: ArgumentHelp("The image a layer is published as (and that children's FROM names).", valueName: "LAYER=REPOSITORY"))
    var images: [String] = []

    @Option(
        name: .customLong("tag"), help: ArgumentHelp("A release tag template for every layer ({version}, {major}, {minor}, {patch}, {variant}, ${ARG}).", valueName: "TEMPLATE"))
    var tags: [String] = []

    @Option(name: .customLong("variant"), help: ArgumentHelp("Build the family once per value of an ARG (a variants: matrix).", valueName: "ARG=V1,V2"))
    var variants: [String] = []

    func run() throws {
        var sources: [DockerfileImporter.Source] = []
        for path in dockerfiles {
            var isDirectory: ObjCBool = false
            let file = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue ? path + "/Dockerfile" : path
            guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
                throw CommandFailure("cannot read \(file)", code: .badInput)
            }
            sources.append(.init(path: file, text: text))
        }
        let recipeDirectory = out.map { ($0 as NSString).deletingLastPathComponent }.flatMap { $0.isEmpty ? nil : $0 } ?? "."
        let name = recipe ?? defaultName(sources)
        var options = DockerfileImporter.Options(recipe: name, recipeDirectory: recipeDirectory)
        for image in images {
            guard let equals = image.firstIndex(of: "="), equals != image.startIndex else { throw CommandFailure("--image '\(image)' must be LAYER=REPOSITORY", code: .badInput) }
            options.images[String(image[..<equals])] = String(image[image.index(after: equals)...])
        }
        options.tags = tags
        for variant in variants {
            guard let equals = variant.firstIndex(of: "="), equals != variant.startIndex else { throw CommandFailure("--variant '\(variant)' must be ARG=V1,V2", code: .badInput) }
            options.variants.append((String(variant[..<equals]), variant[variant.index(after: equals)...].split(separator: ",").map(String.init)))
        }
        let (imported, diagnostics) = DockerfileImporter.importFamily(sources, options: options)
        if Console.report(diagnostics) { throw ExitCode.badInput }
        guard var imported else { throw ExitCode.badInput }
        imported.header = ["Imported by imagegen from \(sources.map(\.path).joined(separator: ", "))."]
        let text = imported.yaml

        // What validate says of the result, before anyone builds it.
        let path = out ?? (recipeDirectory + "/\(name).yaml")
        let (loaded, loadDiagnostics) = RecipeLoader.load(data: Data(text.utf8), path: path)
        var found = loadDiagnostics
        if let loaded { found.append(contentsOf: RecipeResolver.resolve(loaded).1) }
        if let out {
            if FileManager.default.fileExists(atPath: out), !force { throw CommandFailure("\(out) exists; --force to overwrite it", code: .badInput) }
            do {
                try AtomicFile.write(Array(text.utf8), to: out, createDirectories: true)
            } catch {
                throw CommandFailure("\(error)", code: .failed)
            }
            Console.error("wrote \(out): \(Console.count(imported.layers.count, "layer")); next, `imagegen generate \(out)` and `imagegen build \(out)`")
        } else {
            Console.out(String(text.dropLast()))
        }
        if found.hasErrors {
            Console.error("the imported recipe does not validate yet; fix these in it:")
            _ = Console.report(found)
            throw ExitCode.failure
        }
    }

    /// The directory that holds the Dockerfiles' directories.
    func defaultName(_ sources: [DockerfileImporter.Source]) -> String {
        let parents = sources.map { URL(fileURLWithPath: $0.path).standardizedFileURL.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent }
        let name = (parents.first ?? "family").lowercased()
        return name.range(of: "^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$", options: .regularExpression) != nil ? name : "family"
    }
}
