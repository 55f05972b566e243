import Crypto
import Foundation

extension Sequence where Element == UInt8 {
    /// Lowercase hexadecimal.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for byte in self {
            bytes.append(digits[Int(byte >> 4)])
            bytes.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// SHA-256 of bytes, as lowercase hex.
public func sha256Hex(_ bytes: some DataProtocol) -> String {
    SHA256.hash(data: bytes).hexString
}

public func sha256Hex(_ text: String) -> String {
    sha256Hex(Array(text.utf8))
}

extension Digest {
    /// The SHA-256 digest of `bytes`.
    public static func sha256(of bytes: some DataProtocol) -> Digest {
        // A SHA-256 hex is always a valid digest.
        try! Digest(parsing: "sha256:" + sha256Hex(bytes))
    }
}
