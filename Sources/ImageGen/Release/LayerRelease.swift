import ContainerBasics
import ContainerRegistry
import Planning
import RegistryCache

/// What a release decides for one layer of the recipe, on every platform it is planned for.
struct LayerRelease: Sendable {
    var name: String
    /// The layer's plans, one per platform (one for a single-platform recipe).
    var layers: [LayerPlan]
    /// The plan whose image the tags are decided on: this machine's platform if the recipe has
    /// it, else the recipe's first.
    var reference: LayerPlan
    var repository: Repository
    /// Tags that are never moved once written (the first decides whether the layer is released).
    var exactTags: [Tag]
    /// Tags that move forward only.
    var floatingTags: [Tag]
    /// What the registry holds under each tag, when the release reads it.
    var remote: [Tag: TagPlanner.Current] = [:]
    /// The image already released under the first exact tag (kept, here or in the registry).
    var released: ImageID?
    /// Released from another machine: the engine pulls the first exact tag before tagging.
    var pullsRelease = false

    /// The platforms of the layer, for messages.
    var platforms: String { layers.compactMap(\.platform).map(\.description).joined(separator: ", ") }
}

/// The images a release tags, made once every decision is taken.
struct ReleaseImages: Sendable {
    /// Layer name → the release image of its reference platform.
    var targets: [String: ImageID] = [:]
    /// Layer name → its platforms' manifests in the registry (index publishing only).
    var platformEntries: [String: [ImageIndexEntry]] = [:]
    /// Layer name → its release image's manifest, stored by digest (registry publishing only).
    var manifests: [String: Manifest] = [:]

    struct Manifest: Sendable {
        var mediaType: String
        var body: [UInt8]
    }
}

/// A failure a publisher reports (the release did not happen) rather than throws; the Releaser
/// puts it in the report.
struct PublishFailure: Error {
    var message: String
}

/// The registry a release reads (and, for indexes, writes), with the credentials found for it.
struct ReleaseRegistry: Sendable {
    var auth: RegistryAuth
    var client: RegistryClient
}

/// Where a release's tags are written: ``EngineTagPublisher`` (the engine's tags, pushed with
/// `--push`) for one platform, ``IndexTagPublisher`` (an OCI image index per tag in the
/// registry) for several. The ``Releaser`` decides; a publisher reads and writes.
protocol ReleasePublisher: Sendable {
    /// Why a release cannot be published this way, before anything is read.
    static func refusal(for releaser: Releaser) -> String?
    /// Whether the registry's tags are read before deciding.
    static func readsRegistry(_ releaser: Releaser) -> Bool
    /// Whether exact tags after the first are written as the first's index, as floating tags are.
    static var onlyFirstTagIsExact: Bool { get }

    /// `registry` is given when ``readsRegistry(_:)`` says so.
    init(releaser: Releaser, registry: ReleaseRegistry?)
    /// What `tag` names now where this publisher writes it.
    func current(_ tag: Tag, of release: LayerRelease) async throws -> TagPlanner.Current?
    /// The release images of the layers (stamped, pulled, or pushed per platform); a failure it
    /// reports is a ``PublishFailure``.
    func makeImages(_ releases: [LayerRelease]) async throws -> ReleaseImages
    /// Writes the report's tags that create or move, all at the end; a failure is the report's.
    func publish(_ report: inout Releaser.Report, releases: [LayerRelease], images: ReleaseImages) async throws
}
