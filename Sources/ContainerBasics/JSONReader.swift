/// Reads a JSON document piece by piece, without building the whole tree: for large documents
/// of a known shape (a layer index of tens of thousands of entries), whose values go straight
/// into the reader's own types. Anything unexpected throws, as ``JSONValue/init(parsing:)`` does.
public struct JSONReader {
    private var parser: JSONParser

    public init(bytes: [UInt8]) { parser = JSONParser(bytes: bytes) }

    /// The next value is `null` (consumed), or not (left).
    public mutating func readNull() throws(JSONValue.DecodeError) -> Bool {
        parser.skipWhitespace()
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "n") else { return false }
        try parser.expect("null")
        return true
    }

    public mutating func readString() throws(JSONValue.DecodeError) -> String {
        parser.skipWhitespace()
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else { throw parser.fail("expected a string") }
        return try parser.parseString()
    }

    public mutating func readOptionalString() throws(JSONValue.DecodeError) -> String? {
        try readNull() ? nil : try readString()
    }

    public mutating func readInt() throws(JSONValue.DecodeError) -> Int64 {
        guard case .int(let value) = try parser.parseValue(depth: 1) else { throw parser.fail("expected an integer") }
        return value
    }

    /// The next value as a tree (for small parts of a large document).
    public mutating func readValue() throws(JSONValue.DecodeError) -> JSONValue {
        try parser.parseValue(depth: 1)
    }

    /// Reads an array: `element` is called for each element and must read it whole.
    public mutating func readArray(_ element: (inout JSONReader) throws(JSONValue.DecodeError) -> Void) throws(JSONValue.DecodeError) {
        parser.skipWhitespace()
        try parser.expect("[")
        parser.skipWhitespace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "]") {
            parser.index += 1
            return
        }
        while true {
            try element(&self)
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count else { throw parser.fail("unterminated array") }
            if parser.bytes[parser.index] == UInt8(ascii: ",") {
                parser.index += 1
                continue
            }
            try parser.expect("]")
            return
        }
    }

    /// Reads an object: `member` is called with each key and must read its value whole.
    public mutating func readObject(_ member: (inout JSONReader, String) throws(JSONValue.DecodeError) -> Void) throws(JSONValue.DecodeError) {
        parser.skipWhitespace()
        try parser.expect("{")
        parser.skipWhitespace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "}") {
            parser.index += 1
            return
        }
        while true {
            let key = try readString()
            parser.skipWhitespace()
            try parser.expect(":")
            try member(&self, key)
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count else { throw parser.fail("unterminated object") }
            if parser.bytes[parser.index] == UInt8(ascii: ",") {
                parser.index += 1
                continue
            }
            try parser.expect("}")
            return
        }
    }

    /// The document was read to its end (only whitespace is left).
    public mutating func finish() throws(JSONValue.DecodeError) {
        parser.skipWhitespace()
        guard parser.index == parser.bytes.count else { throw parser.fail("trailing characters") }
    }
}
