import ContainerBasics
/// Every label key imagegen writes or reads, in one place: its own (`dev.imagegen.*`) and the
/// OCI annotations it sets or checks.
public enum ImageLabels {
    /// The layer's content hash (set by the Dockerfile from the build arg ``contentHashArg``,
    /// because a file cannot contain its own hash).
    public static let contentHash = "dev.imagegen.content-hash"
    public static let contentHashArg = "IMAGEGEN_CONTENT_HASH"
    /// The build arg a multi-platform layer's Dockerfile takes its FROM from (the parent's tag
    /// differs by platform).
    public static let fromArg = "IMAGEGEN_FROM"
    /// The identity of the external image at the root of the chain (its registry digest, or its
    /// root file system's diff IDs): a base with new content means the layers on it are stale.
    public static let baseImage = "dev.imagegen.base-image"
    public static let recipe = "dev.imagegen.recipe"
    public static let layer = "dev.imagegen.layer"
    /// The variant a layer was built for (`variants:`), only in recipes with variants.
    public static let variant = "dev.imagegen.variant"
    /// "true" on a layer that is built and used but never released (`release: false`).
    public static let internalLayer = "dev.imagegen.internal"
    /// On the containers verify runs probes in.
    public static let probe = "dev.imagegen.probe"
    /// On the containers that hold a layer's build lock: who holds it, and for which image.
    public static let lockHost = "dev.imagegen.lock.host"
    public static let lockBoot = "dev.imagegen.lock.boot"
    public static let lockPID = "dev.imagegen.lock.pid"
    public static let lockReference = "dev.imagegen.lock.reference"

    /// The OCI image annotations (image-spec's annotations.md) imagegen sets or checks.
    public enum OCI {
        public static let title = "org.opencontainers.image.title"
        public static let description = "org.opencontainers.image.description"
        public static let baseName = "org.opencontainers.image.base.name"
        public static let version = "org.opencontainers.image.version"
        public static let revision = "org.opencontainers.image.revision"
        public static let created = "org.opencontainers.image.created"
        public static let source = "org.opencontainers.image.source"
        public static let url = "org.opencontainers.image.url"
        public static let documentation = "org.opencontainers.image.documentation"
    }
}
