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

/// How to reach the Docker engine: DOCKER_HOST and friends, or --host.
struct EngineOptions: ParsableArguments {
    @Option(
        name: [.customShort("H"), .long],
        help: ArgumentHelp("The engine to use (unix:///path, tcp://host:port or ssh://[user@]host[:port]); default DOCKER_HOST or unix:///var/run/docker.sock.", valueName: "URL"))
    var host: String?

    func endpoint() throws -> EngineEndpoint {
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["DOCKER_HOST"] = host }
        do {
            return try EngineEndpoint.fromEnvironment(environment)
        } catch {
            throw CommandFailure("\(error)", code: .badInput)
        }
    }

    @Option(
        name: .customLong("engine"),
        help: ArgumentHelp(
            "A native engine for one platform's builds, verify and release (repeatable; default IMAGEGEN_ENGINES, comma-separated). Other platforms run on the main engine, emulated.",
            valueName: "PLATFORM=URL"))
    var platformEngines: [String] = []

    /// `--engine` (else IMAGEGEN_ENGINES) as platform → endpoint.
    func platformEndpoints(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [Platform: EngineEndpoint] {
        let items =
            platformEngines.isEmpty
            ? (environment["IMAGEGEN_ENGINES"] ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : platformEngines
        var result: [Platform: EngineEndpoint] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw CommandFailure("--engine '\(item)' must be PLATFORM=URL, e.g. linux/arm64=ssh://builder@mac-mini", code: .badInput)
            }
            let platform: Platform
            do {
                platform = try Platform(parsing: String(item[..<equals]))
            } catch {
                throw CommandFailure("--engine \(item): \(error)", code: .badInput)
            }
            var hostEnvironment = environment
            hostEnvironment["DOCKER_HOST"] = String(item[item.index(after: equals)...])
            do {
                result[platform] = try EngineEndpoint.fromEnvironment(hostEnvironment)
            } catch {
                throw CommandFailure("--engine \(item): \(error)", code: .badInput)
            }
        }
        return result
    }

    /// Connects to each platform's engine (exit code 3 when one does not answer).
    func connectPlatforms() async throws -> [Platform: DockerEngine] {
        var engines: [Platform: DockerEngine] = [:]
        for (platform, endpoint) in try platformEndpoints() {
            do {
                engines[platform] = try await DockerEngine.connect(endpoint: endpoint)
            } catch {
                throw CommandFailure("the engine for \(platform) (\(endpoint)): \(error)", code: .engine)
            }
        }
        return engines
    }

    /// Before building or running a foreign platform on the main engine: when that engine is on
    /// this machine (a Unix socket), the kernel must have QEMU registered for it; exit code 3 if not.
    func checkEmulation(for platforms: [Platform], native: [Platform: DockerEngine], engine: DockerEngine) async throws {
        // Nothing to ask a single-platform recipe's engine (its /info costs ~20 ms per command).
        guard platforms.contains(where: { native[$0] == nil }), case .unixSocket = try endpoint().address else { return }
        let architecture = (try? await engine.info().architecture) ?? Platform.host.machine
        for platform in platforms where native[platform] == nil && platform.machine != architecture {
            let registration = "/proc/sys/fs/binfmt_misc/qemu-\(platform.machine)"
            guard FileManager.default.fileExists(atPath: registration) else {
                throw CommandFailure(
                    "\(platform) cannot run on this engine (\(architecture)): no QEMU emulation is registered (\(registration) is missing). "
                        + "Run scripts/binfmt (it needs Debian's qemu-user-static), or build \(platform) on a native engine: --engine \(platform)=URL",
                    code: .engine)
            }
        }
    }

    /// Connects, or ends the command with exit code 3 and one clear line.
    func connect() async throws -> DockerEngine {
        let endpoint = try endpoint()
        do {
            return try await DockerEngine.connect(endpoint: endpoint)
        } catch {
            throw EngineFailure.wrap(error)
        }
    }
}

enum EngineFailure {
    /// Engine errors end the command with exit code 3; cancellation with 130.
    static func wrap(_ error: any Error) -> any Error {
        if let failure = error as? CommandFailure { return failure }
        if error is CancellationError { return CommandFailure("", code: ExitCode(130)) }
        if let engine = error as? DockerEngineError { return CommandFailure("\(engine)", code: .engine) }
        return CommandFailure("\(error)", code: .failed)
    }
}

/// Runs `body` in a task that Ctrl-C cancels (once; a second Ctrl-C exits at once). `notice`
/// prints the message saying so (above a live view, when there is one).
func withInterruptHandling<T: Sendable>(
    notice: @escaping @Sendable (String) -> Void = { Console.error($0) }, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let task = Task { try await body() }
    signal(SIGINT, SIG_IGN)
    let queue = DispatchQueue(label: "imagegen.interrupt")
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: queue)
    let interrupted = Locked(false)
    source.setEventHandler {
        let again = interrupted.withLock { raised in
            defer { raised = true }
            return raised
        }
        if again { exit(130) }
        notice("interrupted: stopping; layers already built are kept (Ctrl-C again to quit at once)")
        task.cancel()
    }
    source.resume()
    defer {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
    return try await task.value
}
