import ContainerBasics
/// A size in bytes parsed from text like `200MB`, `1.5GiB` or `4096`.
///
/// Decimal units (kB, MB, GB, TB) are powers of 1000 and binary units (KiB, MiB, GiB, TiB) powers
/// of 1024, as the SI and IEC define them; the unit's letters are case-insensitive, so `200mb` is
/// 200 MB. A bare number is bytes.
public struct ByteSize: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var bytes: Int64

    public init(bytes: Int64) { self.bytes = bytes }

    private static let units: [String: Double] = [
        "": 1, "b": 1,
        "k": 1000, "kb": 1000, "m": 1_000_000, "mb": 1_000_000, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
        "kib": 1024, "mib": 1_048_576, "gib": 1_073_741_824, "tib": 1_099_511_627_776,
    ]

    public init(parsing text: String) throws(ValueError) {
        let trimmed = text.trimmingWhitespace()
        let numberPart = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unitPart = trimmed.dropFirst(numberPart.count).trimmingWhitespace().lowercased()
        guard !numberPart.isEmpty, numberPart.first != ".", numberPart.last != ".",
            numberPart.filter({ $0 == "." }).count <= 1,
            let number = Double(numberPart), let factor = Self.units[unitPart]
        else { throw .size(text) }
        let value = (number * factor).rounded()
        guard value.isFinite, value < Double(Int64.max) else { throw .size(text) }
        bytes = Int64(value)
    }

    /// Human form with a binary unit, e.g. `187.3 MiB`.
    public var description: String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while abs(value) >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes) B" }
        let rounded = (value * 10).rounded() / 10
        return "\(rounded) \(units[index])"
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }
}
