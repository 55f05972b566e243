/// BuildKit's `StatusResponse` (moby/buildkit `api/services/control/control.proto`), decoded
/// from the protobuf bytes the engine wraps in `moby.buildkit.trace` messages.
///
/// A hand-written decoder for the fields imagegen shows (vertex names, cached/started/completed
/// state, errors, and logs): it keeps the package free of swift-protobuf and its generated code
/// for ten fields, and skips every other field by its wire type, so newer BuildKit versions that
/// add fields still decode.
public struct BuildKitStatus: Sendable, Equatable {
    public struct Vertex: Sendable, Equatable {
        public var digest: String = ""
        public var name: String = ""
        public var cached = false
        public var started = false
        public var completed = false
        public var error: String = ""
    }

    public struct Log: Sendable, Equatable {
        public var vertex: String = ""
        /// 1 stdout, 2 stderr.
        public var stream: Int64 = 0
        public var message: [UInt8] = []
    }

    public var vertexes: [Vertex] = []
    public var logs: [Log] = []

    public init() {}

    public struct DecodeError: Error, Sendable {}

    public init(protobuf bytes: [UInt8]) throws {
        var reader = ProtobufReader(bytes[...])
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let body)): vertexes.append(try Self.vertex(body))
            case (3, .bytes(let body)): logs.append(try Self.log(body))
            default: break
            }
        }
    }

    private static func vertex(_ bytes: ArraySlice<UInt8>) throws -> Vertex {
        var vertex = Vertex()
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let text)): vertex.digest = String(decoding: text, as: UTF8.self)
            case (3, .bytes(let text)): vertex.name = String(decoding: text, as: UTF8.self)
            case (4, .varint(let flag)): vertex.cached = flag != 0
            case (5, .bytes): vertex.started = true
            case (6, .bytes): vertex.completed = true
            case (7, .bytes(let text)): vertex.error = String(decoding: text, as: UTF8.self)
            default: break
            }
        }
        return vertex
    }

    private static func log(_ bytes: ArraySlice<UInt8>) throws -> Log {
        var log = Log()
        var reader = ProtobufReader(bytes)
        while let (field, value) = try reader.next() {
            switch (field, value) {
            case (1, .bytes(let text)): log.vertex = String(decoding: text, as: UTF8.self)
            case (3, .varint(let stream)): log.stream = Int64(bitPattern: stream)
            case (4, .bytes(let message)): log.message = Array(message)
            default: break
            }
        }
        return log
    }
}

/// Protobuf wire-format reading: tags, varints, length-delimited fields; fixed-width fields are
/// skipped.
struct ProtobufReader {
    enum Value { case varint(UInt64), bytes(ArraySlice<UInt8>), skipped }

    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func next() throws -> (Int, Value)? {
        guard !bytes.isEmpty else { return nil }
        let key = try varint()
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: return (field, .varint(try varint()))
        case 1: try skip(8); return (field, .skipped)
        case 2:
            let length = try varint()
            guard length <= UInt64(bytes.count) else { throw BuildKitStatus.DecodeError() }
            let body = bytes.prefix(Int(length))
            bytes = bytes.dropFirst(Int(length))
            return (field, .bytes(body))
        case 5: try skip(4); return (field, .skipped)
        default: throw BuildKitStatus.DecodeError()
        }
    }

    private mutating func skip(_ count: Int) throws {
        guard bytes.count >= count else { throw BuildKitStatus.DecodeError() }
        bytes = bytes.dropFirst(count)
    }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard shift < 64 else { throw BuildKitStatus.DecodeError() }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw BuildKitStatus.DecodeError()
    }
}
