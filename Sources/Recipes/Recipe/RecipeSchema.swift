import ContainerBasics
import ImageGenValues
import BuildContext
/// A JSON Schema (draft 2020-12) of the recipe format, for editors: with the YAML language
/// server, a first line `# yaml-language-server: $schema=<path>/recipe.schema.json` gives
/// completion, hover help and unknown-key squiggles while writing a recipe.
///
/// It describes the shape ``RecipeLoader`` reads, and its property names come from the loader's
/// own key lists, so the two cannot drift. It cannot say what needs the file system or the whole
/// recipe (a `from:` naming a layer, cycles, `${VAR}`s, paths, secrets): `imagegen validate`
/// stays the authority, with every problem at its line and column.
public enum RecipeSchema {
    public static let identifier = "https://imagegen.invalid/schema/recipe.schema.json"

    public static var document: JSONValue {
        .object([
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": .string(identifier),
            "title": "imagegen recipe",
            "description": "A family of stacked container images: layers, each from an image or another layer.",
            "type": "object",
            "required": ["recipe", "layers"],
            "additionalProperties": false,
            "properties": properties(RecipeLoader.rootKeys) { key in
                switch key {
                case "recipe": scalar("The family's name; images are named <recipe>-<layer>.", name: true)
                case "version":
                    .object([
                        "type": "string", "description": "The recipe's semantic version (X.Y.Z[-pre][+build]).",
                        "pattern": .string(semverPattern),
                    ])
                case "description": scalar("What the family is for.")
                case "labels": map("Labels on every image (org.opencontainers.image.* and your own).")
                case "args": map("Values for ${NAME} in the recipe's strings; --arg NAME=VALUE overrides one.")
                case "cache": cache
                case "platforms": platforms("The platforms every layer is built for; default: the engine's own.")
                case "tags":
                    tagTemplates("Release tag templates for every layer; default {version}, {major}.{minor}, {major}, latest (with -{variant} when the recipe has variants).")
                case "variants":
                    .object([
                        "type": "object", "description": "A matrix over args: the family is built once per combination, its layers named <layer>-<variant>.",
                        "minProperties": 1, "additionalProperties": .object(["type": "array", "minItems": 1, "uniqueItems": true, "items": scalar("A value of the arg.")]),
                    ])
                case "layers":
                    .object([
                        "type": "object", "description": "The layers, by name.", "minProperties": 1,
                        "additionalProperties": layer, "propertyNames": namePattern,
                    ])
                case "toolsets":
                    .object([
                        "type": ["object", "null"], "description": "Named bundles of packages, run steps, probes and env that layers pull in.",
                        "additionalProperties": toolset, "propertyNames": namePattern,
                    ])
                default: unknown(key)
                }
            },
        ])
    }

    static var layer: JSONValue {
        object(
            "One layer of the family.", required: ["from"],
            properties: properties(RecipeLoader.layerKeys) { key in
                switch key {
                case "from": scalar("An image reference with a tag or digest (debian:bookworm-slim), or another layer's name.")
                case "description": scalar("What the layer adds.")
                case "distro": .object(["enum": ["debian", "alpine", "busybox"], "description": "The package manager's family; inherited from the parent layer."])
                case "image": scalar("The image's repository (acme/base-notebook, ghcr.io/team/ros), without a tag; default <recipe>-<layer>.")
                case "tags": tagTemplates("Release tag templates for this layer (the recipe's tags: otherwise).")
                case "release": .object(["type": "boolean", "description": "false: an internal layer, built and used by the layers above, never released (default true)."])
                case "steps": list(step, "Instructions in the order written, in place of the simple keys' fixed order.")
                case "expose": list(port, "Ports the image listens on (EXPOSE).")
                case "volumes": list(scalar("An absolute path."), "Volumes (VOLUME).")
                case "stopsignal": scalar("The signal that stops the container (STOPSIGNAL): SIGTERM, SIGINT, 15…")
                case "shell": execForm("SHELL for the RUN steps, in exec form.")
                case "packages": list(scalar("A package name."), "OS packages to install.")
                case "pip": list(scalar("name==version"), "Python packages, pinned, installed in a builder stage into a venv under /opt/imagegen/pip/<layer> (on PATH).")
                case "npm": list(scalar("name@version"), "Node.js packages, pinned, installed in a builder stage under /opt/imagegen/npm/<layer> (on PATH).")
                case "user": user
                case "workdir": scalar("An absolute path in the image, created and owned by the user.")
                case "env": map("Environment variables.")
                case "copy": list(copy, "Files or directories next to the recipe, copied into the image.")
                case "run": list(scalar("One shell command (a single line)."), "Build steps, each a RUN.")
                case "toolsets": list(scalar("A toolset's name."), "Toolsets (from the recipe's toolsets:) to add.")
                case "probes": list(probe, "Commands that must exit 0 in the image (imagegen verify).")
                case "context": context
                case "labels": map("Labels on this layer's image.")
                case "cmd": execForm("CMD, in exec form.")
                case "entrypoint": execForm("ENTRYPOINT, in exec form.")
                case "healthcheck": healthcheck
                case "policy": policy
                case "platforms": platforms("Narrows the platforms this layer is built for (a subset of its parent's).")
                default: unknown(key)
                }
            })
    }

