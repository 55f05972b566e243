import ContainerBasics
import ImageGenValues
import BuildContext
/// Everything that can change a layer's image, in canonical form: the content hash is the
/// SHA-256 of ``JSONValue/canonical`` of this value, and `generated/<recipe>/<layer>/inputs.json`
/// records it so `plan --explain` can say what changed.
public enum LayerInputs {
    /// Bumped whenever the generated Dockerfile or the hash inputs change meaning, so that images
    /// built by an older imagegen are not taken for current ones.
    public static let format = "imagegen.layer-inputs/2"

    package static func make(
        recipe: String, layer: ResolvedLayer, imageName: Repository, parentHash: ContentHash?, dockerfile: [UInt8],
        files: [ContextEntry], digests: [FileKey: FileDigest], platform: Platform? = nil, copied: [(layer: String, contentHash: ContentHash)] = []
    ) -> JSONValue {
        var object: [String: JSONValue] = [
            "format": .string(format),
            "recipe": .string(recipe),
            "layer": .string(layer.name),
            "image": .string(imageName.description),
            "dockerfile": ["sha256": .string(sha256Hex(dockerfile)), "size": .int(Int64(dockerfile.count))],
            "args": .object(layer.args.mapValues(JSONValue.string)),
            "files": .array(files.map { fileInput($0, digests: digests) }),
        ]
        // Layers whose files it copies (copy: {from: LAYER}); only where there are any, so that
        // other layers' hashes stay as they were.
        if !copied.isEmpty {
            object["copiesFrom"] = .array(copied.map { ["layer": .string($0.layer), "contentHash": .string($0.contentHash.hex)] })
        }
        // Only a recipe that lists platforms has one here: the hashes of the others stay as they were.
        if let platform { object["platform"] = .string(platform.description) }
        // Pinned repositories: the commit each was baked at (their files are listed too).
        if let repos = layer.context?.repos, !repos.isEmpty {
            object["repos"] = .array(
                repos.sorted { $0.path < $1.path }.map { repo in
                    ["path": .string(repo.path), "url": .string(repo.url), "ref": .string(repo.ref), "commit": .string(repo.commit)]
                })
        }
        switch layer.parent {
        case .layer(let name):
            object["parent"] = ["layer": .string(name), "contentHash": .string(parentHash?.hex ?? "")]
        case .image(let reference):
            object["base"] = ["reference": .string(reference.description)]
        }
        return .object(object)
    }

    /// One file's inputs, with its members written in canonical (sorted) key order directly.
    static func fileInput(_ entry: ContextEntry, digests: [FileKey: FileDigest]) -> JSONValue {
        let mode = JSONValue.Member("mode", .string(String(entry.mode, radix: 8).leftPadded(to: 4)))
        let path = JSONValue.Member("path", .string(entry.path))
        let type = JSONValue.Member("type", .string(entry.kind.rawValue))
        switch entry.kind {
        case .file:
            var sha: String?
            if let data = entry.inlineData {
                sha = sha256Hex(data)
            } else if let key = entry.stamp?.key {
                sha = digests[key]?.sha256
            }
            var members = [mode, path]
            if let sha { members.append(.init("sha256", .string(sha))) }
            members += [.init("size", .int(entry.size)), type]
            return .members(members)
        case .symlink:
            return .members([mode, path, .init("target", .string(entry.linkTarget ?? "")), type])
        case .directory:
            return .members([mode, path, type])
        }
    }

}

extension ContentHash {
    /// The one rule: a layer's content hash is the SHA-256 of its canonical hash inputs.
    public init(ofCanonicalInputs bytes: [UInt8]) {
        do {
            try self.init(parsing: sha256Hex(bytes))
        } catch {
            preconditionFailure("SHA-256 gave something that is not 64 hex digits: \(error)")
        }
    }
}

extension String {
    package func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
