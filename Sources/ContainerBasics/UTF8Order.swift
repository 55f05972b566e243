import Foundation

/// Byte order of two strings' UTF-8 (what tar entry order and canonical JSON need), by memcmp on
/// their contiguous storage; `String`'s own `<` compares Unicode-canonically and is far slower.
@inline(__always)
public func utf8Precedes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let common = Swift.min(x.count, y.count)
            if common > 0, let px = x.baseAddress, let py = y.baseAddress {
                let order = memcmp(px, py, common)
                if order != 0 { return order < 0 }
            }
            return x.count < y.count
        }
    }
}
