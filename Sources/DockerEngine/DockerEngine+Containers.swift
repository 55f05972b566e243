import ContainerBasics
import Foundation

/// Containers: create, start, wait, kill, logs, archive, remove (the probes and tests use them).
extension DockerEngine {
    // MARK: - Containers

    public func createContainer(_ spec: ContainerSpec, name: String? = nil) async throws -> String {
        struct Created: Decodable { var Id: String }
        var query: [(String, String)] = []
        if let name { query.append(("name", name)) }
        let request = EngineRequest(
            "POST", "/containers/create", query: query,
            body: .bytes(Array(Self.json(spec).utf8), contentType: "application/json"))
        return try await decode(Created.self, request, as: "container-create").Id
    }

    public func startContainer(_ id: String) async throws {
        try await discard(EngineRequest("POST", "/containers/\(URLEncoding.pathSegment(id))/start"), as: "container-start")
    }

    /// Waits for the container to stop; `timeoutSeconds` nil waits as long as it takes.
    public func waitContainer(_ id: String, timeoutSeconds: Int64? = nil) async throws -> ContainerExit {
        try await decode(ContainerExit.self, EngineRequest("POST", "/containers/\(URLEncoding.pathSegment(id))/wait", timeoutSeconds: timeoutSeconds), as: "container-wait")
    }

    public func killContainer(_ id: String) async throws {
        try await discard(EngineRequest("POST", "/containers/\(URLEncoding.pathSegment(id))/kill"), as: "container-kill")
    }

    /// The container's stdout and stderr, separated from the engine's multiplexed stream.
    public func logs(_ id: String, limit: Int = 4 << 20) async throws -> (stdout: [UInt8], stderr: [UInt8]) {
        let response = try await call(
            EngineRequest(
                "GET", "/containers/\(URLEncoding.pathSegment(id))/logs",
                query: [("stdout", "1"), ("stderr", "1")]), as: "container-logs")
        var demultiplexer = LogDemultiplexer(limit: limit)
        for try await chunk in response.body { demultiplexer.feed(chunk) }
        return (demultiplexer.stdout, demultiplexer.stderr)
    }

    /// A path in the container's file system, as a tar stream.
    public func archive(_ id: String, path: String) async throws -> ChunkSequence? {
        do {
            return try await call(
                EngineRequest("GET", "/containers/\(URLEncoding.pathSegment(id))/archive", query: [("path", path)], timeoutSeconds: nil),
                as: "container-archive"
            ).body
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    /// A container's name, labels and creation time; nil when there is none by that name or ID.
    public func inspectContainer(_ id: String) async throws -> ContainerInspect? {
        do {
            return try await decode(ContainerInspect.self, EngineRequest("GET", "/containers/\(URLEncoding.pathSegment(id))/json"), as: "container-inspect")
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    public func removeContainer(_ id: String, force: Bool = true) async throws {
        do {
            try await discard(
                EngineRequest("DELETE", "/containers/\(URLEncoding.pathSegment(id))", query: [("force", force ? "1" : "0"), ("v", "1")]),
                as: "container-remove")
        } catch let error as DockerEngineError where error.isNotFound {
            return
        }
    }
}
