import ArgumentParser
import DockerEngine
import Foundation
import ImageGen

/// How to reach the Docker engine: DOCKER_HOST and friends, or --host.
struct EngineOptions: ParsableArguments {
    @Option(name: [.customShort("H"), .long], help: ArgumentHelp("The engine to use (unix:///path, tcp://host:port or ssh://[user@]host[:port]); default DOCKER_HOST or unix:///var/run/docker.sock.", valueName: "URL"))
    var host: String?

    func endpoint() throws -> EngineEndpoint {
        var environment = ProcessInfo.processInfo.environment
        if let host { environment["DOCKER_HOST"] = host }
        do {
            return try EngineEndpoint.fromEnvironment(environment)
        } catch {
            throw CommandFailure("error: \(error)", code: .badInput)
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
        if let engine = error as? DockerEngineError { return CommandFailure("error: \(engine)", code: .engine) }
        return CommandFailure("error: \(error)", code: .failed)
    }
}

/// Runs `body` in a task that Ctrl-C cancels (once; a second Ctrl-C exits at once). `notice`
/// prints the message saying so (above a live view, when there is one).
func withInterruptHandling<T: Sendable>(
    notice: @escaping @Sendable (String) -> Void = { Console.error($0) }, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let task = Task { try await body() }
    signal(SIGINT, SIG_IGN)
    // The handler runs on a serial queue, one signal at a time: the flag needs no lock.
    let queue = DispatchQueue(label: "imagegen.interrupt")
    let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: queue)
    let interrupted = InterruptFlag()
    source.setEventHandler {
        if interrupted.raised { exit(130) }
        interrupted.raised = true
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

/// Set by the first Ctrl-C; read and written only on the interrupt handler's serial queue.
private final class InterruptFlag: @unchecked Sendable {
    var raised = false
}
