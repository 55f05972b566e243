import ContainerBasics
import Foundation

/// `POST /build`, with the context streamed as the connection takes it.
extension DockerEngine {
    // MARK: - Build

    /// Starts a build with `context` (a tar, streamed as the connection takes it) and returns
    /// the engine's messages as they arrive. Errors before the stream starts (a bad Dockerfile
    /// for the classic builder, bad parameters) are thrown; errors during the build arrive as
    /// ``BuildMessage/error(_:code:)``.
    public func build(context: ChunkSequence, parameters: BuildParameters) async throws -> BuildMessageStream {
        var query: [(String, String)] = [
            ("dockerfile", parameters.dockerfile), ("rm", "1"), ("forcerm", "1"),
            ("q", "0"), ("pull", "0"), ("version", parameters.builder.rawValue),
        ]
        if !parameters.tag.isEmpty { query.insert(("t", parameters.tag), at: 0) }
        if !parameters.buildArgs.isEmpty { query.append(("buildargs", Self.json(parameters.buildArgs))) }
        if !parameters.labels.isEmpty { query.append(("labels", Self.json(parameters.labels))) }
        if parameters.noCache { query.append(("nocache", "1")) }
        if let platform = parameters.platform { query.append(("platform", platform)) }
        query += parameters.limits.query
        let request = EngineRequest(
            "POST", "/build", query: query,
            body: .stream(context, contentType: "application/x-tar", length: nil), timeoutSeconds: nil)
        let response = try await call(request, as: "build")
        return BuildMessageStream(body: response.body)
    }
}
