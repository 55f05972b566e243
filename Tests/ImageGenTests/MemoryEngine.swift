import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// An engine in memory, for driving ``Builder``, ``Verifier`` and ``Releaser`` without dockerd:
/// an image store with tags and labels, builds that make an image per Dockerfile (its `LABEL`
/// and `USER` lines, the build args and labels), inspection, listing, tagging, history, and
/// `docker save` exports of the images' layers. What it cannot do (containers, pushes) answers
/// 501. It is for the stages' own logic; their behaviour on a real engine is the integration
/// tests'.
final class MemoryEngine: EngineTransport, @unchecked Sendable {
    struct Image {
        var id: String
        var labels: [String: String]
        var user: String
        /// Each layer's files, bottom first.
        var layers: [[ContextEntry]]
        var history: [String]
    }

    private let lock = NSLock()
    private var images: [String: Image] = [:]
    private var tags: [String: String] = [:]
    private var log: [String] = []
    /// Containers by name (only what the build lock needs: create, inspect, remove).
    private var containers: [String: [String: String]] = [:]
    /// A build whose Dockerfile holds this text fails at that step.
    var failingStep = "RUN exit 1"
    /// This many builds fail at their second step as the classic builder does when a cached
    /// step's image was removed under it.
    var lostCachedSteps = 0
    var endpointDescription: String { "memory://engine" }

    /// With a base image, `imagegen-test/busybox:1`, of one layer. Builds run no step, so the
    /// account the tests' recipes create (dev, 1000:1000, home /home/dev) is in it already.
    init() {
        var home = ContextEntry.directory("home/dev")
        home.uid = 1000
        home.gid = 1000
        let accounts: [ContextEntry] = [
            .directory("etc"),
            .inline("etc/passwd", Array("root:x:0:0:root:/root:/bin/sh\ndev:x:1000:1000::/home/dev:/bin/sh\n".utf8)),
            .inline("etc/group", Array("root:x:0:\ndev:x:1000:\n".utf8)),
            .directory("home"), home,
        ]
        let base = Image(
            id: Self.digest("base"), labels: [:], user: "",
            layers: [accounts],
            history: ["/bin/sh -c #(nop) ADD file:base in /"])
        images[base.id] = base
        tags["imagegen-test/busybox:1"] = base.id
    }

    var requests: [String] { lock.withLock { log } }
    func image(_ reference: String) -> Image? { lock.withLock { tags[reference].flatMap { images[$0] } ?? images[reference] } }

