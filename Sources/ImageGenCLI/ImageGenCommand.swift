import ArgumentParser
import Foundation
import ImageGen
import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `imagegen`: recipes to stacked container images.
public struct ImageGenCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "imagegen",
        abstract: "Turn a recipe into a family of stacked container images: validate, generate, plan, build, verify, release.",
        discussion: """
            Exit codes: 0 success, 1 a build, policy or check failed, 2 bad input (recipe or \
            arguments), 3 the Docker engine could not be reached or refused.
            """,
        version: ImageGenVersion.current,
        subcommands: [
            ValidateCommand.self, GenerateCommand.self, PlanCommand.self, BuildCommand.self, VerifyCommand.self, ReleaseCommand.self, SBOMCommand.self, DiffCommand.self,
            AttestationsCommand.self,
            SchemaCommand.self, SecretsCommand.self, ContextCommand.self, InitCommand.self, ImportCommand.self, IndexCommand.self, LayerIndexCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line; argument mistakes exit with 2, as every other bad input does. The
    /// process's engine connections are shut down at the end, whatever happened.
    public static func runMain(_ arguments: [String]? = nil) async -> Int32 {
        // imagegen's own knob for ssh:// engines (the client library knows no variable of ours).
        if let command = ProcessInfo.processInfo.environment["IMAGEGEN_SSH_COMMAND"], !command.isEmpty {
            EngineConnections.process.setSSHCommand(command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init))
        }
        let code = await run(arguments)
        await EngineConnections.process.shutdown()
        return code
    }

    static func run(_ arguments: [String]?) async -> Int32 {
        do {
            var command = try parseQuickly(arguments ?? Array(CommandLine.arguments.dropFirst()))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch let exit as ExitCode {
            return exit.rawValue
        } catch let failure as CommandFailure {
            if !failure.message.isEmpty { Console.fail(failure.message) }
            return failure.code.rawValue
        } catch is CancellationError {
            return ExitStatus.interrupted.rawValue
        } catch let error as any ClassifiedError {
            // Every library error says how it ends a command; none is known here by name.
            Console.fail(error.description)
            return error.exitStatus.rawValue
        } catch {
            let code = exitCode(for: error)
            if code == .success || code.rawValue == 0 {
                print(fullMessage(for: error))
                return 0
            }
            Console.error(fullMessage(for: error))
            return code == .validationFailure || code.rawValue == 64 ? 2 : code.rawValue
        }
    }
}

extension ImageGenCommand {
    /// Parses `imagegen SUBCOMMAND …` with the subcommand's own parser. Parsing from the root
    /// reflects over every subcommand's arguments (and checks for a completion-script request),
    /// which costs more than the rest of a cached `plan`; help, versions and mistakes still go
    /// through the root, so their output is the same.
    static func parseQuickly(_ arguments: [String]) throws -> any ParsableCommand {
        let asksForHelp = arguments.contains { ["-h", "--help", "--version", "--generate-completion-script", "help"].contains($0) }
        guard !asksForHelp, let name = arguments.first,
            let subcommand = configuration.subcommands.first(where: { $0.configuration.commandName == name })
        else { return try parseAsRoot(arguments) }
        do {
            return try subcommand.parseAsRoot(Array(arguments.dropFirst()))
        } catch {
            return try parseAsRoot(arguments)
        }
    }
}

/// An error that ends a command with a message (printed after `error: `) and an exit code.
public struct CommandFailure: Error, Sendable {
    public var message: String
    public var code: ExitCode

    public init(_ message: String, code: ExitCode) {
        self.message = message
        self.code = code
    }
}

extension ExitCode {
    /// A build, a policy or a check failed.
    public static let failed = ExitCode(1)
    /// The recipe or the arguments are wrong.
    public static let badInput = ExitCode(2)
    /// The Docker engine could not be reached or refused.
    public static let engine = ExitCode(3)
}
