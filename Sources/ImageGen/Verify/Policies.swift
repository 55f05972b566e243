import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import Inventory
import RegistryCache
import ContainerRegistry

/// An image of the family with everything the checks look at.
struct ImageUnderTest {
    let plan: LayerPlan
    let recipe: ResolvedRecipe
    let inspect: ImageInspect
    let history: [ImageHistoryItem]
    /// The image's layers, bottom first.
    let layers: [LayerBlob]
    /// How many of them the parent image (a layer of the recipe, or the external base) has.
    let parentLayerCount: Int
    /// What the parent is called in messages.
    let parentName: String
    /// For each of `layers`, which recipe layer added it ("base image" below the recipe's own).
    let layerOrigins: [String]
    let view: FileSystemView
    /// The packages the image holds, and the bytes each of its layers adds for each.
    let inventory: PackageInventory

    var name: String { plan.name }
    var policy: PolicySpec { plan.layer.spec.policy }
    var addedLayers: ArraySlice<LayerBlob> { layers.dropFirst(parentLayerCount) }
}

/// The policies, each a pure function of an ``ImageUnderTest`` (probes, which need a container,
/// are in ``ProbeRunner``).
enum Policies {
    static func all(_ image: ImageUnderTest) -> [CheckResult] {
        var checks: [CheckResult] = []
        checks += size(image)
        checks += user(image)
        checks += secrets(image)
        checks += labels(image)
        checks += files(image)
        checks.append(waste(image))
        if image.plan.layer.hasBuilderStages { checks.append(buildCA(image)) }
        return checks
    }

    // MARK: - Build CA

    /// The build CA reaches builder stages only: no layer of the image (deleted files included)
    /// holds the build context's `imagegen-build/` directory, and no build step copied it.
    static func buildCA(_ image: ImageUnderTest) -> CheckResult {
        var found: [String] = []
        for (index, layer) in image.layers.enumerated() {
            for file in layer.files where file.path == "tmp/imagegen-build" || file.path.hasPrefix("tmp/imagegen-build/") || file.path.hasSuffix("/" + ContextLayout.buildCA) {
                found.append("layer \(index + 1)/\(image.layers.count): /\(file.path)")
            }
        }
        for item in image.history where item.createdBy.contains("imagegen-build/") {
            found.append("history: a step copied imagegen-build/")
        }
        return found.isEmpty
            ? .passed(image.name, "build-ca.absent", "secrets", "the build CA is in no layer of the image (builder stages only)")
            : .failed(image.name, "build-ca.absent", "secrets", "the build CA's directory is in the image", details: found)
    }

    // MARK: - Size

    static func size(_ image: ImageUnderTest) -> [CheckResult] {
        let total = image.layers.reduce(Int64(0)) { $0 + $1.size }
        let added = image.addedLayers.reduce(Int64(0)) { $0 + $1.size }
        let addedRange = image.parentLayerCount..<image.layers.count
        let largest = largestAddedPaths(image, count: 10)
        // What pushed a size over: the packages, then the files.
        func culprits(_ range: Range<Int>) -> [String] {
            let packages = image.inventory.largestAdded(in: range, count: 10).map { "\(ByteSize(bytes: $0.bytes))  \($0.label)" }
            return (packages.isEmpty ? [] : ["largest packages:"] + packages + ["largest files:"]) + largest
        }
        let delta = "+\(ByteSize(bytes: added)) over \(image.parentName)"
        var checks: [CheckResult] = []
        if let budget = image.policy.maxSize?.value {
            let message = "\(ByteSize(bytes: total)) of \(ByteSize(bytes: budget.bytes)) (\(delta))"
            checks.append(
                total <= budget.bytes
                    ? .passed(image.name, "size.total", "size", message, measured: .int(total), threshold: .int(budget.bytes))
                    : .failed(
                        image.name, "size.total", "size", "image is \(message): over budget by \(ByteSize(bytes: total - budget.bytes))",
                        measured: .int(total), threshold: .int(budget.bytes), details: culprits(0..<image.layers.count)))
        } else {
            checks.append(.passed(image.name, "size.total", "size", "\(ByteSize(bytes: total)) (\(delta)); no max-size", measured: .int(total)))
        }
        if let budget = image.policy.maxAdded?.value {
            let message = "adds \(ByteSize(bytes: added)) over \(image.parentName), budget \(ByteSize(bytes: budget.bytes))"
            checks.append(
                added <= budget.bytes
                    ? .passed(image.name, "size.added", "size", message, measured: .int(added), threshold: .int(budget.bytes))
                    : .failed(
                        image.name, "size.added", "size", "\(message): over by \(ByteSize(bytes: added - budget.bytes))",
                        measured: .int(added), threshold: .int(budget.bytes), details: culprits(addedRange)))
        }
        return checks
    }

