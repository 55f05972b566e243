import ContainerBasics

/// What `GET /version` reports.
public struct EngineVersion: Decodable, Sendable, Hashable {
    public var version: String
    public var apiVersion: String
    public var minAPIVersion: String?
    public var os: String?
    public var arch: String?

    enum CodingKeys: String, CodingKey {
        case version = "Version", apiVersion = "ApiVersion", minAPIVersion = "MinAPIVersion", os = "Os", arch = "Arch"
    }
}

/// The parts of `GET /info` that are read.
public struct EngineInfo: Decodable, Sendable, Hashable {
    /// The storage driver: `overlay2`, …
    public var driver: String?
    /// Where the engine keeps its data on its own machine: `/var/lib/docker`.
    public var dockerRootDir: String?
    /// As `uname -m` says: `x86_64`, `aarch64`.
    public var architecture: String?
    public var osType: String?

    enum CodingKeys: String, CodingKey { case driver = "Driver", dockerRootDir = "DockerRootDir", architecture = "Architecture", osType = "OSType" }
}

/// What `GET /_ping` tells about the engine.
public struct EnginePing: Sendable, Hashable {
    /// The engine's newest API version (`Api-Version` header).
    public var apiVersion: APIVersion?
    /// "1" (classic) or "2" (BuildKit), when the engine says (`Builder-Version` header).
    public var builderVersion: String?

    public init(apiVersion: APIVersion?, builderVersion: String?) {
        self.apiVersion = apiVersion
        self.builderVersion = builderVersion
    }
}

/// The parts of `GET /images/{name}/json` imagegen uses.
public struct ImageInspect: Decodable, Sendable, Hashable {
    public var id: ImageID
    public var repoTags: [String]?
    public var repoDigests: [String]?
    public var created: String?
    public var size: Int64?
    public var config: Config?
    public var rootFS: RootFS?
    public var graphDriver: GraphDriver?
    public var architecture: String?
    public var os: String?
    public var variant: String?

    public struct Config: Decodable, Sendable, Hashable {
        public var user: String?
        public var env: [String]?
        public var labels: [String: String]?
        public var workingDir: String?
        public var cmd: [String]?
        public var entrypoint: [String]?
        public var healthcheck: Healthcheck?
        /// `EXPOSE`d ports (`8080/tcp`), and `VOLUME`s, as the keys of the engine's objects.
        public var exposedPorts: [String: Empty]?
        public var volumes: [String: Empty]?
        public var stopSignal: String?
        public var shell: [String]?

        enum CodingKeys: String, CodingKey {
            case user = "User", env = "Env", labels = "Labels", workingDir = "WorkingDir", cmd = "Cmd", entrypoint = "Entrypoint",
                healthcheck = "Healthcheck", exposedPorts = "ExposedPorts", volumes = "Volumes", stopSignal = "StopSignal", shell = "Shell"
        }
    }

    /// `{}`, the value of a port or volume key.
    public struct Empty: Decodable, Sendable, Hashable {}

    /// `HEALTHCHECK`, as the engine records it (durations in nanoseconds).
    public struct Healthcheck: Decodable, Sendable, Hashable {
        public var test: [String]?
        public var interval: Int64?
        public var timeout: Int64?
        public var startPeriod: Int64?
        public var retries: Int?

        enum CodingKeys: String, CodingKey {
            case test = "Test", interval = "Interval", timeout = "Timeout", startPeriod = "StartPeriod", retries = "Retries"
        }
    }

    public struct RootFS: Decodable, Sendable, Hashable {
        /// The diff IDs of the image's layers, bottom first.
        public var layers: [Digest]?
        enum CodingKeys: String, CodingKey { case layers = "Layers" }
    }

    /// Where the engine's storage driver keeps the image's layers: for overlay2, `UpperDir` (the
    /// top layer's directory) and `LowerDir` (the others, colon-separated, nearest first).
    public struct GraphDriver: Decodable, Sendable, Hashable {
        public var name: String
        public var data: [String: String]?
        enum CodingKeys: String, CodingKey { case name = "Name", data = "Data" }
    }

    enum CodingKeys: String, CodingKey {
        case id = "Id", repoTags = "RepoTags", repoDigests = "RepoDigests", created = "Created", size = "Size",
            config = "Config", rootFS = "RootFS", graphDriver = "GraphDriver", architecture = "Architecture", os = "Os", variant = "Variant"
    }

    public var labels: [String: String] { config?.labels ?? [:] }

    /// `os/arch[/variant]`, as a platform is written.
    public var platform: String { [os ?? "linux", architecture ?? "", variant].compactMap { $0 }.joined(separator: "/") }
}

/// One entry of `GET /images/{name}/history`.
public struct ImageHistoryItem: Decodable, Sendable, Hashable {
    public var id: String
    public var created: Int64
    public var createdBy: String
    public var size: Int64
    public var tags: [String]?
    public var comment: String?

    enum CodingKeys: String, CodingKey {
        case id = "Id", created = "Created", createdBy = "CreatedBy", size = "Size", tags = "Tags", comment = "Comment"
    }
}

/// One entry of `GET /images/json`.
public struct ImageSummary: Decodable, Sendable, Hashable {
    public var id: ImageID
    public var repoTags: [String]?
    public var labels: [String: String]?
    public var size: Int64
    public var created: Int64

