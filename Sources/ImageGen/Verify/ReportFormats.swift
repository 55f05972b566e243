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
import DockerEngine

/// `verify` reports: text for people, JSON for machines (schema in docs/verify-report.md), and
/// JUnit XML for CI test reporters.
public enum ReportFormats {
    public static let jsonSchema = "imagegen.verify/1"

    // MARK: - Text

    public static func text(_ report: VerifyReport, colour: Bool) -> String {
        let green = colour ? "\u{1B}[32m" : "", red = colour ? "\u{1B}[31m" : "", bold = colour ? "\u{1B}[1m" : "", reset = colour ? "\u{1B}[0m" : ""
        var lines: [String] = []
        for layer in report.layers {
            lines.append("\(bold)\(layer.displayName)\(reset)  \(layer.reference)")
            let width = min(40, layer.checks.map(\.name.count).max() ?? 0)
            for check in layer.checks {
                let mark = check.passed ? "\(green)✓\(reset)" : "\(red)✗\(reset)"
                let name = check.name.count > width ? check.name : check.name.padding(toLength: width, withPad: " ", startingAt: 0)
                lines.append("  \(mark) \(name)  \(check.message)")
                if !check.passed {
                    for detail in check.details.prefix(20) { lines.append("      | \(detail)") }
                }
            }
            if !layer.packages.isEmpty {
                lines.append("  largest added: " + layer.packages.prefix(5).map { "\($0.label) \(ByteSize(bytes: $0.bytes))" }.joined(separator: ", "))
            }
            if let read = layersRead(layer) { lines.append("  layers read: \(read)") }
            if let reused = layer.reused { lines.append("  reused: checks that passed on \(reused.verifiedAt) (imagegen \(reused.imagegen)), from \(reused.artifact)") }
            lines.append("")
        }
        lines.append(summary(report, colour: colour))
        return lines.joined(separator: "\n")
    }

    /// "4 from the layer index, 2 in the engine's storage", in the order of ``LayerSource``.
    public static func layersRead(_ layer: LayerVerification) -> String? {
        guard !layer.layerSources.isEmpty else { return nil }
        let names: [LayerSource: String] = [
            .index: "from the layer index", .registry: "from the cache registry's index", .storage: "in the engine's storage",
            .helper: "in the engine's storage by the helper container", .export: "from the engine's export",
        ]
        return LayerSource.allCases.compactMap { source in
            let count = layer.layerSources.filter { $0.source == source }.count
            return count == 0 ? nil : "\(count) \(names[source]!)"
        }.joined(separator: ", ")
    }

    public static func summary(_ report: VerifyReport, colour: Bool = false) -> String {
        let checks = report.checks
        let failed = checks.filter { !$0.passed }.count
        let verdict: String
        if checks.isEmpty {
            verdict = "FAILED: no checks ran"
        } else {
            verdict = failed == 0 ? "passed" : "FAILED"
        }
        let paint = colour ? (failed == 0 && !checks.isEmpty ? "\u{1B}[32m" : "\u{1B}[31m") : ""
        let reset = colour ? "\u{1B}[0m" : ""
        return
            "verify \(report.recipe): \(paint)\(verdict)\(reset), \(report.layers.count) layer\(report.layers.count == 1 ? "" : "s"), \(checks.count) checks, \(checks.count - failed) passed, \(failed) failed"
    }

    // MARK: - JSON

    public static func json(_ report: VerifyReport) -> JSONValue {
        let checks = report.checks
        return [
            "schema": .string(jsonSchema),
            "recipe": .string(report.recipe),
            "passed": .bool(report.passed),
            "summary": [
                "layers": .int(Int64(report.layers.count)), "checks": .int(Int64(checks.count)),
                "passed": .int(Int64(checks.filter(\.passed).count)), "failed": .int(Int64(checks.filter { !$0.passed }.count)),
            ],
            "layers": .array(
                report.layers.map { layer in
                    [
                        "layer": .string(layer.layer), "platform": layer.platform.map { .string($0.description) } ?? .null, "image": .string(layer.reference.description),
                        "imageID": layer.imageID.map { .string($0.description) } ?? .null,
                        "passed": .bool(layer.passed), "milliseconds": .int(Int64(layer.seconds * 1000)),
                        "layerSources": layerSources(layer), "packages": packages(layer),
                        "reused": layer.reused.map { ["verifiedAt": .string($0.verifiedAt), "imagegen": .string($0.imagegen), "artifact": .string($0.artifact)] }
                            ?? .null,
                        "checks": .array(layer.checks.map { check($0) }),
                    ]
                }),
        ]
    }