    /// The biggest files the image's own layers add, so an author knows what to cut.
    static func largestAddedPaths(_ image: ImageUnderTest, count: Int) -> [String] {
        var files: [(String, Int64)] = []
        for layer in image.addedLayers {
            for file in layer.files where file.kind == .file { files.append(("/" + file.path, file.size)) }
        }
        return files.sorted { $0.1 > $1.1 }.prefix(count).map { "\(ByteSize(bytes: $0.1))  \($0.0)" }
    }

    // MARK: - Secrets

    static func secrets(_ image: ImageUnderTest) -> [CheckResult] {
        var checks: [CheckResult] = []
        // Env: a secret-looking name with a value, or a value a rule recognizes.
        var envFindings: [String] = []
        for variable in image.inspect.config?.env ?? [] {
            let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]), value = parts.count > 1 ? String(parts[1]) : ""
            if SecretNames.looksSecret(name), !value.isEmpty {
                envFindings.append("Env \(name) looks like a secret (value redacted)")
            } else if let finding = SecretScanner.scan(value).first {
                envFindings.append("Env \(name) holds a \(finding.summary) [\(finding.rule)] (value redacted)")
            }
        }
        checks.append(
            envFindings.isEmpty
                ? .passed(image.name, "secrets.env", "secrets", "no secret in \(image.inspect.config?.env?.count ?? 0) environment variables")
                : .failed(
                    image.name, "secrets.env", "secrets", "\(envFindings.count) secret\(envFindings.count == 1 ? "" : "s") in the image's environment",
                    measured: .int(Int64(envFindings.count)), details: envFindings))

        // History: build commands (RUN lines, ARG values) are shipped with the image.
        var historyFindings: [String] = []
        for (index, item) in image.history.reversed().enumerated() {
            for finding in SecretScanner.scan(item.createdBy) {
                historyFindings.append("history step \(index + 1): \(finding.summary) [\(finding.rule)] (value redacted)")
            }
        }
        checks.append(
            historyFindings.isEmpty
                ? .passed(image.name, "secrets.history", "secrets", "no secret in \(image.history.count) history entries")
                : .failed(
                    image.name, "secrets.history", "secrets", "\(historyFindings.count) secret\(historyFindings.count == 1 ? "" : "s") in the image's build history",
                    measured: .int(Int64(historyFindings.count)), details: historyFindings))

        // Files, in every layer: a file deleted by a later layer still ships in its own.
        guard image.policy.scanSecrets else { return checks }
        var fileFindings: [String] = []
        var scanned = 0, binary = 0, large = 0
        for (index, layer) in image.layers.enumerated() {
            scanned += layer.scannedFiles
            binary += layer.skippedBinary
            large += layer.skippedLarge
            let deletedLater = Set(image.layers.dropFirst(index + 1).flatMap(\.deletions))
            for hit in layer.secrets {
                let position = hit.finding.line > 0 ? ":\(hit.finding.line):\(hit.finding.column)" : ""
                let note = deletedLater.contains(where: { hit.path == $0 || hit.path.hasPrefix($0 + "/") }) ? " (deleted by a later layer, still shipped)" : ""
                fileFindings.append(
                    "layer \(index + 1)/\(image.layers.count) (\(image.layerOrigins[index])): /\(hit.path)\(position) \(hit.finding.summary) [\(hit.finding.rule)]\(note)")
            }
        }
        let note = "\(scanned) files scanned; \(binary) binary and \(large) over \(ByteSize(bytes: ImageExport.Options().secretScanLimit)) not scanned"
        checks.append(
            fileFindings.isEmpty
                ? .passed(image.name, "secrets.files", "secrets", "no secret in any layer (\(note))", measured: .int(0))
                : .failed(
                    image.name, "secrets.files", "secrets", "\(fileFindings.count) secret\(fileFindings.count == 1 ? "" : "s") in the image's layers (values redacted; \(note))",
                    measured: .int(Int64(fileFindings.count)), details: fileFindings))
        return checks
    }

    // MARK: - Labels

    static let defaultRequiredLabels = [ImageLabels.OCI.title, ImageLabels.contentHash]

    static func labels(_ image: ImageUnderTest) -> [CheckResult] {
        let labels = image.inspect.labels
        var checks: [CheckResult] = []
        let required = image.policy.requiredLabels?.map(\.value) ?? defaultRequiredLabels
        let missing = required.filter { (labels[$0] ?? "").isEmpty }
        checks.append(
            missing.isEmpty
                ? .passed(image.name, "labels.required", "labels", "\(required.count) required labels present", threshold: .array(required.map(JSONValue.string)))
                : .failed(
                    image.name, "labels.required", "labels", "missing required label\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: ", "))",
                    threshold: .array(required.map(JSONValue.string))))
        var problems: [String] = []
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if let problem = ImageLabels.OCI.problem(key, value) { problems.append(problem) }
        }
        checks.append(
            problems.isEmpty
                ? .passed(image.name, "labels.well-formed", "labels", "\(labels.count) labels well-formed")
                : .failed(image.name, "labels.well-formed", "labels", problems.joined(separator: "; "), details: problems))
        return checks
    }

    // MARK: - Files

    /// Left behind by package managers or by mistake; checked on every image.
    static let defaultAbsent = ["/var/lib/apt/lists/*_*", "/var/cache/apt/archives/*.deb", "/var/cache/apk/*", "/**/.env"]

    static func fileRules(_ image: ImageUnderTest) -> (exists: [FileRule], absent: [FileRule]) {
        let at = image.plan.layer.spec.location
        var exists = image.policy.files.exists
        var absent = image.policy.files.absent
        for path in defaultAbsent where !absent.contains(where: { $0.path.value == path }) {
            absent.append(FileRule(path: Located(path, at: at)))
        }
        if let context = image.plan.layer.spec.context {
            let destination = context.destination.value.hasSuffix("/") ? String(context.destination.value.dropLast()) : context.destination.value
            var implied = [destination + "/" + DockerIgnore.clean(context.manifest.value)]
            for entry in image.plan.layer.manifestEntries {
                implied.append(destination + "/" + entry.dropFirst(ContextLayout.contextDirectory.count + 1))
            }
            for path in implied where !exists.contains(where: { $0.path.value == path }) {
                exists.append(FileRule(path: Located(path, at: at)))
            }
            // Configs at their targets, owned by the user.
            let owner = image.plan.layer.user.map { "\($0.uid):\($0.gid)" }
            for target in image.plan.layer.context?.targets ?? [] where !exists.contains(where: { $0.path.value == target.target }) {
                exists.append(FileRule(path: Located(target.target, at: at), owner: owner))
            }
        }
        return (exists, absent)
    }

    static func files(_ image: ImageUnderTest) -> [CheckResult] {
        let (exists, absent) = fileRules(image)
        var checks: [CheckResult] = []
        for rule in exists {
            let matches = matching(rule.path.value, in: image.view)
            let name = "files.exists: \(rule.path.value)"
            guard let first = matches.first else {
                checks.append(.failed(image.name, name, "files", "\(rule.path.value) does not exist in the image"))
                continue
            }
            var problems: [String] = []
            for file in matches {
                if let mode = rule.mode, file.mode & 0o7777 != mode {
                    problems.append("/\(file.path) has mode \(String(file.mode & 0o7777, radix: 8).leftPadded(to: 4)), not \(String(mode, radix: 8).leftPadded(to: 4))")
                }
                if let owner = rule.owner {
                    let actual = owner.contains(":") ? "\(file.uid):\(file.gid)" : "\(file.uid)"
                    if actual != owner { problems.append("/\(file.path) is owned by \(actual), not \(owner)") }
                }
            }
            checks.append(
                problems.isEmpty
                    ? .passed(image.name, name, "files", matches.count == 1 ? "/\(first.path) exists" : "\(matches.count) paths match")
                    : .failed(image.name, name, "files", problems.joined(separator: "; "), details: problems))
        }
        for rule in absent {
            let matches = matching(rule.path.value, in: image.view)
            let name = "files.absent: \(rule.path.value)"
            checks.append(
                matches.isEmpty
                    ? .passed(image.name, name, "files", "nothing matches")
                    : .failed(
                        image.name, name, "files", "\(matches.count) path\(matches.count == 1 ? "" : "s") must not be in the image",
                        measured: .int(Int64(matches.count)), details: matches.prefix(10).map { "/" + $0.path }))
        }
        return checks
    }

    /// Paths of the image matching a path or glob (absolute, in image terms).
    static func matching(_ pattern: String, in view: FileSystemView) -> [LayerFile] {
        let relative = ImageExport.normalize(pattern)
        if !relative.contains(where: { "*?[\\".contains($0) }) {
            return view.files[relative].map { [$0] } ?? []
        }
        guard let matcher = try? DockerIgnore(patterns: [relative]) else { return [] }
        return view.files.values.filter { matcher.matchesExactly($0.path) }.sorted { utf8Precedes($0.path, $1.path) }
    }

    // MARK: - Waste

    static func waste(_ image: ImageUnderTest) -> CheckResult {
        let waste = image.view.waste
        let details = image.view.largestWaste(5).map { "\(ByteSize(bytes: $0.bytes))  /\($0.path)" }
        guard let budget = image.policy.maxWaste?.value else {
            return .passed(image.name, "waste", "waste", "\(ByteSize(bytes: waste)) overwritten or deleted by later layers; no max-waste", measured: .int(waste), details: details)
        }
        let message = "\(ByteSize(bytes: waste)) overwritten or deleted by later layers, budget \(ByteSize(bytes: budget.bytes))"
        return waste <= budget.bytes
            ? .passed(image.name, "waste", "waste", message, measured: .int(waste), threshold: .int(budget.bytes), details: details)
            : .failed(image.name, "waste", "waste", message, measured: .int(waste), threshold: .int(budget.bytes), details: details)
    }
}