    static func platforms(_ description: String) -> JSONValue {
        .object([
            "type": "array", "description": .string(description), "minItems": 1, "uniqueItems": true,
            "items": .object([
                "type": "string", "pattern": "^linux/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)(/v[678])?$",
                "description": "os/architecture[/variant], e.g. linux/amd64 or linux/arm64",
            ]),
        ])
    }

    static var cache: JSONValue {
        object(
            "A registry that is the layers' content-hash cache: layers found there are pulled, not built.", required: ["registry"],
            properties: properties(RecipeLoader.cacheKeys) { key in
                switch key {
                case "registry": scalar("REGISTRY[/NAMESPACE], e.g. ghcr.io/team/imagegen-cache; --cache and IMAGEGEN_CACHE override it.")
                case "mode":
                    .object(["enum": ["read", "readwrite"], "description": "read pulls only (pull requests from forks); readwrite also pushes what was built (the default)."])
                default: unknown(key)
                }
            })
    }

    static var user: JSONValue {
        object(
            "The non-root user the image runs as.", required: ["name", "uid"],
            properties: properties(RecipeLoader.userKeys) { key in
                switch key {
                case "name": scalar("The user name.")
                case "uid": integerOrArg(.object(["type": "integer", "minimum": 1, "maximum": 2_147_483_647, "description": "Not 0: images run as a non-root user."]))
                case "gid": integerOrArg(.object(["type": "integer", "minimum": 0, "maximum": 2_147_483_647, "description": "Defaults to the uid."]))
                case "home": scalar("Defaults to /home/<name>.")
                case "shell": scalar("The login shell.")
                case "create":
                    .object(["type": "boolean", "description": "false: the base image has the account already (node's node, 1000:1000); adopt it instead of creating it."])
                default: unknown(key)
                }
            })
    }

    static var probe: JSONValue {
        .object([
            "anyOf": [
                scalar("One shell command (a single line)."),
                object(
                    "A command whose output must match.", required: ["run"],
                    properties: properties(RecipeLoader.probeKeys) { key in
                        switch key {
                        case "run": scalar("One shell command (a single line); it must exit 0.")
                        case "expect": scalar("A regular expression the output must match, e.g. ^v(2[0-9]|[3-9][0-9])\\.")
                        default: unknown(key)
                        }
                    }),
            ]
        ])
    }

    static var healthcheck: JSONValue {
        let duration = JSONValue.object(["type": "string", "pattern": "^([0-9]+(ns|us|ms|s|m|h))+$", "description": "A duration: 30s, 1m30s, 500ms."])
        return object(
            "HEALTHCHECK, in exec form.",
            properties: properties(RecipeLoader.healthcheckKeys) { key in
                switch key {
                case "command": .object(["anyOf": [execForm("The check, in exec form; exit 0 means healthy."), scalar("The check, in shell form.")]])
                case "none": .object(["type": "boolean", "description": "true: no health check, not even the parent's (HEALTHCHECK NONE)."])
                case "interval", "timeout", "start-period": duration
                case "retries": .object(["type": "integer", "minimum": 0, "maximum": 100, "description": "Failures in a row before unhealthy."])
                default: unknown(key)
                }
            })
    }

