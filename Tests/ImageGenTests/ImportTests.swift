import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// `imagegen import` without an engine: the Dockerfile reader, what cannot map (each at its
/// Dockerfile:line:col), and import → generate → import.
@Suite("import: Dockerfiles to recipes")
struct ImportUnitTests {
    func importFamily(_ files: [String: String], in scratch: Scratch = Scratch(), options: (inout DockerfileImporter.Options) -> Void = { _ in }) -> (ImportedRecipe?, Diagnostics)
    {
        var sources: [DockerfileImporter.Source] = []
        for (path, text) in files.sorted(by: { $0.key < $1.key }) {
            scratch.write(path, text)
            if path.hasSuffix("Dockerfile") { sources.append(.init(path: scratch.url(path), text: text)) }
        }
        var importOptions = DockerfileImporter.Options(recipe: "fam", recipeDirectory: scratch.path)
        options(&importOptions)
        return DockerfileImporter.importFamily(sources, options: importOptions)
    }

    @Test("the reader: directives, the escape character, continuations with comments inside, JSON and shell forms")
    func parser() {
        let parser = DockerfileParser(
            file: "Dockerfile",
            text: """
                # escape=`
                # The base.
                FROM debian:trixie-slim
                RUN echo one `
                  # a comment inside the continuation
                  && echo two
                CMD ["sh", "-c", "echo hi"]
                ENTRYPOINT echo shell form
                """)
        #expect(parser.escape == "`")
        #expect(parser.instructions.map(\.keyword) == ["FROM", "RUN", "CMD", "ENTRYPOINT"])
        #expect(parser.instructions[0].comments == ["The base."])
        #expect(parser.instructions[1].line(escape: "`") == "echo one && echo two")
        #expect(parser.instructions[2].json == ["sh", "-c", "echo hi"] && parser.instructions[3].json == nil)
        #expect(parser.instructions[1].location.line == 4)
    }

