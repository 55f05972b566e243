import ContainerBasics
import ImageGenValues
import BuildContext
/// The non-root account a layer creates (or adopts) and runs as.
public struct UserSpec: Sendable, Hashable {
    public var name: String
    public var uid: Int
    public var gid: Int
    public var home: String
    public var shell: String?
    public var location: SourceLocation
    /// False: the base image has the account already (node:20's `node`, 1000:1000); it is
    /// adopted, not created.
    public var create = true
}

/// Files copied into the image: from the recipe's directory, or (`from:`) from another image
/// or another layer of the recipe.
public struct CopySpec: Sendable, Hashable {
    /// Relative to the recipe's directory (a file or a directory); with `from`, paths in that image.
    public var sources: [Located<String>]
    /// Absolute path in the image.
    public var destination: Located<String>
    /// Give the files to the layer's user instead of root.
    public var ownedByUser: Bool
    /// `--chown` as written (`1000:1000`, `app:app`), in place of `owner`.
    public var chown: Located<String>? = nil
    /// Permission bits, octal as written (`0755`): `COPY --chmod`, which BuildKit builds.
    public var mode: Located<String>? = nil
    /// An image reference or a layer's name.
    public var from: Located<String>? = nil

    public var source: Located<String> { sources[0] }

    public init(sources: [Located<String>], destination: Located<String>, ownedByUser: Bool) {
        self.sources = sources
        self.destination = destination
        self.ownedByUser = ownedByUser
    }
}

/// A command in exec form (`["a", "b"]`) or shell form (`"a b"`).
public enum CommandSpec: Sendable, Hashable {
    case exec([String])
    case shell(String)
}

/// A directory of docs, prompts, skills, configs… baked into the image, with its manifest.
public struct ContextSpec: Sendable, Hashable {
    /// Relative to the recipe's directory: a directory (`dir:`), or a context package
    /// (`package:`, made by `imagegen context package`).
    public var directory: Located<String>
    public var isPackage = false
    public var destination: Located<String>
    /// Relative to `directory`.
    public var manifest: Located<String>
}

/// A path (or glob: `*`, `?`, `**`, `[...]`) in an image, with the mode and owner it must have.
public struct FileRule: Sendable, Hashable {
    public var path: Located<String>
    /// Permission bits, e.g. 0o755.
    public var mode: UInt32?
    /// `uid` or `uid:gid`.
    public var owner: String?

    public init(path: Located<String>, mode: UInt32? = nil, owner: String? = nil) {
        self.path = path
        self.mode = mode
        self.owner = owner
    }
}

/// Paths that must or must not exist in an image.
public struct FilePolicy: Sendable, Hashable {
    public var exists: [FileRule] = []
    public var absent: [FileRule] = []
}

/// A layer's policy block: budgets and rules `verify` enforces.
public struct PolicySpec: Sendable, Hashable {
    public var maxSize: Located<ByteSize>?
    public var maxAdded: Located<ByteSize>?
    public var maxWaste: Located<ByteSize>?
    public var requiredLabels: [Located<String>]?
    public var files = FilePolicy()
    /// Seconds each probe may run.
    public var probeTimeout: Located<Int>?
    /// Secret scanning of the image's files (on unless turned off).
    public var scanSecrets: Bool = true
    /// Why the image runs as root on purpose (a devcontainer base, ROS): `user.non-root`
    /// passes, saying so, instead of failing.
    public var allowRoot: Located<String>?

    public init() {}
}

/// A command `verify` runs in the image: it must exit 0 and, with `expect`, print something the
/// regular expression finds (as container-structure-test's `expectedOutput`).
public struct ProbeSpec: Sendable, Hashable {
    public var command: Located<String>
    public var expect: Located<String>?

    public init(command: Located<String>, expect: Located<String>? = nil) {
        self.command = command
        self.expect = expect
    }
}

/// `HEALTHCHECK`: a command in exec form (or, in a step, shell form), or none at all.
public struct HealthcheckSpec: Sendable, Hashable {
    public var command: [String]
    /// Shell form (`CMD-SHELL`), in place of `command`.
    public var shellCommand: String? = nil
    /// `HEALTHCHECK NONE`: turn off the parent's check.
    public var none = false
    /// Docker durations (`30s`, `1m30s`), as written.
    public var interval: String?
    public var timeout: String?
    public var startPeriod: String?
    public var retries: Int?
    public var location: SourceLocation
}

/// A named bundle of packages, setup steps and probes a layer can pull in.
public struct ToolsetSpec: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public var packages: [Located<String>] = []
    public var pip: [Located<String>] = []
    public var npm: [Located<String>] = []
    public var run: [Located<String>] = []
    public var probes: [ProbeSpec] = []
    public var env: [KeyValue] = []
    /// Recipe args its strings referenced.
    public var usedArgs: Set<String> = []
}

