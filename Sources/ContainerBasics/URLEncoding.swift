/// Percent-encoding for paths and queries (RFC 3986 unreserved characters pass through).
package enum URLEncoding {
    private static let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)

    package static func encode(_ text: String, keeping extra: Set<UInt8> = []) -> String {
        var output = ""
        for byte in text.utf8 {
            if unreserved.contains(byte) || extra.contains(byte) {
                output.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                output += "%" + String(byte, radix: 16, uppercase: true).leftPad(2)
            }
        }
        return output
    }

    /// A path segment that may hold `/` and `:` (image names route as `{name:.*}` in the engine).
    package static func pathSegment(_ text: String) -> String { encode(text, keeping: Set("/:@".utf8)) }

    package static func query(_ items: [(String, String)]) -> String {
        items.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

}

extension String {
    package func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
