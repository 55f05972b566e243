import Foundation
import ContainerBasics

/// The labels whose values the OCI image annotations spec fixes, and their shapes. `validate`
/// checks the recipe's labels with these rules, `verify` the built image's.
extension ImageLabels.OCI {
    /// What is wrong with a label whose meaning the spec (or imagegen) fixes, or nil.
    public static func problem(_ key: String, _ value: String) -> String? {
        switch key {
        case ImageLabels.OCI.version:
            return (try? SemVer(parsing: value)) == nil ? "\(key) '\(value)' is not a semantic version (e.g. 1.4.2)" : nil
        case ImageLabels.OCI.created:
            return isRFC3339(value) ? nil : "\(key) '\(value)' is not an RFC 3339 date-time (e.g. 2026-12-01T12:00:00Z)"
        case ImageLabels.OCI.revision:
            let hex = value.allSatisfy(\.isHexDigit) && (7...64).contains(value.count)
            return hex ? nil : "\(key) '\(value)' is not a commit hash"
        case ImageLabels.OCI.source, ImageLabels.OCI.url, ImageLabels.OCI.documentation:
            guard let url = URL(string: value), let scheme = url.scheme, ["http", "https", "git", "ssh"].contains(scheme), url.host != nil else {
                return "\(key) '\(value)' is not a URL (e.g. https://example.com/project)"
            }
            return nil
        case ImageLabels.contentHash:
            return value.count == 64 && value.allSatisfy(\.isHexDigit) ? nil : "\(key) '\(value)' is not a content hash"
        default:
            return nil
        }
    }

    public static func isRFC3339(_ value: String) -> Bool {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if formatter.date(from: value) != nil { return true }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: value) != nil
    }
}