    static func layerSources(_ layer: LayerVerification) -> JSONValue {
        .array(layer.layerSources.map { ["diffID": .string($0.diffID.description), "source": .string($0.source.rawValue)] })
    }

    static func packages(_ layer: LayerVerification) -> JSONValue {
        .array(
            layer.packages.map { row in
                [
                    "name": .string(row.name), "version": row.version.map(JSONValue.string) ?? .null,
                    "ecosystem": row.ecosystem.map { .string($0.rawValue) } ?? .null, "bytes": .int(row.bytes),
                ]
            })
    }

    /// One check; `redacted` for what leaves this run (a stored result), where every text goes
    /// through the redactor as the written report does.
    static func check(_ check: CheckResult, redacted: Bool = false) -> JSONValue {
        let text: (String) -> String = redacted ? { Redactor.redact($0) } : { $0 }
        return [
            "name": .string(text(check.name)), "category": .string(check.category), "status": .string(check.status.rawValue),
            "measured": check.measured, "threshold": check.threshold, "message": .string(text(check.message)),
            "details": .array(check.details.map { .string(text($0)) }), "milliseconds": .int(Int64(check.seconds * 1000)),
        ]
    }

    // MARK: - JUnit

    /// JUnit XML as Jenkins, GitLab and GitHub reporters read it: one `testsuite` per layer, one
    /// `testcase` per check, a `failure` with the message and details for each failed check.
    public static func junit(_ report: VerifyReport, timestamp: Date = Date(), hostname: String = ProcessInfo.processInfo.hostName) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate, .withTime, .withColonSeparatorInTime, .withDashSeparatorInDate]
        let stamp = formatter.string(from: timestamp)
        let checks = report.checks
        let total = report.layers.reduce(0) { $0 + $1.seconds }
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml +=
            "<testsuites name=\"\(escape("imagegen verify " + report.recipe))\" tests=\"\(checks.count)\" failures=\"\(checks.filter { !$0.passed }.count)\" errors=\"0\" time=\"\(seconds(total))\">\n"
        for (index, layer) in report.layers.enumerated() {
            let failures = layer.checks.filter { !$0.passed }.count
            xml +=
                "  <testsuite name=\"\(escape(report.recipe + "-" + layer.displayName))\" id=\"\(index)\" package=\"\(escape(report.recipe))\" tests=\"\(layer.checks.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(seconds(layer.seconds))\" timestamp=\"\(stamp)\" hostname=\"\(escape(hostname.isEmpty ? "localhost" : hostname))\">\n"
            xml += "    <properties>\n"
            xml += "      <property name=\"image\" value=\"\(escape(layer.reference.description))\"/>\n"
            if let id = layer.imageID { xml += "      <property name=\"imageID\" value=\"\(escape(id.description))\"/>\n" }
            if let read = layersRead(layer) { xml += "      <property name=\"layersRead\" value=\"\(escape(read))\"/>\n" }
            if let reused = layer.reused { xml += "      <property name=\"reusedFrom\" value=\"\(escape(reused.artifact + " " + reused.verifiedAt))\"/>\n" }
            xml += "    </properties>\n"
            for check in layer.checks {
                let open =
                    "    <testcase name=\"\(escape(check.name))\" classname=\"\(escape("\(report.recipe).\(layer.displayName).\(check.category)"))\" time=\"\(seconds(check.seconds))\""
                if check.passed {
                    xml += open + "/>\n"
                } else {
                    xml += open + ">\n"
                    let body = ([check.message] + check.details).joined(separator: "\n")
                    xml += "      <failure message=\"\(escape(check.message))\" type=\"\(escape(check.category))\">\(escape(body))</failure>\n"
                    xml += "    </testcase>\n"
                }
            }
            xml += "  </testsuite>\n"
        }
        xml += "</testsuites>\n"
        return xml
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", max(0, value)) }

    /// XML text and attribute escaping; characters XML 1.0 cannot hold are dropped.
    static func escape(_ text: String) -> String {
        var output = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            case "\n", "\r", "\t": output.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value): continue
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output
    }
}