    func send(_ request: EngineRequest, apiVersion: APIVersion?) async throws -> EngineResponse {
        lock.withLock { log.append(request.summary) }
        let path = request.path
        if path == "/_ping" { return Self.answer(200, "OK", headers: [("Api-Version", "1.41")]) }
        if request.method == "POST", path == "/build" { return try await build(request) }
        if request.method == "GET", path == "/images/json" { return list(request) }
        if request.method == "GET", path == "/images/get" { return try export(request.query.filter { $0.0 == "names" }.map(\.1)) }
        if path.hasPrefix("/images/") {
            let rest = String(path.dropFirst("/images/".count))
            if request.method == "GET", rest.hasSuffix("/json") { return inspect(String(rest.dropLast(5))) }
            if request.method == "GET", rest.hasSuffix("/history") { return history(String(rest.dropLast(8))) }
            if request.method == "POST", rest.hasSuffix("/tag") {
                let query = Dictionary(request.query, uniquingKeysWith: { $1 })
                return tag(String(rest.dropLast(4)), as: "\(query["repo"] ?? ""):\(query["tag"] ?? "latest")")
            }
            if request.method == "DELETE" { return remove(rest) }
        }
        if path == "/containers/create", request.method == "POST" { return createContainer(request) }
        if path.hasPrefix("/containers/") {
            let rest = String(path.dropFirst("/containers/".count))
            if request.method == "GET", rest.hasSuffix("/json") { return inspectContainer(String(rest.dropLast(5))) }
            if request.method == "DELETE" {
                return lock.withLock { containers.removeValue(forKey: rest) } == nil ? Self.answer(404, #"{"message":"No such container"}"#) : Self.answer(204, "")
            }
        }
        return Self.answer(501, #"{"message":"the memory engine does not do \#(request.summary)"}"#)
    }

    // MARK: - Containers

    private func createContainer(_ request: EngineRequest) -> EngineResponse {
        let name = Dictionary(request.query, uniquingKeysWith: { $1 })["name"] ?? UUID().uuidString
        var labels: [String: String] = [:]
        if case .bytes(let body, _) = request.body, let spec = try? JSONValue(parsing: body) {
            labels = spec["Labels"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        }
        let created = lock.withLock { () -> Bool in
            guard containers[name] == nil else { return false }
            containers[name] = labels
            return true
        }
        return created ? Self.answer(201, #"{"Id":"\#(name)"}"#) : Self.answer(409, #"{"message":"Conflict. The container name \#(name) is already in use"}"#)
    }

    private func inspectContainer(_ name: String) -> EngineResponse {
        guard let labels = lock.withLock({ containers[name] }) else { return Self.answer(404, #"{"message":"No such container"}"#) }
        let document: JSONValue = ["Id": .string(name), "Created": "2026-12-07T00:00:00Z", "Config": ["Labels": .object(labels.mapValues(JSONValue.string))]]
        return Self.answer(200, document.canonical)
    }

    var containerNames: [String] { lock.withLock { Array(containers.keys) } }

    // MARK: - Images

    private func inspect(_ name: String) -> EngineResponse {
        guard let image = image(name) else { return Self.answer(404, #"{"message":"No such image: \#(name)"}"#) }
        let repoTags = lock.withLock { tags.filter { $0.value == image.id }.map(\.key).sorted() }
        let document: JSONValue = [
            "Id": .string(image.id), "RepoTags": .array(repoTags.map(JSONValue.string)), "Size": .int(Self.size(image)),
            "Config": ["User": .string(image.user), "Labels": .object(image.labels.mapValues(JSONValue.string)), "Env": .array([]), "WorkingDir": ""],
            "RootFS": ["Type": "layers", "Layers": .array(image.layers.map { .string(Self.diffID($0)) })],
        ]
        return Self.answer(200, document.canonical)
    }

    private func history(_ name: String) -> EngineResponse {
        guard let image = image(name) else { return Self.answer(404, #"{"message":"No such image"}"#) }
        let items = image.history.reversed().map { step -> JSONValue in ["Id": "<missing>", "Created": 0, "CreatedBy": .string(step), "Size": 0] }
        return Self.answer(200, JSONValue.array(items).canonical)
    }

    private func list(_ request: EngineRequest) -> EngineResponse {
        let filters = request.query.first { $0.0 == "filters" }.flatMap { try? JSONValue(parsing: Data($0.1.utf8)) }
        let wanted = (filters?["label"]?.arrayValue ?? []).compactMap(\.stringValue)
        let all = lock.withLock { Array(images.values) }
        let matching = all.filter { image in
            wanted.allSatisfy { filter in
                let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? image.labels[parts[0]] == parts[1] : image.labels[parts[0]] != nil
            }
        }
        let items = matching.map { image -> JSONValue in
            let repoTags = lock.withLock { tags.filter { $0.value == image.id }.map(\.key) }
            return [
                "Id": .string(image.id), "RepoTags": .array(repoTags.map(JSONValue.string)), "Labels": .object(image.labels.mapValues(JSONValue.string)),
                "Size": .int(Self.size(image)), "Created": 0,
            ]
        }
        return Self.answer(200, JSONValue.array(items).canonical)
    }

    private func tag(_ source: String, as reference: String) -> EngineResponse {
        guard let image = image(source) else { return Self.answer(404, #"{"message":"No such image: \#(source)"}"#) }
        lock.withLock { tags[reference] = image.id }
        return Self.answer(201, "")
    }

    private func remove(_ name: String) -> EngineResponse {
        lock.withLock {
            if tags.removeValue(forKey: name) != nil { return Self.answer(200, "[]") }
            if images.removeValue(forKey: name) != nil { return Self.answer(200, "[]") }
            return Self.answer(404, #"{"message":"No such image"}"#)
        }
    }

    // MARK: - Builds

    private func build(_ request: EngineRequest) async throws -> EngineResponse {
        guard case .stream(let body, _, _) = request.body else { return Self.answer(400, #"{"message":"no context"}"#) }
        var tar: [UInt8] = []
        for try await chunk in body { tar += chunk }
        let reader = try ArchiveReader(bytes: tar)
        var dockerfile = ""
        while let entry = try reader.next() {
            if entry.path == "Dockerfile" { dockerfile = String(decoding: try reader.readAll(), as: UTF8.self) }
        }
        let query = Dictionary(request.query, uniquingKeysWith: { $1 })
        let buildArgs = (query["buildargs"].flatMap { try? JSONValue(parsing: Data($0.utf8)) }?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let extraLabels = (query["labels"].flatMap { try? JSONValue(parsing: Data($0.utf8)) }?.objectValue ?? [:]).compactMapValues(\.stringValue)
        // Instructions, continuation lines joined; only the final stage counts.
        let instructions = dockerfile.replacingOccurrences(of: "\\\n", with: " ").split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        let lastFrom = instructions.lastIndex { $0.hasPrefix("FROM ") } ?? 0
        let stage = Array(instructions[lastFrom...])
        var messages: [JSONValue] = []
        let from = String(stage[0].dropFirst(5).split(separator: " ")[0])
        guard var image = image(from) else {
            return Self.stream([["errorDetail": ["message": .string("pull access denied for \(from)")], "error": .string("pull access denied for \(from)")]])
        }
        for (index, line) in stage.enumerated() {
            messages.append(["stream": .string("Step \(index + 1)/\(stage.count) : \(line)\n")])
            if index == 1,
                lock.withLock({ () -> Bool in
                    guard lostCachedSteps > 0 else { return false }
                    lostCachedSteps -= 1
                    return true
                })
            {
                let error = "unable to find image \"sha256:\(String(repeating: "47", count: 32))\""
                messages.append(["errorDetail": ["message": .string(error)], "error": .string(error)])
                return Self.stream(messages)
            }
            if line.contains(failingStep) {
                messages.append(["stream": "it failed here\n"])
                let error = "The command '/bin/sh -c exit 1' returned a non-zero code: 1"
                messages.append(["errorDetail": ["code": 1, "message": .string(error)], "error": .string(error)])
                return Self.stream(messages)
            }
            if line.hasPrefix("USER ") { image.user = String(line.dropFirst(5)) }
            if line.hasPrefix("LABEL ") {
                for (key, value) in Self.labels(String(line.dropFirst(6))) {
                    image.labels[key] = buildArgs.reduce(value) { $0.replacingOccurrences(of: "${\($1.key)}", with: $1.value) }
                }
            }
            if !line.hasPrefix("FROM ") { image.history.append(line) }
        }
        for (key, value) in extraLabels { image.labels[key] = value }
        image.layers.append([.directory("imagegen"), .inline("imagegen/\(Self.digest(dockerfile).suffix(8))", Array(dockerfile.utf8))])
        image.id = Self.digest(image.id + dockerfile + buildArgs.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined())
        let built = image
        lock.withLock {
            images[built.id] = built
            if let tag = query["t"], !tag.isEmpty { tags[tag] = built.id }
        }
        messages.append(["aux": ["ID": .string(built.id)]])
        messages.append(["stream": .string("Successfully built \(built.id.dropFirst(7).prefix(12))\n")])
        return Self.stream(messages)
    }

    /// `key="value" key2="value2"` as the generated Dockerfiles write labels.
    static func labels(_ text: String) -> [(String, String)] {
        var result: [(String, String)] = []
        var rest = Substring(text)
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: .whitespaces)
            rest = rest[rest.index(after: equals)...]
            guard let value = QuotedString.read(&rest) else { break }
            result.append((key, value))
        }
        return result
    }

    // MARK: - Exports

    /// `docker save` of the named images: each layer's tar once, a config, a manifest.json.
    private func export(_ names: [String]) throws -> EngineResponse {
        var entries: [ContextEntry] = []
        var manifest: [JSONValue] = []
        var written = Set<String>()
        for name in names {
            guard let image = image(name) else { return Self.answer(404, #"{"message":"No such image: \#(name)"}"#) }
            var layerPaths: [JSONValue] = []
            for layer in image.layers {
                let hex = String(Self.diffID(layer).dropFirst(7))
                let path = "\(hex)/layer.tar"
                if written.insert(path).inserted {
                    entries.append(.directory(hex))
                    entries.append(.inline(path, try TarWriter(entries: layer.normalizedForArchive()).collect()))
                }
                layerPaths.append(.string(path))
            }
            let config = "\(image.id.dropFirst(7)).json"
            if written.insert(config).inserted { entries.append(.inline(config, Array(#"{"architecture":"amd64","os":"linux"}"#.utf8))) }
            manifest.append(["Config": .string(config), "RepoTags": [.string(name)], "Layers": .array(layerPaths)])
        }
        entries.append(.inline("manifest.json", Array(JSONValue.array(manifest).canonical.utf8)))
        let tar = try TarWriter(entries: entries.normalizedForArchive()).collect()
        return EngineResponse(status: 200, headers: [("Content-Type", "application/x-tar")], body: .of(tar))
    }

    // MARK: - Helpers

    static func diffID(_ layer: [ContextEntry]) -> String {
        "sha256:" + sha256Hex((try? TarWriter(entries: layer.normalizedForArchive()).collect()) ?? [])
    }

    static func size(_ image: Image) -> Int64 { image.layers.joined().reduce(0) { $0 + $1.size } }
    static func digest(_ text: String) -> String { "sha256:" + sha256Hex(Array(text.utf8)) }

    static func answer(_ status: Int, _ body: String, headers: [(String, String)] = []) -> EngineResponse {
        EngineResponse(status: status, headers: headers + [("Content-Type", "application/json")], body: .of(Array(body.utf8)))
    }

    static func stream(_ messages: [JSONValue]) -> EngineResponse {
        answer(200, messages.map(\.canonical).joined(separator: "\n") + "\n")
    }
}