    static var copy: JSONValue {
        object(
            "A file or directory to copy.", required: ["src", "dest"],
            properties: properties(RecipeLoader.copyKeys) { key in
                switch key {
                case "src":
                    .object(["anyOf": [scalar("A path relative to the recipe (with from: a path in that image)."), list(scalar("A path."), "Several paths; dest ends with /.")]])
                case "dest": scalar("An absolute path in the image.")
                case "owner": .object(["enum": ["user", "root"], "description": "Who owns the copy (root unless user)."])
                case "chown": scalar("USER[:GROUP] the copy belongs to (COPY --chown), in place of owner.")
                case "mode":
                    .object(["type": "string", "pattern": "^[0-7]{1,4}$", "description": "Permission bits, octal and quoted (\"0755\"): COPY --chmod, built with BuildKit."])
                case "from": scalar("Copy out of an image (pinned) or another layer of the recipe instead of the recipe's directory.")
                default: unknown(key)
                }
            })
    }

    static var context: JSONValue {
        let schema = object(
            "A directory baked into the image, with a manifest listing what it holds.",
            properties: properties(RecipeLoader.contextKeys, contextProperty))
        // Exactly one of dir and package.
        return oneOf(schema, required: ["dir", "package"])
    }

    static func contextProperty(_ key: String) -> JSONValue {
        switch key {
        case "dir": scalar("A directory relative to the recipe.")
        case "package": scalar("A context package (made by imagegen context package), relative to the recipe.")
        case "dest": scalar("Where it goes in the image (default /workspace/context).")
        case "manifest": scalar("The manifest's file name in the directory (default manifest.yaml).")
        default: unknown(key)
        }
    }

    /// The object with `oneOf` a key of `required` present.
    static func oneOf(_ schema: JSONValue, required: [String]) -> JSONValue {
        guard var withChoice = schema.objectValue else { return schema }
        withChoice["oneOf"] = JSONValue.array(required.map { JSONValue.object(["required": .array([.string($0)])]) })
        return JSONValue.object(withChoice)
    }

    static var policy: JSONValue {
        object(
            "What imagegen verify checks on the built image.",
            properties: properties(RecipeLoader.policyKeys) { key in
                switch key {
                case "max-size": size("The image's whole size at most.")
                case "max-added": size("What this layer adds to its parent at most.")
                case "max-waste": size("Bytes written by one step and removed or replaced by a later one, at most.")
                case "required-labels": list(scalar("A label key."), "Labels the image must carry.")
                case "files":
                    object(
                        "Paths that must exist or must not.",
                        properties: properties(RecipeLoader.filePolicyKeys) { key in
                            list(
                                .object(["anyOf": [scalar("An absolute path (globs allowed for absent)."), fileRule]]),
                                key == "exists" ? "Paths that must exist." : "Paths that must not exist.")
                        })
                case "probe-timeout": .object(["type": "integer", "minimum": 1, "maximum": 3600, "description": "Seconds each probe may run."])
                case "secrets": .object(["type": "boolean", "description": "Scan every layer for secrets (default true)."])
                case "allow-root": scalar("Why the image runs as root on purpose; verify passes user.non-root and reports the reason.")
                default: unknown(key)
                }
            })
    }

    static var step: JSONValue {
        let kinds: [String: JSONValue] = [
            "run": .object(["anyOf": [scalar("A shell command; each line of a block is a continuation line of one RUN."), execForm("RUN in exec form.")]]),
            "copy": copy,
            "env": map("Environment variables (one ENV)."),
            "workdir": scalar("WORKDIR: an absolute path."),
            "user": .object(["anyOf": [scalar("USER as written: a name or uid[:gid]."), user]]),
            "packages": list(scalar("A package name, or name=version pattern."), "OS packages installed here (as root)."),
            "shell": execForm("SHELL, in exec form."),
            "arg": .object(["anyOf": [scalar("ARG NAME."), map("ARG NAME=default: one arg.")]]),
            "expose": list(port, "EXPOSE."),
            "volume": list(scalar("An absolute path."), "VOLUME."),
            "stopsignal": scalar("STOPSIGNAL."),
            "label": map("LABEL (values as the builder reads them: $ARG expands)."),
            "healthcheck": healthcheck,
            "cmd": .object(["anyOf": [execForm("CMD, exec form."), scalar("CMD, shell form.")]]),
            "entrypoint": .object(["anyOf": [execForm("ENTRYPOINT, exec form."), scalar("ENTRYPOINT, shell form.")]]),
        ]
        return .object([
            "type": "object", "description": "One instruction: a single key.", "minProperties": 1, "maxProperties": 1,
            "additionalProperties": false, "properties": properties(RecipeLoader.stepKeys) { kinds[$0] ?? unknown($0) },
        ])
    }

