import CSystemShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes

/// Why planning output could not be written.
public enum PlanError: Error, Sendable, CustomStringConvertible {
    case secret(path: String)

    public var description: String {
        switch self {
        case .secret(let path): "refusing to write \(path): it would hold a secret (value not shown)"
        }
    }
}

/// Writes `generated/<recipe>/<layer>/{Dockerfile,inputs.json}` and checks it for staleness.
///
/// The recipe's whole folder is written to a temporary sibling and swapped in with one atomic
/// `renameat2(RENAME_EXCHANGE)`, so a failed or interrupted run leaves the previous folder as it
/// was, and files of layers that no longer exist disappear.
public enum GeneratedDirectory {
    public enum Difference: Sendable, Hashable, CustomStringConvertible {
        case changed(String)
        case missing(String)
        case unexpected(String)

        public var description: String {
            switch self {
            case .changed(let path): "changed: \(path)"
            case .missing(let path): "missing: \(path)"
            case .unexpected(let path): "stale (no longer generated): \(path)"
            }
        }
    }

    /// The files of a plan, by path relative to the output directory.
    public static func files(for plan: BuildPlan) -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        var platforms: [String: [String: JSONValue]] = [:]
        for layer in plan.layers {
            let directory = "\(plan.name)/\(layer.name)"
            // One Dockerfile per layer: a multi-platform layer's is the same for every platform.
            files["\(directory)/Dockerfile"] = Array(layer.dockerfile.utf8)
            if let platform = layer.platform {
                platforms[directory, default: [:]][platform.description] = layer.inputsDocument
            } else {
                files["\(directory)/inputs.json"] = Array(layer.inputsDocument.pretty.utf8)
            }
        }
        for (directory, documents) in platforms {
            files["\(directory)/inputs.json"] = Array(JSONValue.object(["platforms": .object(documents)]).pretty.utf8)
        }
        return files
    }

    public static func write(_ plan: BuildPlan, to output: String) throws {
        let target = RecipeResolver.join(output, plan.name)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let staging = RecipeResolver.join(output, ".\(plan.name).staging-\(getpid())")
        try? FileManager.default.removeItem(atPath: staging)
        let files = files(for: plan)
        // Validation refuses every secret in a recipe; this makes sure none slipped through.
        for (path, bytes) in files where Redactor.holdsSecret(String(decoding: bytes, as: UTF8.self)) {
            throw PlanError.secret(path: path)
        }
        do {
            for (path, bytes) in files {
                let relative = path.dropFirst(plan.name.count + 1)
                try AtomicFile.write(bytes, to: staging + "/" + relative, createDirectories: true)
            }
            try swapIntoPlace(staging, target)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        try? FileManager.default.removeItem(atPath: staging)
    }

    /// Moves `staging` to `target`; afterwards `staging` holds the previous contents (if any).
    private static func swapIntoPlace(_ staging: String, _ target: String) throws {
        if access(target, F_OK) != 0 {
            guard rename(staging, target) == 0 else { throw FileSystemError.errno("move into place", target) }
            return
        }
        if imagegen_exchange_paths(staging, target) == 0 { return }
        guard errno == ENOSYS || errno == EINVAL else { throw FileSystemError.errno("swap into place", target) }
        // No atomic exchange on this file system: the previous folder moves aside first, and comes
        // back if the new one cannot be moved in.
        let aside = staging + ".previous"
        guard rename(target, aside) == 0 else { throw FileSystemError.errno("move aside", target) }
        guard rename(staging, target) == 0 else {
            let error = FileSystemError.errno("move into place", target)
            rename(aside, target)
            throw error
        }
        rename(aside, staging)
    }

    /// How `output` differs from what `plan` generates (empty when up to date).
    public static func check(_ plan: BuildPlan, against output: String) -> [Difference] {
        let expected = files(for: plan)
        var differences: [Difference] = []
        for (path, bytes) in expected.sorted(by: { $0.key < $1.key }) {
            let full = RecipeResolver.join(output, path)
            guard let data = FileManager.default.contents(atPath: full) else {
                differences.append(.missing(full))
                continue
            }
            if Array(data) != bytes { differences.append(.changed(full)) }
        }
        let root = RecipeResolver.join(output, plan.name)
        if let enumerator = FileManager.default.enumerator(atPath: root) {
            var extra: [String] = []
            for case let relative as String in enumerator {
                var isDirectory: ObjCBool = false
                let full = root + "/" + relative
                if FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
                    expected["\(plan.name)/\(relative)"] == nil
                {
                    extra.append(full)
                }
            }
            differences += extra.sorted().map(Difference.unexpected)
        }
        return differences
    }
}

extension PlanError: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
