import Foundation

/// One message of the engine's build stream, decoded from its newline-delimited JSON.
public enum BuildMessage: Sendable, Equatable {
    /// Classic builder text: `Step 2/7 : RUN …`, ` ---> Running in …`, and RUN output.
    case output(String)
    /// Progress of a pull or similar, with its id.
    case status(String, id: String?)
    /// The built image (`aux.ID` from the classic builder, `moby.image.id` from BuildKit).
    case imageID(String)
    /// BuildKit's progress (`moby.buildkit.trace`), decoded.
    case trace(BuildKitStatus)
    /// The build failed; both builders stream this under HTTP 200.
    case error(String, code: Int?)
}

/// Splits a byte stream into lines (on `\n`, dropping a `\r` before it) and decodes each as a
/// JSON stream message.
public struct JSONLineDecoder: Sendable {
    private var pending: [UInt8] = []

    public init() {}

    public mutating func feed(_ chunk: [UInt8]) -> [BuildMessage] {
        pending.append(contentsOf: chunk)
        var messages: [BuildMessage] = []
        var start = 0
        while let newline = pending[start...].firstIndex(of: 0x0A) {
            var end = newline
            if end > start, pending[end - 1] == 0x0D { end -= 1 }
            if end > start, let message = Self.decode(Array(pending[start..<end])) { messages.append(message) }
            start = newline + 1
        }
        pending.removeFirst(start)
        return messages
    }

    /// Whatever is left after the stream ends (a last line without a newline).
    public mutating func finish() -> [BuildMessage] {
        defer { pending = [] }
        let rest = pending.drop { $0 == 0x20 || $0 == 0x0D }
        guard !rest.isEmpty, let message = Self.decode(Array(rest)) else { return [] }
        return [message]
    }

    struct Raw: Decodable {
        var stream: String?
        var status: String?
        var id: String?
        var error: String?
        var errorDetail: ErrorDetail?
        var aux: Aux?

        struct ErrorDetail: Decodable {
            var code: Int?
            var message: String?
        }

        enum Aux: Decodable {
            case object(id: String?)
            case text(String)

            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self = .text(text)
                } else {
                    struct Object: Decodable { var ID: String? }
                    self = .object(id: try container.decode(Object.self).ID)
                }
            }
        }
    }

    static func decode(_ line: [UInt8]) -> BuildMessage? {
        guard let raw = try? JSONDecoder().decode(Raw.self, from: Data(line)) else {
            return .output(String(decoding: line, as: UTF8.self) + "\n")
        }
        if raw.error != nil || raw.errorDetail != nil {
            return .error(raw.errorDetail?.message ?? raw.error ?? "unknown error", code: raw.errorDetail?.code)
        }
        switch raw.aux {
        case .object(let id?)?:
            return .imageID(id)
        case .text(let base64)? where raw.id == "moby.buildkit.trace":
            guard let data = Data(base64Encoded: base64), let status = try? BuildKitStatus(protobuf: Array(data)) else { return nil }
            return .trace(status)
        default:
            break
        }
        if let stream = raw.stream { return .output(stream) }
        if let status = raw.status { return .status(status, id: raw.id) }
        return nil
    }
}
