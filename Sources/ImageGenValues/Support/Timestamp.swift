import Foundation

/// Times as imagegen writes them: RFC 3339, UTC, whole seconds (`2026-12-07T16:59:00Z`).
public enum Timestamp {
    public static func rfc3339(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