/// One layer of the family as the recipe spells it, before names are resolved.
public struct LayerSpec: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    /// The layer's name as the recipe writes it, for a layer of one variant (`base` for
    /// `base-trixie`); its own name otherwise.
    public var baseName: String
    /// The variant this copy of the layer belongs to (`variants:`), by name.
    public var variant: String?
    public var from: Located<String>?
    /// `from:` as written, when it names args (`debian:${DEBIAN}-slim`): a layer with steps
    /// writes them as build args before `FROM`, as a Dockerfile would.
    public var fromTemplate: String?
    /// The comment lines above the layer's name (written above `FROM` for a layer with steps).
    public var comments: [String] = []
    /// The image's repository (`acme/base-notebook`, `ghcr.io/team/ros`); default `<recipe>-<layer>`.
    public var image: Located<String>?
    /// Release tag templates (the recipe's when nil).
    public var tags: [Located<String>]?
    /// False: built and used by the layers above, never released.
    public var release = true
    /// Instructions in the order written, in place of the simple keys' fixed order.
    public var steps: [LayerStep]?
    public var expose: [Located<String>] = []
    public var volumes: [Located<String>] = []
    public var stopsignal: Located<String>?
    public var shell: [String]?
    public var description: String?
    public var distro: Located<Distro>?
    public var packages: [Located<String>] = []
    public var pip: [Located<String>] = []
    public var npm: [Located<String>] = []
    public var user: UserSpec?
    public var workdir: Located<String>?
    public var env: [KeyValue] = []
    public var copy: [CopySpec] = []
    public var run: [Located<String>] = []
    public var toolsets: [Located<String>] = []
    public var probes: [ProbeSpec] = []
    public var context: ContextSpec?
    public var labels: [KeyValue] = []
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var healthcheck: HealthcheckSpec?
    /// Keys that are instructions (for telling a steps layer's mistakes).
    public var instructionKeys: [Located<String>] = []
    public var policy = PolicySpec()
    /// Narrows the platforms the layer is built for (never beyond its parent's).
    public var platforms: [Located<Platform>]?
    /// Recipe args its strings referenced.
    public var usedArgs: Set<String> = []

    public init(name: String, location: SourceLocation) {
        self.name = name
        self.baseName = name
        self.location = location
    }
}

/// A recipe file, parsed: the family's name, its args and labels, its layers and toolsets.
public struct Recipe: Sendable {
    /// The recipe file's path as the user gave it; diagnostics use it.
    public var path: String
    /// The directory that relative paths in the recipe are taken from.
    public var directory: String
    public var name: String
    public var nameLocation: SourceLocation
    public var version: Located<SemVer>?
    public var description: String?
    public var labels: [KeyValue] = []
    public var args: [KeyValue] = []
    /// Where layers are pulled from before they are built, and pushed to after (`cache:`).
    public var cache: Located<RegistryCache>?
    /// The platforms every layer is built for (`platforms:`); empty: the engine's own.
    public var platforms: [Located<Platform>] = []
    /// Release tag templates for every layer (`tags:`); nil: `{version}`, `{major}.{minor}`,
    /// `{major}`, `latest` (with `-{variant}` for a recipe with variants).
    public var tags: [Located<String>]?
    /// The variants (`variants:`), by name, with the arg values of each; empty: none.
    public var variants: [Variant] = []
    public var layers: [LayerSpec] = []
    public var toolsets: [ToolsetSpec] = []

    public func layer(named name: String) -> LayerSpec? { layers.first { $0.name == name } }
    public var hasVariants: Bool { !variants.isEmpty }
    public func toolset(named name: String) -> ToolsetSpec? { toolsets.first { $0.name == name } }
}

/// One value of each arg of a recipe's `variants:` matrix.
public struct Variant: Sendable, Hashable {
    /// The values joined by `-` in the matrix's order (`trixie-22`).
    public var name: String
    public var args: [KeyValue]
}

/// An entry of a layer's `steps:`: one instruction, with the comment lines written above it.
public struct LayerStep: Sendable, Hashable {
    public var kind: StepKind
    public var comments: [String]
    public var location: SourceLocation

    public init(_ kind: StepKind, comments: [String] = [], at location: SourceLocation) {
        self.kind = kind
        self.comments = comments
        self.location = location
    }
}

public enum StepKind: Sendable, Hashable {
    /// Shell form; each line of the text is a continuation line.
    case run(String)
    case runExec([String])
    case copy(CopySpec)
    case env([KeyValue])
    case workdir(String)
    /// `USER` as written.
    case user(String)
    /// An account: created here (unless it exists: `create: false`), then `USER uid:gid`.
    case account(UserSpec)
    case packages([Located<String>])
    case shell([String])
    case arg(name: String, value: String?)
    case expose([String])
    case volume([String])
    case stopsignal(String)
    case label([KeyValue])
    case healthcheck(HealthcheckSpec)
    case entrypoint(CommandSpec)
    case cmd(CommandSpec)
}