    static var port: JSONValue {
        .object([
            "anyOf": [
                .object(["type": "integer", "minimum": 1, "maximum": 65535]),
                .object(["type": "string", "pattern": "^[0-9]+(-[0-9]+)?(/(tcp|udp|sctp))?$"]),
            ], "description": "A port or range, optionally /tcp, /udp or /sctp.",
        ])
    }

    static func tagTemplates(_ description: String) -> JSONValue {
        list(
            .object([
                "type": "string", "pattern": "^[A-Za-z0-9_.{}$-]+$",
                "description": "A tag template: {version}, {major}, {minor}, {patch}, {variant}, ${ARG} and literal text (v{version}, {version}-trixie, latest).",
            ]),
            description)
    }

    /// An integer, or a string of args that makes one (`${UID}`).
    static func integerOrArg(_ integer: JSONValue) -> JSONValue {
        .object(["anyOf": [integer, .object(["type": "string", "pattern": "\\$\\{", "description": "Args that make an integer."])]])
    }

    static var fileRule: JSONValue {
        object(
            "A path with the mode or owner it must have.", required: ["path"],
            properties: .object([
                "path": scalar("An absolute path in the image."),
                "mode": .object(["type": "string", "pattern": "^[0-7]{1,4}$", "description": "Octal, like \"0755\"."]),
                "owner": .object(["type": "string", "pattern": "^[0-9]+(:[0-9]+)?$", "description": "uid or uid:gid."]),
            ]))
    }

    static var toolset: JSONValue {
        object(
            "A bundle layers can pull in with toolsets: [name].",
            properties: properties(RecipeLoader.toolsetKeys) { key in
                switch key {
                case "packages": list(scalar("A package name."), "OS packages to install.")
                case "pip": list(scalar("name==version"), "Python packages, pinned.")
                case "npm": list(scalar("name@version"), "Node.js packages, pinned.")
                case "run": list(scalar("One shell command (a single line)."), "Build steps, each a RUN.")
                case "probes": list(probe, "Commands that must exit 0 in the image.")
                case "env": map("Environment variables.")
                default: unknown(key)
                }
            })
    }

    // MARK: - Building blocks

    /// The loader reads any YAML scalar as text where it wants a string (`PORT: 8080` is "8080").
    static func scalar(_ description: String, name: Bool = false) -> JSONValue {
        var schema: [String: JSONValue] = ["type": ["string", "number", "boolean"], "description": .string(description)]
        if name { schema = ["type": "string", "description": .string(description), "pattern": .string(Self.nameRegex)] }
        return .object(schema)
    }

    static func list(_ item: JSONValue, _ description: String) -> JSONValue {
        .object(["type": ["array", "null"], "items": item, "description": .string(description)])
    }

    static func map(_ description: String) -> JSONValue {
        .object(["type": ["object", "null"], "additionalProperties": scalar("A value."), "description": .string(description)])
    }

    static func execForm(_ description: String) -> JSONValue {
        .object(["type": "array", "minItems": 1, "items": scalar("An argument."), "description": .string(description)])
    }

    static func size(_ description: String) -> JSONValue {
        .object([
            "description": .string(description + " A number of bytes, or a number and a unit: 200MB, 1.5GiB, 512KiB."),
            "anyOf": [
                .object(["type": "integer", "minimum": 0]),
                .object(["type": "string", "pattern": #"^\s*[0-9]+(\.[0-9]+)?\s*([bB]|[kKmMgGtT]([bB]|[iI][bB])?)?\s*$"#]),
            ],
        ])
    }

    static func object(_ description: String, required: [String] = [], properties: JSONValue) -> JSONValue {
        var schema: [String: JSONValue] = [
            "type": "object", "description": .string(description), "additionalProperties": false, "properties": properties,
        ]
        if !required.isEmpty { schema["required"] = .array(required.map(JSONValue.string)) }
        return .object(schema)
    }

    static func properties(_ keys: [String], _ schema: (String) -> JSONValue) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: keys.map { ($0, schema($0)) }))
    }

    /// A key the loader accepts and this schema does not describe yet: a test fails on it.
    static func unknown(_ key: String) -> JSONValue {
        .object(["description": .string("undescribed key '\(key)'")])
    }

    static let nameRegex = "^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$"
    static var namePattern: JSONValue { .object(["pattern": .string(nameRegex)]) }
    static let semverPattern = #"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"#
}