    @Test(
        "what a recipe cannot say is an error at its Dockerfile:line:col",
        arguments: [
            ("ONBUILD RUN echo", "ONBUILD: a recipe has no deferred instructions"),
            ("RUN --mount=type=cache,target=/root/.cache pip install x", "RUN --mount: BuildKit's mounts"),
            ("ADD https://example.invalid/x.tgz /x", "imagegen fetches nothing while building"),
            ("ADD vendor.tar.gz /opt/", "ADD unpacks archives"),
            ("COPY *.sh /usr/local/bin/", "a pattern; a recipe copies named files"),
            ("RUN <<EOF\necho hi\nEOF", "with a heredoc"),
            ("COPY --link a /a", "--link: not a flag a recipe's copy has"),
            ("FROBNICATE now", "unknown instruction 'FROBNICATE'"),
        ])
    func refusals(line: String, message: String) {
        let (recipe, found) = importFamily(["app/Dockerfile": "FROM debian:trixie-slim\n\(line)\n"])
        #expect(recipe == nil)
        #expect(
            found.errors.contains { $0.location.file.hasSuffix("app/Dockerfile") && $0.location.line == 2 && $0.location.column == 1 && $0.message.contains(message) },
            "\(found.sorted)")
    }

    @Test("FROM --platform, a file copied from outside the recipe's directory, and two Dockerfiles for one layer are refused")
    func otherRefusals() {
        let scratch = Scratch()
        let (_, found) = importFamily(["a/Dockerfile": "FROM --platform=linux/arm64 debian:trixie-slim\nCOPY ../../etc/passwd /x\n"], in: scratch)
        expectDiagnostic(found, line: 1, column: 1, contains: "a recipe lists its platforms once")
        expectDiagnostic(found, line: 2, column: 1, contains: "is outside the recipe's directory")
    }

    @Test("siblings found by name (a repository's last part, a tag's suffix, --image, or an ARG default); stages become internal layers")
    func siblings() throws {
        let (recipe, found) = importFamily([
            "ros-core/Dockerfile": "FROM ubuntu:24.04\nRUN echo core\n",
            "ros-base/Dockerfile": "ARG CORE=ros:jazzy-ros-core\nFROM ${CORE}\nRUN echo base\n",
            "desktop/Dockerfile":
                "FROM ros:jazzy-ros-base AS deps\nRUN echo deps > /deps\nFROM acme/ros-desktop-base:1\nCOPY --from=deps /deps /deps\nCOPY --from=0 /deps /deps2\n",
            "desktop-base/Dockerfile": "FROM acme/ros-base:1\n",
        ]) { $0.images["desktop-base"] = "acme/ros-desktop-base" }
        let imported = try #require(recipe, "\(found.sorted)")
        let layers = Dictionary(uniqueKeysWithValues: imported.layers.map { ($0.name, $0) })
        #expect(layers["ros-base"]?.from == "ros-core" && layers["ros-core"]?.image == "ros")
        #expect(layers["desktop-deps"]?.from == "ros-base" && layers["desktop-deps"]?.release == false)
        #expect(layers["desktop"]?.from == "desktop-base")
        #expect(layers["desktop-base"]?.from == "ros-base" && layers["desktop-base"]?.image == "acme/ros-desktop-base")
        #expect(imported.layers.map(\.name).firstIndex(of: "ros-core")! < imported.layers.map(\.name).firstIndex(of: "ros-base")!)
        #expect(imported.args.isEmpty, "an ARG that only named a sibling is no recipe arg")
        let copies = layers["desktop"]?.steps.filter { $0.key == "copy" }.map { step -> String in
            if case .map(let entries) = step.value, case .string(let from)? = entries.first?.value { return from }
            return ""
        }
        #expect(copies == ["desktop-deps", "desktop-deps"])
    }

    @Test("the builder's variables are the builder's ($${…}); ENV's old form; an ARG of the recipe declared again in a stage keeps its value")
    func variables() throws {
        let (recipe, found) = importFamily([
            "app/Dockerfile": """
            ARG NODE=20
            FROM node:${NODE}-alpine
            ARG NODE
            ARG LOCAL=x
            ENV HOME_BIN ${HOME}/bin
            RUN echo "${LOCAL} $NODE"

            """
        ])
        let imported = try #require(recipe, "\(found.sorted)")
        #expect(imported.args.map(\.0) == ["NODE"] && imported.layers[0].from == "node:${NODE}-alpine")
        let text = imported.yaml
        #expect(text.contains("      - arg: {NODE: \"${NODE}\"}\n"))
        #expect(text.contains("      - env: {HOME_BIN: \"$${HOME}/bin\"}\n"))
        #expect(text.contains("      - run: echo \"$${LOCAL} $NODE\"\n"))
    }

    @Test("import, generate, import again: the same recipe, comments and all")
    func roundTrip() throws {
        let scratch = Scratch()
        let files = [
            "base/Dockerfile": "ARG DEBIAN=trixie\n# Base.\nFROM debian:${DEBIAN}-slim\n# Account.\nRUN useradd -u 1000 -m app \\\n    && mkdir -p /srv\nUSER app\nWORKDIR /srv\n",
            "tools/Dockerfile":
                "FROM acme/base:1\nUSER root\nCOPY files/ /opt/files/\nCOPY --chmod=755 run.sh /usr/local/bin/run\nUSER app\nEXPOSE 80\nHEALTHCHECK --retries=2 CMD [\"true\"]\nCMD [\"run\"]\n",
            "tools/files/a.txt": "a\n", "tools/run.sh": "#!/bin/sh\n",
        ]
        let (recipe, found) = importFamily(files, in: scratch)
        let imported = try #require(recipe, "\(found.sorted)")
        let path = scratch.write("fam.yaml", imported.yaml)
        let (plan, diagnostics) = Planner.plan(recipeAt: path, cache: FileDigestCache(file: nil))
        let planned = try #require(plan, "\(diagnostics.sorted)\n\(imported.yaml)")
        try GeneratedDirectory.write(planned, to: scratch.url("generated"))
        let sources = planned.layers.map { layer in
            let file = scratch.url("generated/fam/\(layer.name)/Dockerfile")
            return DockerfileImporter.Source(path: file, text: (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
        }
        let (again, againFound) = DockerfileImporter.importFamily(sources, options: .init(recipe: "fam", recipeDirectory: scratch.path))
        #expect(try #require(again, "\(againFound.sorted)") == imported, "\(again?.yaml ?? "")\nvs\n\(imported.yaml)")
        #expect(planned.layer(named: "tools")?.dockerfile.contains("COPY --chmod=0755 copy/tools/run.sh /usr/local/bin/run") == true)
    }
}
