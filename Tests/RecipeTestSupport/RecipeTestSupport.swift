import Foundation
import Testing
import ImageGenValues
import BuildContext
import Planning
@_exported import TestSupport

/// The smallest valid recipe, on the busybox test image; tests append to it.
public let minimalRecipe = """
    recipe: demo
    layers:
      base:
        from: imagegen-test/busybox:1
        distro: busybox
        user: {name: dev, uid: 1000}
        workdir: /workspace

    """

/// Loads, resolves and plans a recipe written into `scratch`, with an in-memory digest cache.
public func plan(_ yaml: String, in scratch: Scratch, file: String = "recipe.yaml", overrides: [String: String] = [:]) -> (BuildPlan?, Diagnostics) {
    let path = scratch.write(file, yaml)
    return Planner.plan(recipeAt: path, overrides: overrides, cache: FileDigestCache(file: nil))
}

public func diagnostics(for yaml: String, files: [String: String] = [:]) -> Diagnostics {
    let scratch = Scratch()
    for (path, text) in files { scratch.write(path, text) }
    return plan(yaml, in: scratch).1
}

/// Expects a diagnostic at exactly `line:column` whose message contains `text`.
public func expectDiagnostic(
    _ diagnostics: Diagnostics, severity: Diagnostic.Severity = .error, line: Int, column: Int, contains text: String,
    sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let found = diagnostics.items.contains {
        $0.severity == severity && $0.location.line == line && $0.location.column == column && $0.message.contains(text)
    }
    #expect(
        found, "no \(severity) at \(line):\(column) containing '\(text)'; got:\n\(diagnostics.sorted.map(\.description).joined(separator: "\n"))",
        sourceLocation: sourceLocation)
}
