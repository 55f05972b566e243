import ArgumentParser
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `imagegen context validate|package`: FEAT-026's build-time workflow for context directories.
struct ContextCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "context",
        abstract: "Check a context directory, or package it as one file a recipe bakes.",
        subcommands: [ContextValidateCommand.self, ContextPackageCommand.self])
}

/// The directory argument and how `~` targets are checked, shared by both subcommands.
struct ContextDirectoryOptions: ParsableArguments {
    @Argument(help: "The context directory (with its manifest.yaml).")
    var directory: String

    @Option(help: "The manifest's file name in the directory.")
    var manifest = "manifest.yaml"

    @Option(
        name: .customLong("allow-local-repos"),
        help: ArgumentHelp(
            "Let repos: fetch git repositories on this machine under DIR (by default only network URLs, and paths inside the context directory).",
            valueName: "DIR"))
    var allowLocalRepos: [String] = []

    func bake() throws -> BakedContext {
        var diagnostics = Diagnostics()
        var request = ContextBaker.Request(
            directory: directory, display: directory, location: SourceLocation(file: directory, line: 0, column: 0), home: "/home/user",
            repos: ResolveOptions().repos)
        request.manifest = manifest
        request.localRepoRoots = [directory] + allowLocalRepos
        request.localRepoRootName = "the context directory"
        let baked = ContextBaker.bake(request, diagnostics: &diagnostics)
        // The files are checked as a build checks them: readable, and holding no secret.
        let files = baked.entries.filter { $0.kind == .file && $0.path.hasPrefix(ContextLayout.contextDirectory + "/") }
        Planner.refuseSecrets(in: files, display: directory, diagnostics: &diagnostics)
        if Console.report(diagnostics) { throw ExitCode.badInput }
        return baked
    }
}

struct ContextValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a context directory: its manifest (FEAT-026), every path it lists, its pinned repos, and every file for secrets.",
        discussion: "Every problem is reported as file:line:col. Exit codes: 0 valid (warnings allowed), 2 any error.")

    @OptionGroup var options: ContextDirectoryOptions

    func run() throws {
        let baked = try options.bake()
        let files = baked.entries.filter { $0.kind == .file && $0.path.hasPrefix(ContextLayout.contextDirectory + "/") }
        var summary = "\(options.directory): ok (\(Console.count(files.count, "file")), \(ByteSize(bytes: files.fileBytes))"
        if !baked.repos.isEmpty { summary += ", " + baked.repos.map { "\($0.path) at \($0.commit.prefix(shortHashLength))" }.joined(separator: ", ") }
        if !baked.targets.isEmpty { summary += ", \(Console.count(baked.targets.count, "config target"))" }
        Console.error(summary + ")")
    }
}

struct ContextPackageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "package",
        abstract: "Write a context directory, with its pinned repos fetched, as one deterministic .tar.gz a recipe bakes (context: {package: FILE}).",
        discussion: """
            The same directory and commits give the same bytes. The package bakes the same image as \
            the directory. Exit codes: 0 written, 1 it could not be written, 2 the directory has errors.
            """)

    @OptionGroup var options: ContextDirectoryOptions

    @Option(name: [.customShort("o"), .long], help: ArgumentHelp("The package to write (NAME.context).", valueName: "FILE"))
    var output: String

    func run() throws {
        let baked = try options.bake()
        do {
            try ContextPackage.write(baked, to: output)
        } catch {
            throw CommandFailure("\(error)", code: .failed)
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int64) ?? 0
        Console.error("wrote \(output) (\(ByteSize(bytes: size)), \(ContextPackage.entries(baked).count) entries)")
    }
}
