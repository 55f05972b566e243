/// The non-root account a layer creates and runs as.
public struct UserSpec: Sendable, Hashable {
    public var name: String
    public var uid: Int
    public var gid: Int
    public var home: String
    public var shell: String?
    public var location: SourceLocation
}

/// Files from the recipe's directory copied into the image.
public struct CopySpec: Sendable, Hashable {
    /// Relative to the recipe's directory; a file or a directory.
    public var source: Located<String>
    /// Absolute path in the image.
    public var destination: Located<String>
    /// Give the files to the layer's user instead of root.
    public var ownedByUser: Bool
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

/// `HEALTHCHECK`, exec form.
public struct HealthcheckSpec: Sendable, Hashable {
    public var command: [String]
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
    public var from: Located<String>?
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
    public var policy = PolicySpec()
    /// Narrows the platforms the layer is built for (never beyond its parent's).
    public var platforms: [Located<Platform>]?
    /// Recipe args its strings referenced.
    public var usedArgs: Set<String> = []

    public init(name: String, location: SourceLocation) {
        self.name = name
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
    public var layers: [LayerSpec] = []
    public var toolsets: [ToolsetSpec] = []

    public func layer(named name: String) -> LayerSpec? { layers.first { $0.name == name } }
    public func toolset(named name: String) -> ToolsetSpec? { toolsets.first { $0.name == name } }
}