    enum CodingKeys: String, CodingKey {
        case id = "Id", repoTags = "RepoTags", labels = "Labels", size = "Size", created = "Created"
    }
}

/// What to create a container from (`POST /containers/create`).
/// `GET /containers/{id}/json`, the parts imagegen reads.
public struct ContainerInspect: Decodable, Sendable {
    public var id: String
    /// RFC 3339 with nanoseconds, as the engine writes it.
    public var created: String
    public var labels: [String: String]

    enum CodingKeys: String, CodingKey { case id = "Id", created = "Created", config = "Config" }
    struct Config: Decodable { var Labels: [String: String]? }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        created = try container.decodeIfPresent(String.self, forKey: .created) ?? ""
        labels = try container.decodeIfPresent(Config.self, forKey: .config)?.Labels ?? [:]
    }
}

public struct ContainerSpec: Encodable, Sendable {
    public var image: String
    public var cmd: [String]?
    public var entrypoint: [String]?
    public var user: String?
    public var workingDir: String?
    public var env: [String]?
    public var labels: [String: String]?
    public var networkDisabled: Bool?
    public var hostConfig: HostConfig?

    public struct HostConfig: Encodable, Sendable {
        public var autoRemove: Bool?
        public var networkMode: String?
        public var memory: Int64?
        /// `HOST:CONTAINER[:ro]` bind mounts.
        public var binds: [String]?
        public var readonlyRootfs: Bool?
        /// Capabilities beyond the engine's default set (`SYS_ADMIN`).
        public var capAdd: [String]?
        public init(
            autoRemove: Bool? = nil, networkMode: String? = nil, memory: Int64? = nil, binds: [String]? = nil, readonlyRootfs: Bool? = nil,
            capAdd: [String]? = nil
        ) {
            self.autoRemove = autoRemove
            self.networkMode = networkMode
            self.memory = memory
            self.binds = binds
            self.readonlyRootfs = readonlyRootfs
            self.capAdd = capAdd
        }
        enum CodingKeys: String, CodingKey {
            case autoRemove = "AutoRemove", networkMode = "NetworkMode", memory = "Memory", binds = "Binds", readonlyRootfs = "ReadonlyRootfs",
                capAdd = "CapAdd"
        }
    }

    public init(
        image: String, cmd: [String]? = nil, entrypoint: [String]? = nil, user: String? = nil, workingDir: String? = nil,
        env: [String]? = nil, labels: [String: String]? = nil, networkDisabled: Bool? = nil, hostConfig: HostConfig? = nil
    ) {
        self.image = image
        self.cmd = cmd
        self.entrypoint = entrypoint
        self.user = user
        self.workingDir = workingDir
        self.env = env
        self.labels = labels
        self.networkDisabled = networkDisabled
        self.hostConfig = hostConfig
    }

    enum CodingKeys: String, CodingKey {
        case image = "Image", cmd = "Cmd", entrypoint = "Entrypoint", user = "User", workingDir = "WorkingDir", env = "Env",
            labels = "Labels", networkDisabled = "NetworkDisabled", hostConfig = "HostConfig"
    }
}

/// The result of `POST /containers/{id}/wait`.
public struct ContainerExit: Decodable, Sendable, Hashable {
    public var statusCode: Int64
    public var error: ErrorBody?

    public struct ErrorBody: Decodable, Sendable, Hashable {
        public var message: String?
        enum CodingKeys: String, CodingKey { case message = "Message" }
    }

    enum CodingKeys: String, CodingKey { case statusCode = "StatusCode", error = "Error" }
}

/// Resource limits for a build's `RUN` steps, as `POST /build` takes them.
public struct BuildLimits: Sendable, Hashable {
    public var memory: Int64?
    /// Memory plus swap; -1 for unlimited swap.
    public var memorySwap: Int64?
    public var cpuShares: Int?
    public var cpusetCpus: String?
    public var cpuPeriod: Int?
    public var cpuQuota: Int?
    public var shmSize: Int64?

    public init() {}

    var query: [(String, String)] {
        var query: [(String, String)] = []
        if let memory { query.append(("memory", String(memory))) }
        if let memorySwap { query.append(("memswap", String(memorySwap))) }
        if let cpuShares { query.append(("cpushares", String(cpuShares))) }
        if let cpusetCpus { query.append(("cpusetcpus", cpusetCpus)) }
        if let cpuPeriod { query.append(("cpuperiod", String(cpuPeriod))) }
        if let cpuQuota { query.append(("cpuquota", String(cpuQuota))) }
        if let shmSize { query.append(("shmsize", String(shmSize))) }
        return query
    }
}

/// Build parameters of `POST /build` (the ones imagegen sets).
public struct BuildParameters: Sendable, Hashable {
    public enum Builder: String, Sendable, Hashable { case classic = "1", buildkit = "2" }

    /// `name:tag` to give the image; empty leaves it untagged.
    public var tag: String
    public var dockerfile = "Dockerfile"
    public var buildArgs: [String: String] = [:]
    public var labels: [String: String] = [:]
    public var noCache = false
    public var builder: Builder = .classic
    public var limits = BuildLimits()
    /// `os/arch[/variant]` to build for (the engine's own when nil); a foreign one runs its
    /// steps under emulation.
    public var platform: String?

    public init(tag: String) { self.tag = tag }
}
