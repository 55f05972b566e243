import ArgumentParser
import DockerEngine
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `--cache REGISTRY[/NAMESPACE]` and `--cache-mode`: the registry that is the layers'
/// content-hash cache. The flag wins over IMAGEGEN_CACHE, which wins over the recipe's `cache:`;
/// `--cache off` uses none.
struct CacheOptions: ParsableArguments {
    @Option(
        name: .customLong("cache"),
        help: ArgumentHelp(
            "Pull layers built elsewhere from this registry, and push what is built (default: IMAGEGEN_CACHE, then the recipe's cache:; 'off' for none).",
            valueName: "REGISTRY[/NAMESPACE]"))
    var cache: String?

    @Option(name: .customLong("cache-mode"), help: "read (pull only: pull requests from forks) or readwrite (default: IMAGEGEN_CACHE_MODE, then the recipe's).")
    var mode: RegistryCache.Mode?

    func validate() throws {
        _ = try resolve(recipe: nil)
    }

    /// The cache to use, or nil.
    func resolve(recipe: RegistryCache?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> RegistryCache? {
        let given = cache ?? environment["IMAGEGEN_CACHE"].flatMap { $0.isEmpty ? nil : $0 }
        var chosen: RegistryCache?
        if let given {
            guard given != "off" else { return nil }
            do {
                chosen = try RegistryCache(parsing: given)
            } catch {
                throw ValidationError("--cache: \(error)")
            }
        } else {
            chosen = recipe
        }
        guard var result = chosen else { return nil }
        if let mode {
            result.mode = mode
        } else if let text = environment["IMAGEGEN_CACHE_MODE"], !text.isEmpty {
            guard let parsed = RegistryCache.Mode(rawValue: text) else { throw ValidationError("IMAGEGEN_CACHE_MODE '\(text)' must be read or readwrite") }
            result.mode = parsed
        } else if given != nil, let recipe {
            result.mode = recipe.mode
        }
        return result
    }

    /// A session on the cache for this run, or nil.
    func open(for plan: BuildPlan) async throws -> RegistryCacheSession? {
        guard let cache = try resolve(recipe: plan.recipe.recipe.cache?.value) else { return nil }
        return await RegistryCacheSession.open(cache)
    }
}

extension RegistryCache.Mode: ExpressibleByArgument {}
