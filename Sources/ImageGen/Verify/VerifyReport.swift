import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import Inventory
import RegistryCache
import ContainerRegistry
import DockerEngine
/// The outcome of one check on one layer's image.
public struct CheckResult: Sendable, Equatable {
    public enum Status: String, Sendable { case passed, failed }

    public var layer: String
    /// What was checked, e.g. `size.total`, `user.non-root`, `probe: rg --version`.
    public var name: String
    /// The policy it belongs to: built, size, user, secrets, labels, probes, files, waste.
    public var category: String
    public var status: Status
    /// What was measured (bytes for sizes, text otherwise), when there is a value.
    public var measured: JSONValue = .null
    /// The limit or expectation, when there is one.
    public var threshold: JSONValue = .null
    public var message: String
    /// More lines for a failure: largest paths, output tails, where secrets are.
    public var details: [String] = []
    public var seconds: Double = 0

    public var passed: Bool { status == .passed }

    static func passed(
        _ layer: String, _ name: String, _ category: String, _ message: String,
        measured: JSONValue = .null, threshold: JSONValue = .null, details: [String] = []
    ) -> CheckResult {
        CheckResult(layer: layer, name: name, category: category, status: .passed, measured: measured, threshold: threshold, message: message, details: details)
    }

    static func failed(
        _ layer: String, _ name: String, _ category: String, _ message: String,
        measured: JSONValue = .null, threshold: JSONValue = .null, details: [String] = []
    ) -> CheckResult {
        CheckResult(layer: layer, name: name, category: category, status: .failed, measured: measured, threshold: threshold, message: message, details: details)
    }
}

/// Every check of one layer.
public struct LayerVerification: Sendable {
    public var layer: String
    /// The platform, for a multi-platform recipe.
    public var platform: Platform? = nil
    public var reference: ImageReference
    public var imageID: ImageID?
    public var checks: [CheckResult]
    public var seconds: Double
    /// The image's layers, bottom first, and where verify read each.
    public var layerSources: [LayerRead] = []
    /// The packages this layer adds the most bytes for (over its parent), `(unowned)` included.
    public var packages: [AddedBytes] = []
    /// Where the checks came from when they were not run here but reused (`verify --cache`).
    public var reused: ReusedVerification? = nil

    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
    /// `base`, or `base@linux/arm64`.
    public var displayName: String { Platform.qualified(layer, platform) }
}

/// How verify came to know a layer.
public enum LayerSource: String, Sendable, CaseIterable {
    /// The layer index kept from an earlier run (by diff ID).
    case index
    /// The layer index shared in the cache registry (`--cache`).
    case registry
    /// The engine's storage, read in place.
    case storage
    /// The engine's storage, read by the helper container.
    case helper
    /// The engine's export (`GET /images/get`).
    case export
}

public struct LayerRead: Sendable, Equatable {
    public var diffID: Digest
    public var source: LayerSource
}

/// What `verify` found, for the text, JSON and JUnit reports.
public struct VerifyReport: Sendable {
    public var recipe: String
    public var layers: [LayerVerification]

    public init(recipe: String, layers: [LayerVerification]) {
        self.recipe = recipe
        self.layers = layers
    }

    public var checks: [CheckResult] { layers.flatMap(\.checks) }
    /// True only when checks ran and all passed: zero checks is a failure, never a pass.
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }
}
